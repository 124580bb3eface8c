"""The landing zone: every response page, exactly as received, in files.

Layout: <root>/<platform>/<account folder>/dt=<date>/run=<interval>_<started>_<random>/
page-<n>.json, plus a `_manifest.json` per run written last. Every extract run writes a
folder of its own, named for the data interval it covers (its end), when it started and a
random part: two runs of one night, overlapping or not, never delete or overwrite each
other's pages. The loader inserts a message only when its id is new, so running a night
again adds no raw row; the new run is a run of its own in ops.* (and its own balanced books).
A page is there whole or not at all: on a local disk it is written under a temporary name
and renamed; in object storage (s3://, gs://, az://) one PUT is atomic by itself, while a
"rename" there is a copy and a delete that would leave temporary objects visible, so each
page is one direct write. The root is a local path or an fsspec URL (object storage), so
extract tasks on other hosts write to the same place.

Why files and not DuckDB: extract tasks run in parallel, maybe on different workers, and
DuckDB allows one writer; the files also keep every raw payload, so any model can be
rebuilt without calling an API again, and a crash between extract and load loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import fsspec

from ingest.pages import ExtractRequest, ExtractResult, PageSource

MANIFEST_NAME = "_manifest.json"
_UNSAFE_PATH_CHARACTERS = re.compile(r"[^A-Za-z0-9._=-]+")
_FOLDER_SAFE = re.compile(r"[A-Za-z0-9_-]")


def _path_part(value: str) -> str:
    """Airflow run ids carry ':' and '+'; object stores and shells are happier without."""
    return _UNSAFE_PATH_CHARACTERS.sub("_", value)


def account_folder(account: str) -> str:
    """The folder name of one account: every byte outside [A-Za-z0-9_-] as %XX.

    Injective (`%` itself is escaped), so no two accounts share a folder (`Acme Brand` is
    `Acme%20Brand`, `Acme_Brand` stays), and never `.`, `..` or a path separator, so an
    account's pages always land inside its platform folder.
    """
    if not account:
        raise ValueError("an account name is empty: it has no landing folder")
    return "".join(
        character if _FOLDER_SAFE.fullmatch(character) else _escape(character)
        for character in account
    )


def _escape(character: str) -> str:
    return "".join(f"%{byte:02X}" for byte in character.encode("utf-8"))


@dataclass
class LandedPage:
    file: str  # relative to the run folder, so the zone can move
    endpoint: str
    bytes: int
    sha256: str


@dataclass
class Manifest:
    """What one extract run wrote. `complete` is false when the run stopped early.

    Watermarks are taken from complete runs only: an interrupted newest-first pagination
    must not move since_id past posts it never fetched.
    """

    platform: str
    account: str
    source: str
    run_id: str  # the orchestrator's run id, for tracing; the folder is named for `until`
    dt: str
    until: str  # end of the data interval this run covers (ISO 8601, UTC)
    started_at: str
    finished_at: str | None = None
    complete: bool = False
    error: str | None = None
    requests: int = 0
    pages: list[LandedPage] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)
    ceilings: list[str] = field(default_factory=list)
    since_ids: dict[str, str] = field(default_factory=dict)  # the watermarks it started from
    # per endpoint: requests, pages, posts ... (the fields of ingest.pages.EndpointCounts)
    endpoints: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, body: bytes) -> Manifest:
        document: dict[str, Any] = json.loads(body)
        document["pages"] = [LandedPage(**page) for page in document.get("pages", [])]
        return cls(**document)


class LandingZone:
    def __init__(self, root: str, storage_options: Mapping[str, Any] | None = None):
        """`storage_options` go to the fsspec filesystem (credentials, endpoint); they are
        kept by the filesystem only, never in a path, a manifest or a message."""
        self.root = root.rstrip("/")
        self.fs, self._root_path = fsspec.core.url_to_fs(self.root, **(storage_options or {}))
        self.protocol = (
            self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        )

    @property
    def is_local(self) -> bool:
        return self.protocol in ("file", "local")

    def url(self, path: str) -> str:
        """The address DuckDB and other readers use for a path inside this zone."""
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def run_dir(self, platform: str, account: str, until: datetime) -> str:
        """A new folder for one extract run: the night it covers, when it started, and a
        random part, so two runs of the same night (a retry beside a slow run, a person
        beside the scheduler) never write into, or clear, each other's folder."""
        until = until.astimezone(UTC)
        started = datetime.now(UTC)
        return "/".join(
            [
                self._root_path,
                _path_part(platform),
                account_folder(account),
                f"dt={until.date().isoformat()}",
                f"run={until:%Y%m%dT%H%M%SZ}_{started:%Y%m%dT%H%M%SZ}_{uuid.uuid4().hex[:8]}",
            ]
        )

    def _write_whole(self, path: str, body: bytes) -> None:
        if not self.is_local:
            self.fs.pipe_file(path, body)  # one PUT (or multipart upload): visible whole
            return
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        with self.fs.open(temporary, "wb") as handle:
            handle.write(body)
        self.fs.mv(temporary, path)

    def write_page(self, run_dir: str, number: int, endpoint: str, body: bytes) -> LandedPage:
        self.fs.makedirs(run_dir, exist_ok=True)
        name = f"page-{number:05d}.json"
        self._write_whole(f"{run_dir}/{name}", body)
        return LandedPage(name, endpoint, len(body), hashlib.sha256(body).hexdigest())

    def write_manifest(self, run_dir: str, manifest: Manifest) -> str:
        self.fs.makedirs(run_dir, exist_ok=True)
        path = f"{run_dir}/{MANIFEST_NAME}"
        self._write_whole(path, manifest.to_json())
        return path

    def manifest_paths(self) -> list[str]:
        # Extracts on other machines wrote since this process last listed the store.
        self.fs.invalidate_cache()
        return sorted(self.fs.glob(f"{self._root_path}/*/*/dt=*/run=*/{MANIFEST_NAME}"))

    def read(self, path: str) -> bytes:
        with self.fs.open(path, "rb") as handle:
            return handle.read()


def extract_to_landing(
    source: PageSource,
    request: ExtractRequest,
    landing: LandingZone,
    run_id: str,
    source_name: str,
) -> Manifest:
    """Pull every page for one (platform, account) into the landing zone.

    The manifest is written last, also when the source fails part way: what landed is
    listed (and will be loaded, with broken pages kept in ops.rejects), then the error is
    raised so the task fails visibly.
    """
    run_dir = landing.run_dir(request.platform, request.account, request.until)
    result = ExtractResult(watermarks=dict(request.since_ids))
    manifest = Manifest(
        platform=request.platform,
        account=request.account,
        source=source_name,
        run_id=run_id,
        dt=request.until.astimezone(UTC).date().isoformat(),
        until=request.until.astimezone(UTC).isoformat(),
        started_at=_now(),
        since_ids=dict(request.since_ids),
    )
    pages: Iterator = source.pages(request, result)
    try:
        for number, page in enumerate(pages, start=1):
            manifest.pages.append(landing.write_page(run_dir, number, page.endpoint, page.body))
    except Exception as exc:
        manifest.error = f"{type(exc).__name__}: {exc}"
        raise
    else:
        manifest.complete = True
        manifest.watermarks = dict(result.watermarks)
    finally:
        manifest.requests = result.requests
        manifest.ceilings = list(result.ceilings)
        manifest.endpoints = {name: asdict(counts) for name, counts in result.endpoints.items()}
        manifest.finished_at = _now()
        landing.write_manifest(run_dir, manifest)
    return manifest


def _now() -> str:
    return datetime.now(UTC).isoformat()
