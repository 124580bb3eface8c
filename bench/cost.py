"""`make bench-cost`: what X reads cost a night, before and after the bounded strategy.

    python -m bench.cost [--nights 14] [--workdir data/bench-cost]

Runs the same simulated nights twice per organisation, once per read strategy
(ingest/x/thread_plan.py): "rescan", the strategy before issue 17, and "bounded", the
default. Each night is the pipeline's own plan, extract (the simulated X API, billing as X
does) and load into a fresh DuckDB file; then, from the ledger, the night's billable
reads as X bills them (each post and user once per UTC day across the org's accounts:
siloscope.costs), the new posts stored (raw.x_posts) and reads per new post; beside them
the sum of the runs' own counts (ops.extract_endpoints.billable_reads: each run alone).
Two organisations: the example (config/acme.yaml) and a larger one (20 accounts, 10x the
traffic). Night 1 backfills; nights 2.. are the steady state. The table goes to stdout,
the figures to bench/results.json under "cost".
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from siloscope import pipeline
from siloscope.config import OrgConfig, load_config
from siloscope.costs import reads_by_night
from siloscope.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
STRATEGIES = ("rescan", "bounded")
FIRST_NIGHT = datetime(2026, 11, 2, tzinfo=UTC)
# The targets of issue 17: billable reads per new post stored.
TARGET_STEADY = 1.5
TARGET_BACKFILL = 2.0


@dataclass(frozen=True)
class Night:
    until: datetime
    billable_reads: int  # as X bills the night
    new_posts: int
    runs_own_reads: int  # each run counted alone: cross-account reads twice

    @property
    def reads_per_new_post(self) -> float | None:
        return round(self.billable_reads / self.new_posts, 2) if self.new_posts else None


def large_config(example: OrgConfig) -> OrgConfig:
    """The example organisation grown to 20 X accounts (four per department) and ten
    times the conversations a day."""
    departments = []
    for department in example.departments:
        handle = department.accounts.x[0]
        handles = [handle] + [f"{handle[:12]}{n}" for n in range(2, 5)]
        accounts = department.accounts.model_copy(update={"x": handles})
        departments.append(department.model_copy(update={"accounts": accounts}))
    simulation = example.simulation.model_copy(
        update={"conversations_per_day": example.simulation.conversations_per_day * 10}
    )
    return example.model_copy(
        update={
            "organization": f"{example.organization} (large)",
            "departments": departments,
            "simulation": simulation,
        }
    )


def run_nights(
    config_path: Path,
    strategy: str,
    nights: int,
    workdir: Path,
    on_night: Callable[[Night], None] | None = None,
) -> list[Night]:
    """`nights` nightly extracts and loads of `config_path`'s X accounts into a fresh
    database in `workdir`, every target read with `strategy`."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = Settings.resolve(config_path, workdir / "siloscope.duckdb", str(workdir / "landing"))
    config = load_config(config_path)
    results = []
    for number in range(nights):
        until = FIRST_NIGHT + timedelta(days=number)
        stored_before = stored_posts(settings)
        for target in pipeline.plan_extract(settings, config, until, ("x",)):
            target = replace(target, read_strategy=strategy)
            pipeline.extract(settings, config, target, f"cost__{number}", until)
        pipeline.load(settings)
        with pipeline.connect(settings, read_only=True) as con:
            billed = sum(row.reads for row in reads_by_night(con) if row.until == until)
            (own,) = con.execute(
                "select coalesce(sum(billable_reads), 0) from ops.extract_endpoints "
                "where platform = 'x' and until = ?",
                [until],
            ).fetchone()
        night = Night(until, billed, stored_posts(settings) - stored_before, int(own))
        results.append(night)
        if on_night:
            on_night(night)
    return results


def stored_posts(settings: Settings) -> int:
    if not settings.db_path.exists():
        return 0
    with pipeline.connect(settings, read_only=True) as con:
        (count,) = con.execute("select count(*) from raw.x_posts").fetchone()
    return int(count)


def stored_ids(workdir: Path) -> set[str]:
    """Every post id a run of `run_nights` stored in `workdir`."""
    settings = Settings.resolve(None, workdir / "siloscope.duckdb", str(workdir / "landing"))
    with pipeline.connect(settings, read_only=True) as con:
        return {post_id for (post_id,) in con.execute("select id from raw.x_posts").fetchall()}


