"""What Python reads of a TWCS file itself: its header, its digest, and line numbers.

DuckDB parses the rows, of a rewritten copy when the file mixes line endings, which stops
DuckDB's strict parser (`rewrite_as_read`). Its reject tables number *records* (a text
spanning three lines is one), while a user looking for a broken row needs the line in the
file, so `physical_lines` reads the file once more with Python's csv module, which splits
records as DuckDB's strict parser does, and returns where each wanted record starts.
That pass runs only when something was rejected.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TWCS_COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
# pandas writes its index as a first column named "" or "Unnamed: 0"
INDEX_COLUMN = "_index"

_CHUNK = 1 << 20
_HEADER_LIMIT = 64 * 1024

ProgressCallback = Callable[[float], None]


class TwcsFileError(ValueError):
    """The file cannot be imported as TWCS; the message names the file and what is wrong."""


@dataclass(frozen=True)
class TwcsLayout:
    """The columns of one file, in its order; INDEX_COLUMN when it has a leading index."""

    columns: tuple[str, ...]

    @property
    def has_index(self) -> bool:
        return self.columns[0] == INDEX_COLUMN


def read_layout(path: Path) -> TwcsLayout:
    """The file's header: the seven TWCS columns in any order, maybe after an index column."""
    try:
        with path.open("rb") as file:
            first = file.read(_HEADER_LIMIT)
    except OSError as exc:
        raise TwcsFileError(f"{path}: cannot read: {exc.strerror}") from exc
    line = first.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = next(csv.reader([line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError as exc:
        raise TwcsFileError(f"{path}: the header is not UTF-8 text") from exc
    names = [name.strip() for name in header]
    expected = ", ".join(TWCS_COLUMNS)
    if len(names) == len(TWCS_COLUMNS) + 1 and names[0] not in TWCS_COLUMNS:
        names[0] = INDEX_COLUMN
    missing = [c for c in TWCS_COLUMNS if c not in names]
    unknown = [n for n in names if n not in TWCS_COLUMNS and n != INDEX_COLUMN]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if unknown:
            problems.append(f"unexpected {unknown}")
        if repeated:
            problems.append(f"repeated {repeated}")
        raise TwcsFileError(
            f"{path}: not a TWCS file: the header has {'; '.join(problems)} "
            f"(expected {expected}, optionally after an index column)"
        )
    return TwcsLayout(tuple(names))


@dataclass(frozen=True)
class FileScan:
    sha256: str
    # a CR alone, or CRLF beside LF alone: DuckDB's strict parser stops on either
    mixed_line_endings: bool


def scan(path: Path, on_progress: ProgressCallback | None = None) -> FileScan:
    """The file's digest, and whether its line endings are mixed, in one read."""
    digest = hashlib.sha256()
    size = max(path.stat().st_size, 1)
    carriage_returns = crlf = bare_line_feeds = 0
    previous_ended_with_cr = False
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            # a file of LFs (the common case) costs two memchr per chunk; only a chunk
            # with a CR in it is counted
            returns = chunk.count(b"\r") if b"\r" in chunk else 0
            carriage_returns += returns
            if returns or previous_ended_with_cr:
                pairs = chunk.count(b"\r\n") + (previous_ended_with_cr and chunk[:1] == b"\n")
                crlf += pairs
                bare_line_feeds += chunk.count(b"\n") - pairs
            elif b"\n" in chunk:
                bare_line_feeds += 1  # at least one; only whether there are any matters
            previous_ended_with_cr = chunk[-1:] == b"\r"
            if on_progress:
                on_progress(file.tell() / size)
    bare_cr = carriage_returns - crlf
    return FileScan(digest.hexdigest(), bool(bare_cr or (crlf and bare_line_feeds)))


def rewrite_as_read(path: Path, into: Path, on_progress: ProgressCallback | None = None) -> None:
    """Writes the file's records to `into` as Python's csv module reads them, one per line.

    Outside quotes csv (and pandas) end a line at CR, CRLF or LF alike; DuckDB's strict
    parser stops the whole read at a bare CR, or at CRLF in a file of LFs. Rewritten, a
    line break outside quotes has ended its line, one inside quotes stays in its field
    (quoted), and every record keeps its place, so DuckDB's record numbers still point
    into the original file. Bytes that are not UTF-8 pass through unchanged, for DuckDB to
    refuse as before.
    """
    size = max(path.stat().st_size, 1)
    previous_limit = csv.field_size_limit()
    # an unterminated quote runs to the end of the file as one field, as DuckDB reads it
    csv.field_size_limit(max(size, previous_limit))
    try:
        with (
            path.open("rb") as binary,
            into.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out,
        ):
            text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
            # CRLF, not LF: the writer quotes a field holding any character of its line
            # terminator, and a CR left unquoted is what stopped DuckDB
            writer = csv.writer(out, lineterminator="\r\n")
            for number, record in enumerate(csv.reader(text, strict=False), start=1):
                writer.writerow(record)
                if on_progress and number % 10_000 == 0:
                    on_progress(binary.tell() / size)
    finally:
        csv.field_size_limit(previous_limit)


def physical_lines(
    path: Path,
    layout: TwcsLayout,
    records: Iterable[int],
    rows: Iterable[tuple[int, str | None]],
    on_progress: ProgressCallback | None = None,
) -> Iterator[tuple[str, int, int]]:
    """Yields ("record", number, line) and ("row", index, line): where each starts.

    `records`: ascending record numbers from DuckDB's reject table (the header is record
    1; a blank line is a record DuckDB skips). `rows`: ascending positions among the rows
    DuckDB did parse, each with its tweet_id as parsed, checked here to prove the two
    readers stayed in step. Both are consumed as the file is read, so memory stays flat
    however many rows were rejected.
    """
    wanted_records = iter(records)
    wanted_rows = iter(rows)
    next_record = next(wanted_records, None)
    next_row = next(wanted_rows, None)
    tweet_id_at = layout.columns.index("tweet_id")
    size = max(path.stat().st_size, 1)
    with path.open("rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=False)
        row_index = 0
        end_of_previous = 0  # the line the previous record ended on
        record = 0
        while next_record is not None or next_row is not None:
            record += 1
            start = end_of_previous + 1
            rejected = record == next_record
            if rejected:
                yield "record", record, start
                next_record = next(wanted_records, None)
                if next_record is None and next_row is None:
                    return
            try:
                fields = next(reader)
            except (StopIteration, csv.Error):
                # csv.Error: a field past the size limit after an unterminated quote,
                # which DuckDB refused as one record running to the end of the file
                break
            end_of_previous = reader.line_num
            if record == 1 or rejected or not fields:
                continue
            if next_row is not None and row_index == next_row[0]:
                parsed = next_row[1] or ""
                found = fields[tweet_id_at] if tweet_id_at < len(fields) else None
                if found != parsed:
                    raise RuntimeError(
                        f"{path}: line {start}: could not place rejected row {row_index} "
                        f"(DuckDB read tweet_id {parsed!r}, this pass {found!r})"
                    )
                yield "row", row_index, start
                next_row = next(wanted_rows, None)
            row_index += 1
            if on_progress and record % 10_000 == 0:
                on_progress(binary.tell() / size)
    if next_record is not None or next_row is not None:
        unplaced = next_record if next_record is not None else next_row
        raise RuntimeError(f"{path}: could not find the line of rejected row {unplaced}")
