"""Benchmark: import a generated TWCS-format file with `siloscope import twcs`.

    .venv/bin/python bench/twcs_import.py                 # 1,000,000 rows in a temp dir
    .venv/bin/python bench/twcs_import.py --rows 2811774 --dir /tmp/twcs-bench --keep
    .venv/bin/python bench/twcs_import.py --bare-cr-every 10000   # rows cut by bare CRs

Generates a file in the shape of the public "Customer Support on Twitter" dataset (about
180 bytes a row, like the 2.8M-row / 500 MB original) with the quirks of real copies: a
leading index column, ids written as floats, inbound as True/TRUE/False/FALSE, texts
spanning lines, quoted commas and quotes, mangled response_tweet_id, and a few broken
rows. The import, a second import of the same file and a build run as child processes,
each timed, with the peak resident memory the kernel reports for the child
(getrusage ru_maxrss). The file is never committed: it lives in a temp dir unless --dir.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.twcs.csv_file import TWCS_COLUMNS

REPO = Path(__file__).resolve().parents[1]
HEADER = ["", *TWCS_COLUMNS]  # with the index column pandas writes, as the Kaggle file has
ORG_ACCOUNTS = {"Care": "AcmeHelp", "Marketing": "Acme", "Sales": "AcmeSales"}
OTHER_COMPANIES = ["AppleSupport", "AmazonHelp", "Uber_Support", "SpotifyCares", "Delta"]
PHRASES = (
    "my order is late again",
    "nobody answers the phone",
    "can you help please",
    "the app crashes every time I open it",
    "I was charged twice",
    "where is my refund",
    "the tracking number does not work",
    "thanks for the quick reply",
    "still waiting on this",
    "please DM us your account email",
)
CONFIG = """organization: Acme
departments:
  - name: Care
    accounts:
      x: [AcmeHelp]
  - name: Marketing
    accounts:
      x: [Acme]
  - name: Sales
    accounts:
      x: [AcmeSales]
"""


def _text(rng: random.Random, mention: str) -> str:
    words = ", ".join(rng.choices(PHRASES, k=rng.randint(2, 4)))
    if rng.random() < 0.03:
        words = words.replace(" ", "\n", 2)  # a text spanning lines
    if rng.random() < 0.05:
        words += ' "quoted", too'
    return f"@{mention} {words}"


def _id(rng: random.Random, tweet_id: int) -> str:
    return f"{tweet_id}.0" if rng.random() < 0.1 else str(tweet_id)


def write_twcs_csv(path: Path, rows: int, seed: int = 1, bare_cr_every: int = 0) -> int:
    """Writes about `rows` rows in conversations of 2 to 6 tweets; returns rows written."""
    rng = random.Random(seed)
    start = datetime(2017, 10, 1, tzinfo=UTC)
    written = 0
    next_id = 1
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        while written < rows:
            customer = str(100_000 + rng.randrange(400_000))
            if rng.random() < 0.7:
                companies = [rng.choice(list(ORG_ACCOUNTS.values()))]
                if rng.random() < 0.15:
                    companies.append(rng.choice(list(ORG_ACCOUNTS.values())))
            else:
                companies = [rng.choice(OTHER_COMPANIES)]
            at = start + timedelta(seconds=rng.randrange(60 * 86_400))
            length = min(rng.randint(2, 6), rows - written)
            ids = list(range(next_id, next_id + length))
            next_id += length
            for position, tweet_id in enumerate(ids):
                inbound = position % 2 == 0
                author = customer if inbound else companies[(position // 2) % len(companies)]
                mention = companies[0] if inbound else customer
                inbound_text = rng.choice(["True", "TRUE"] if inbound else ["False", "FALSE"])
                at += timedelta(seconds=rng.randint(30, 3_600))
                replies = ",".join(str(i) for i in ids[position + 1 : position + 2])
                if replies and rng.random() < 0.02:
                    replies = f"{replies[:3]},{replies[3:]}"  # a spreadsheet's thousands mark
                parent = _id(rng, ids[position - 1]) if position else ""
                if written and written % 250_000 == 0:
                    file.write(f"{written},{tweet_id},{author},broken row\n")
                elif bare_cr_every and written % bare_cr_every == bare_cr_every // 2:
                    # a bare CR in unquoted text, as real copies have: the row is cut in two
                    file.write(
                        f"{written},{tweet_id},{author},{inbound_text},"
                        f"{at:%a %b %d %H:%M:%S +0000 %Y},@{mention} cut\rhere,,{parent}\n"
                    )
                else:
                    writer.writerow(
                        [
                            written,
                            _id(rng, tweet_id),
                            author,
                            inbound_text,
                            at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                            _text(rng, mention),
                            replies,
                            parent,
                        ]
                    )
                written += 1
    return written


def _child(label: str, argv: list[str]) -> None:
    """Runs argv as a child; prints its wall time and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        print(output)
        raise SystemExit(f"{label} failed with exit code {process.returncode}")
    peak_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    print(f"{label:<22} {seconds:8.1f} s   peak RSS {peak_mb:8.0f} MiB")
    for line in output.strip().splitlines():
        print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", help="where to write the file and the DuckDB file")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    parser.add_argument(
        "--bare-cr-every",
        type=int,
        default=0,
        metavar="N",
        help="cut every Nth row with a bare CR in unquoted text (real copies' quirk)",
    )
    args = parser.parse_args()

    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="siloscope-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"twcs-{args.rows}.csv"
    db_path = workdir / "bench.duckdb"
    config_path = workdir / "acme.yaml"
    config_path.write_text(CONFIG)
    db_path.unlink(missing_ok=True)
    try:
        started = time.perf_counter()
        written = write_twcs_csv(csv_path, args.rows, bare_cr_every=args.bare_cr_every)
        size_mb = csv_path.stat().st_size / 2**20
        print(
            f"generated {written:,} rows, {size_mb:,.0f} MiB in "
            f"{time.perf_counter() - started:.1f} s: {csv_path}"
        )
        siloscope = [sys.executable, "-m", "siloscope.cli"]
        common = ["--config", str(config_path), "--db", str(db_path)]
        _child("import", [*siloscope, "import", "twcs", str(csv_path), *common])
        _child("import again", [*siloscope, "import", "twcs", str(csv_path), *common])
        _child("build --window all", [*siloscope, "build", *common, "--window", "all"])
    finally:
        if not args.keep:
            for path in (csv_path, db_path, config_path, Path(f"{db_path}.lock")):
                path.unlink(missing_ok=True)
            shutil.rmtree(Path(f"{db_path}.tmp"), ignore_errors=True)
            if not args.dir:
                workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
