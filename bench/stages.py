"""The measured stages. Each runs alone in a fresh child process (`python -m bench.stages`).

A fresh process per stage gives each one a cold DuckDB and an honest peak memory: the
parent reads the child's ru_maxrss from wait4, so what is reported is the whole process,
interpreter and libraries included. The clock runs around the stage's work only
(connect to close, so DuckDB's final checkpoint counts); imports are left out, since a
nightly task pays them once whatever it loads.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# The floor: DuckDB alone, one statement. Each page file is one X API v2 response on one
# line, so newline-delimited is the format DuckDB reads fastest (in parallel); every page
# becomes one row with data, includes and meta parsed into typed columns (lists of
# structs): the whole page is parsed and stored, nothing validated, nothing deduplicated.
FLOOR_SQL = (
    "create table pages as "
    "select * from read_json(?, format = 'newline_delimited', filename = true)"
)


def _files(args: dict[str, Any]) -> list[str]:
    return Path(args["files"]).read_text().split("\n")


def _fresh(path: str) -> str:
    for stale in (Path(path), Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    return path


def floor(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    batches = [_files({"files": path}) for path in args.get("batches", [args["files"]])]
    started = time.perf_counter()
    con = duckdb.connect(_fresh(args["db"]))
    con.execute(FLOOR_SQL, [batches[0]])
    for files in batches[1:]:
        con.execute(
            FLOOR_SQL.replace("create table pages as", "insert into pages by name"), [files]
        )
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(args["db"], read_only=True) as con:
        [(messages,)] = con.execute("select sum(len(data)) from pages").fetchall()
    return {"seconds": seconds, "messages": int(messages)}


def load(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from ingest.landing import LandingZone
    from ingest.load import load_landing

    started = time.perf_counter()
    con = duckdb.connect(_fresh(args["db"]))
    reports = [
        load_landing(con, LandingZone(root)) for root in args.get("nights", [args["landing"]])
    ]
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(args["db"], read_only=True) as con:
        [(messages,)] = con.execute("select count(*) from raw.x_posts").fetchall()
    return {"seconds": seconds, "messages": int(messages), "report": reports[-1].describe()}


def peer_dlt(args: dict[str, Any]) -> dict[str, Any]:
    """dlt as its docs show it: a resource yielding each page's data records, one run."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no calls home
    import dlt
    import duckdb

    files = _files(args)

    @dlt.resource(name="x_posts")
    def x_posts() -> Iterator[list[dict[str, Any]]]:
        for file in files:
            with open(file, "rb") as handle:
                page = json.load(handle)
            yield page.get("data", [])

    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name="siloscope_bench",
        pipelines_dir=args["pipelines_dir"],
        destination=dlt.destinations.duckdb(_fresh(args["db"])),
        dataset_name="raw",
    )
    pipeline.run(x_posts())
    seconds = time.perf_counter() - started
    with duckdb.connect(args["db"], read_only=True) as con:
        [(messages,)] = con.execute("select count(*) from raw.x_posts").fetchall()
    return {"seconds": seconds, "messages": int(messages)}


def build(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from siloscope.config import load_config
    from transforms.build import BuildWindow, build_models

    config = load_config(args["config"])
    started = time.perf_counter()
    con = duckdb.connect(args["db"])
    report = build_models(con, config.for_models(), BuildWindow.everything())
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(args["db"], read_only=True) as con:
        [(messages,)] = con.execute(
            "select count(*) from intermediate.int_messages_unioned"
        ).fetchall()
    slowest = sorted(report.seconds_per_model.items(), key=lambda item: -item[1])[:5]
    return {
        "seconds": seconds,
        "messages": int(messages),
        "slowest_models": {name: round(s, 2) for name, s in slowest},
    }


def nightly(args: dict[str, Any]) -> dict[str, Any]:
    """The nightly run's two DuckDB steps, as the DAG calls them: load, then build."""
    from datetime import datetime

    from siloscope import pipeline
    from siloscope.config import load_config
    from siloscope.settings import Settings

    settings = Settings.resolve(args["config"], args["db"], args["landing"])
    config = load_config(settings.config_path)
    window = pipeline.nightly_window(config, datetime.fromisoformat(args["until"]))
    started = time.perf_counter()
    report = pipeline.load(settings)
    loaded = time.perf_counter()
    verdict = pipeline.build(settings, config, window)
    finished = time.perf_counter()
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "build_seconds": finished - loaded,
        "messages": report.records_loaded,
        "window": window.describe(),
        "verdict": verdict.get("verdict"),
        "engaged_conversations": verdict.get("engaged_conversations"),
    }


STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "floor": floor,
    "load": load,
    "peer_dlt": peer_dlt,
    "build": build,
    "nightly": nightly,
}


def main() -> None:
    stage, arguments, result_path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    result = STAGES[stage](arguments)
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
