"""Publishing while dashboards read: real reader processes query the published copy during
one publish after another, and must see the old or the new data, never an error or a mix.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from siloscope.publish import PublishRefused, publish
from tests.marts_fixture import build_database, messages, nightly_windows, org_config
from tests.staging_rows import UNIONED_MESSAGES
from transforms.build import BuildWindow, build_models

READER = Path(__file__).with_name("published_reader.py")
PUBLISHES = 10


class Reader:
    """One reader process and everything it printed, collected by a thread."""

    def __init__(self, root: Path, mode: str, stop_file: Path):
        self.mode = mode
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, str(READER), str(root), mode, str(stop_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            if line.strip() == "ready":
                self.ready.set()
            else:
                self.lines.append(line)

    def finish(self) -> tuple[list[list], list[str]]:
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._thread.join(timeout=10)
        records = [json.loads(line) for line in self.lines]
        errors = [r["error"] for r in records if "error" in r]
        if self.process.returncode != 0:
            errors.append(f"exited {self.process.returncode}: {self.process.stderr.read()}")
        return [r["seen"] for r in records if "seen" in r], errors


def marts_numbers(db: Path) -> tuple[int, int, int, int]:
    """What the readers count, counted in the working database the copy came from."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select (select count(*) from marts.conversations), "
            "(select count(*) from marts.org_verdict), "
            "(select sum(conversations) from marts.department_scorecard), "
            "(select count(*) from config.departments)"
        ).fetchone()


def publish_in_time(source: Path, root: Path):
    """Publish from a thread: a publish blocked by a reader must fail the test, not hang it."""
    outcome: dict = {}

    def run():
        try:
            outcome["publication"] = publish(source, root, "Acme")
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "publish did not finish while dashboards were reading"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["publication"]


def test_readers_see_the_old_or_the_new_copy_never_an_error_or_a_mix(tmp_path):
    old = build_database(tmp_path / "old.duckdb", messages(days=2))
    new = build_database(tmp_path / "new.duckdb", messages(days=5), windows=nightly_windows(3))
    numbers = {old: marts_numbers(old), new: marts_numbers(new)}
    assert numbers[old] != numbers[new]

    root = tmp_path / "published"
    first = publish(old, root, "Acme")
    source_of = {first.release: old}
    stop = tmp_path / "stop"
    readers = [Reader(root, mode, stop) for mode in ("fresh", "held", "parquet")]
    try:
        for reader in readers:
            assert reader.ready.wait(timeout=60), f"{reader.mode} reader never read: {reader.lines}"
        for n in range(PUBLISHES):
            source = new if n % 2 == 0 else old
            source_of[publish_in_time(source, root).release] = source
            if n == PUBLISHES // 2:
                # the nightly run writes its working database meanwhile; no reader holds it
                with duckdb.connect(str(old)) as con:
                    build_models(
                        con,
                        org_config().for_models(),
                        BuildWindow.everything(),
                        given=(UNIONED_MESSAGES,),
                    )
            time.sleep(0.05)
    finally:
        stop.touch()
        results = {reader.mode: reader.finish() for reader in readers}

    for mode, (seen, errors) in results.items():
        assert errors == [], f"{mode} reader: {errors[:3]}"
        print(f"{mode} reader: {len(seen)} queries during {PUBLISHES} publishes")

    fresh, _ = results["fresh"]
    sources_seen = set()
    for release, *counted in fresh:
        # the numbers are exactly those of the database that release was published from
        assert tuple(counted) == numbers[source_of[release]], release
        sources_seen.add(source_of[release])
    assert sources_seen == {old, new}, "the fresh reader never overlapped a switch"

    held, _ = results["held"]
    assert len(held) >= PUBLISHES
    assert {release for release, *_ in held} == {first.release}
    assert {tuple(counted) for _, *counted in held} == {numbers[old]}
    # its release was pruned under it: it kept reading the unlinked file
    assert not (root / "releases" / first.release).exists()

    parquet, _ = results["parquet"]
    whole = {db: n[:3] for db, n in numbers.items()}
    seen_parquet = set()
    for conversations, verdicts, engaged, through_stable_path in parquet:
        assert (conversations, verdicts, engaged) in whole.values()
        assert through_stable_path in {n[0] for n in numbers.values()}
        seen_parquet.add((conversations, verdicts, engaged))
    assert seen_parquet == set(whole.values()), "the Parquet reader never overlapped a switch"


def test_a_database_being_written_is_not_published(tmp_path):
    source = build_database(tmp_path / "work.duckdb", messages())
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "con.execute('begin transaction'); print('writing', flush=True); sys.stdin.read()",
            str(source),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        with pytest.raises(PublishRefused, match="being written by another process"):
            publish(source, tmp_path / "published", "Acme")
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert not (tmp_path / "published" / "current").exists()
