"""A night of N accounts on one Celery worker, then on two (a writer and an extract worker),
each time on a fresh stack (Postgres, Redis, moto S3, Airflow): prints the DAG run's wall
time and its extract phase (first extract started to last extract ended).

    .venv/bin/python -m bench.celery_workers --accounts 20 --concurrency 2

Not part of `make test`: it starts the stack twice and prints figures (README, "When one
machine is not enough"). Needs what `make test-scale` needs (redis-server).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.integration.celery_stack import (
    GENERAL_QUEUE,
    WRITER_QUEUE,
    Worker,
    celery_stack,
    run_seconds,
    simulated_organisation,
)

NIGHT = "2026-11-01"


def one_night(workers: list[Worker], accounts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="siloscope-bench-celery-") as folder:
        root = Path(folder)
        config = root / "siloscope.yaml"
        config.write_text(simulated_organisation(accounts))
        with celery_stack(root, config, workers) as cluster:
            run_id = f"bench__{NIGHT}"
            cluster.trigger(NIGHT, run_id)
            state = cluster.wait_for(run_id)
            if state != "success":
                raise SystemExit(f"the DAG run ended {state}:\n{cluster.describe(run_id)}")
            extracts = [t for t in cluster.task_instances(run_id) if t["task_id"] == "extract"]
            first = min(t["start_date"] for t in extracts)
            last = max(t["end_date"] for t in extracts)
            return {
                "workers": len(workers),
                "run_seconds": round(run_seconds(cluster, run_id), 1),
                "extract_seconds": round((last - first).total_seconds(), 1),
                "extracts_per_worker": {
                    w.hostname: sum(t["hostname"] == w.hostname for t in extracts) for w in workers
                },
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    args = parser.parse_args()
    writer = Worker("writer", (WRITER_QUEUE, GENERAL_QUEUE), args.concurrency)
    extractor = Worker("extractor", (GENERAL_QUEUE,), args.concurrency)
    figures = [one_night(workers, args.accounts) for workers in ([writer], [writer, extractor])]
    print(f"{args.accounts} accounts, {args.concurrency} task slots per worker")
    print("workers  DAG run  extract phase  extracts per worker")
    for row in figures:
        print(
            f"{row['workers']:>7}  {row['run_seconds']:>6.1f}s  {row['extract_seconds']:>12.1f}s"
            f"  {json.dumps(row['extracts_per_worker'])}"
        )


if __name__ == "__main__":
    main()
