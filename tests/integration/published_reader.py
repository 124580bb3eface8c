"""A dashboard stand-in: queries the published copy in a loop until a stop file appears.

    python published_reader.py ROOT MODE STOP_FILE

MODE fresh:   a new read-only connection per query (a BI tool's connection pool, cold)
MODE held:    one connection opened at the start and held to the end (a dashboard left open)
MODE parquet: the Parquet folders, resolved to one release per query, and one table read
              through the stable path

Prints one JSON line per query: {"seen": [...]} or {"error": "..."}; "ready" after the
first query that succeeded. Every table is read in the same statement, so a copy that mixed
two releases would show up as numbers that belong to neither.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb

DUCKDB_QUERY = """
select
    (select release from meta.publication),
    (select count(*) from marts.conversations),
    (select count(*) from marts.org_verdict),
    (select sum(conversations) from marts.department_scorecard),
    (select count(*) from config.departments)
"""


def parquet_query(folder: str) -> str:
    return (
        f"select (select count(*) from read_parquet('{folder}/conversations/*.parquet')), "
        f"(select count(*) from read_parquet('{folder}/org_verdict/*.parquet')), "
        f"(select sum(conversations) from read_parquet('{folder}/department_scorecard/*.parquet'))"
    )


def main(root: Path, mode: str, stop_file: Path) -> None:
    database = str(root / "siloscope.duckdb")
    held = duckdb.connect(database, read_only=True) if mode == "held" else None
    memory = duckdb.connect() if mode == "parquet" else None
    ready = False
    while not stop_file.exists():
        try:
            if mode == "fresh":
                with duckdb.connect(database, read_only=True) as con:
                    seen = list(con.execute(DUCKDB_QUERY).fetchone())
            elif mode == "held":
                seen = list(held.execute(DUCKDB_QUERY).fetchone())
            else:
                # resolve the link once: every table of this query from the same release
                release = os.path.realpath(root / "parquet")
                seen = list(memory.execute(parquet_query(release)).fetchone())
                stable = memory.execute(
                    f"select count(*) from read_parquet('{root}/parquet/conversations/*.parquet')"
                ).fetchone()[0]
                seen.append(stable)
            print(json.dumps({"seen": seen, "at": time.time()}, default=str), flush=True)
            if not ready:
                print("ready", flush=True)
                ready = True
        except Exception as exc:  # the test fails on any of these; report, keep going
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        # a breath between queries: the publisher shares the machine's two cores
        time.sleep(0.005)
    if held is not None:
        held.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