def summary(nights: list[Night]) -> dict[str, Any]:
    steady = nights[1:]
    steady_reads = sum(n.billable_reads for n in steady)
    steady_posts = sum(n.new_posts for n in steady)
    return {
        "backfill_reads_per_new_post": nights[0].reads_per_new_post,
        "steady_reads_per_new_post": (
            round(steady_reads / steady_posts, 2) if steady_posts else None
        ),
        "worst_steady_night": max(
            (n.reads_per_new_post for n in steady if n.reads_per_new_post), default=None
        ),
        "billable_reads": sum(n.billable_reads for n in nights),
        "new_posts": sum(n.new_posts for n in nights),
    }


def measure_org(name: str, config_path: Path, nights: int, workdir: Path) -> dict[str, Any]:
    by_strategy: dict[str, list[Night]] = {}
    for strategy in STRATEGIES:
        print(f"{name}: {strategy} ...", flush=True)
        by_strategy[strategy] = run_nights(config_path, strategy, nights, workdir / strategy)
    rescan_ids = stored_ids(workdir / "rescan")
    bounded_ids = stored_ids(workdir / "bounded")
    return {
        "config": str(
            config_path.relative_to(ROOT) if config_path.is_relative_to(ROOT) else config_path
        ),
        "nights": [
            {
                "night": number + 1,
                "until": by_strategy["rescan"][number].until.date().isoformat(),
                **{
                    strategy: {
                        "billable_reads": by_strategy[strategy][number].billable_reads,
                        "new_posts": by_strategy[strategy][number].new_posts,
                        "reads_per_new_post": by_strategy[strategy][number].reads_per_new_post,
                        "runs_own_reads": by_strategy[strategy][number].runs_own_reads,
                    }
                    for strategy in STRATEGIES
                },
            }
            for number in range(nights)
        ],
        "summary": {strategy: summary(by_strategy[strategy]) for strategy in STRATEGIES},
        "coverage": {
            "rescan_posts": len(rescan_ids),
            "bounded_posts": len(bounded_ids),
            "stored_by_rescan_only": len(rescan_ids - bounded_ids),
        },
    }


def print_org(name: str, measured: dict[str, Any]) -> None:
    print(f"\n{name} ({measured['config']})")
    header = (
        "night",
        "reads before",
        "new posts",
        "per post",
        "reads after",
        "new posts",
        "per post",
    )
    rows = [header]
    for night in measured["nights"]:
        before, after = night["rescan"], night["bounded"]
        rows.append(
            (
                str(night["night"]) + (" (backfill)" if night["night"] == 1 else ""),
                f"{before['billable_reads']:,}",
                f"{before['new_posts']:,}",
                f"{before['reads_per_new_post']}",
                f"{after['billable_reads']:,}",
                f"{after['new_posts']:,}",
                f"{after['reads_per_new_post']}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    for strategy in STRATEGIES:
        figures = measured["summary"][strategy]
        print(
            f"{strategy}: backfill {figures['backfill_reads_per_new_post']} reads per new post, "
            f"nights 2-{len(measured['nights'])} {figures['steady_reads_per_new_post']} "
            f"(worst night {figures['worst_steady_night']}), "
            f"{figures['billable_reads']:,} reads for {figures['new_posts']:,} posts"
        )
    coverage = measured["coverage"]
    print(
        f"coverage: rescan stored {coverage['rescan_posts']:,} posts, bounded "
        f"{coverage['bounded_posts']:,}; stored by rescan only: {coverage['stored_by_rescan_only']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--nights", type=int, default=14)
    parser.add_argument("--workdir", default=str(ROOT / "data" / "bench-cost"))
    options = parser.parse_args(argv)
    logging.disable(logging.INFO)
    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    example_path = ROOT / "config" / "acme.yaml"
    large_path = workdir / "large.yaml"
    large = large_config(load_config(example_path))
    large_path.write_text(json.dumps(large.model_dump(mode="json"), indent=2) + "\n")
    measured = {
        "example": measure_org("example", example_path, options.nights, workdir / "example"),
        "large": measure_org("large", large_path, options.nights, workdir / "large"),
    }
    for name, figures in measured.items():
        print_org(name, figures)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["cost"] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "targets": {"steady": TARGET_STEADY, "backfill": TARGET_BACKFILL},
        **measured,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
