"""`make bench`: N simulated messages landed as pages, then every stage timed on them.

    python -m bench --messages 100k|1M|10M [--skip-peer] [--workdir data/bench]

Stages, in one run and on the same files:
    floor            DuckDB alone: create table as select * from read_json(the page files)
    load             ingest.load.load_landing into a fresh DuckDB file
    peer_dlt         dlt loading the same pages' data records into DuckDB
    build            transforms.build.build_models, every model, on what load loaded
    nightly          load + build of one new night on top of the history (the N messages),
    night_alone      and the same night's load + build in a fresh DuckDB file

Generating the pages is not measured. The table goes to stdout; the figures, merged by N
with those of earlier runs, to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.landing import (
    BENCH_ACCOUNT,
    BenchPlan,
    bench_config,
    land_days,
    link_tree,
    write_config,
)
from siloscope.config import load_config

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
_SUFFIXES = {"k": 1_000, "m": 1_000_000}

TARGET_LOAD_VS_FLOOR = 1.5
TARGET_PEER_VS_LOAD = 20
TARGET_BUILD_SECONDS_AT_10M = 60
TARGET_BUILD_PEAK_MB = 4096
TARGET_NIGHTLY_VS_ALONE = 2


def parse_count(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    if text and text[-1] in _SUFFIXES:
        return int(float(text[:-1]) * _SUFFIXES[text[-1]])
    return int(text)


def label(count: int) -> str:
    for suffix, size in (("M", 1_000_000), ("k", 1_000)):
        if count >= size and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)


def run_stage(name: str, stage: str, arguments: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one stage in a child process; its figures plus the child's peak RSS."""
    result_path = workdir / f"result-{name}.json"
    result_path.unlink(missing_ok=True)
    print(f"  {name} ...", end="", flush=True)
    with open(workdir / f"log-{name}.txt", "w") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.stages", stage, json.dumps(arguments), str(result_path)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # wait4, not wait: it returns this child's own resource usage, peak RSS included
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        how = (
            f"was killed by signal {-child.returncode} (out of memory?)"
            if child.returncode < 0
            else f"failed (exit {child.returncode})"
        )
        raise SystemExit(f"bench: stage {name} {how}; log: {workdir / f'log-{name}.txt'}")
    result = json.loads(result_path.read_text())
    result["peak_mb"] = round(usage.ru_maxrss / 1024)  # Linux reports kilobytes
    # CPU time of the whole child (imports too): steadier than the clock on a shared machine
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print(f" {result['seconds']:.1f} s", flush=True)
    return result


def keep_best(stages: dict[str, dict[str, Any]], name: str, result: dict[str, Any]) -> None:
    """Best of the repeats: the fastest run's figures, the highest peak memory of any."""
    previous = stages.get(name)
    if previous is None:
        stages[name] = result | {"runs": [round(result["seconds"], 2)]}
        return
    runs = [*previous["runs"], round(result["seconds"], 2)]
    best = result if result["seconds"] < previous["seconds"] else previous
    stages[name] = best | {"runs": runs, "peak_mb": max(previous["peak_mb"], result["peak_mb"])}


def prepare(plan: BenchPlan, workdir: Path, workers: int) -> dict[str, Any]:
    """Land the history and the night, unless this workdir already holds exactly them."""
    marker = workdir / "landed.json"
    wanted = {
        "messages": plan.messages,
        "nights": plan.nights,
        "conversations_per_day": plan.conversations_per_day,
        "first_day": plan.first_day.isoformat(),
    }
    if marker.exists():
        landed = json.loads(marker.read_text())
        if landed["plan"] == wanted:
            return landed
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    base = load_config(ROOT / "config" / "acme.yaml")
    config_path = write_config(bench_config(base, plan), workdir / "config.json")
    print(f"landing {plan.nights} nights + 1 of simulated messages in {workdir} ...", flush=True)
    started = time.perf_counter()
    history, files = land_days(config_path, workdir / "landing", plan.history_days, workers)
    night, night_files = land_days(config_path, workdir / "landing-night", [plan.night], 1)
    (workdir / "files-history.txt").write_text("\n".join(files))
    landed = {
        "plan": wanted,
        "config": str(config_path),
        "history_messages": history,
        "history_pages": len(files),
        "history_bytes": sum(os.path.getsize(f) for f in files),
        "night_messages": night,
        "night_pages": len(night_files),
        "generation_seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(landed, indent=2))
    return landed


def warm_page_cache(directory: Path) -> None:
    """Read every landed file once, so no stage pays for the disk while another does not."""
    for folder, _, files in os.walk(directory):
        for name in files:
            with open(Path(folder) / name, "rb") as handle:
                while handle.read(1 << 20):
                    pass


def split_by_night(workdir: Path, files: list[str]) -> tuple[list[str], list[str]]:
    """One landing zone and one file list per night: (zones, file lists), oldest first.

    Each night's pages are hard-linked into a zone of their own, so loading them is what
    that night's nightly run would load, and nothing else.
    """
    nights: dict[str, list[str]] = {}
    for file in files:
        night = next(part for part in Path(file).parts if part.startswith("dt="))
        nights.setdefault(night, []).append(file)
    zones, lists = [], []
    for night, night_files in sorted(nights.items()):
        zone = workdir / "landing-by-night" / night
        if not zone.exists():
            link_tree(
                workdir / "landing" / "x" / BENCH_ACCOUNT / night,
                zone / "x" / BENCH_ACCOUNT / night,
            )
        listing = workdir / "landing-by-night" / f"files-{night}.txt"
        listing.write_text("\n".join(night_files))
        zones.append(str(zone))
        lists.append(str(listing))
    return zones, lists


def measure(
    plan: BenchPlan, workdir: Path, skip_peer: bool, workers: int, repeat: int, by_night: bool
) -> dict[str, Any]:
    landed = prepare(plan, workdir, workers)
    for landing in ("landing", "landing-night"):
        warm_page_cache(workdir / landing)
    dbs = workdir / "db"
    dbs.mkdir(exist_ok=True)
    files = str(workdir / "files-history.txt")
    config = landed["config"]
    until = datetime.combine(plan.night + timedelta(days=1), datetime.min.time(), UTC)
    stages: dict[str, dict[str, Any]] = {}
    load_average_before = os.getloadavg()
    # floor and load alternate, and so do the two nightly runs: the pairs whose ratio is a
    # target meet the same moments of a shared machine
    floor_args: dict[str, Any] = {"files": files, "db": str(dbs / "floor.duckdb")}
    load_args: dict[str, Any] = {
        "landing": str(workdir / "landing"),
        "db": str(dbs / "siloscope.duckdb"),
    }
    nightly_landing = workdir / "landing"
    if by_night:
        zones, lists = split_by_night(workdir, Path(files).read_text().split("\n"))
        floor_args["batches"], load_args["nights"] = lists, zones
        nightly_landing = workdir / "landing-by-night" / "tonight"
    for _ in range(repeat):
        keep_best(stages, "floor", run_stage("floor", "floor", floor_args, workdir))
        keep_best(stages, "load", run_stage("load", "load", load_args, workdir))
    if not skip_peer:
        shutil.rmtree(workdir / "dlt-pipelines", ignore_errors=True)
        peer_args = {
            "files": files,
            "db": str(dbs / "dlt.duckdb"),
            "pipelines_dir": str(workdir / "dlt-pipelines"),
        }
        keep_best(stages, "peer_dlt", run_stage("peer_dlt", "peer_dlt", peer_args, workdir))
    for _ in range(repeat):
        build_args = {"db": str(dbs / "siloscope.duckdb"), "config": config}
        keep_best(stages, "build", run_stage("build", "build", build_args, workdir))
    for _ in range(repeat):
        # the history as the last night left it: loaded and built
        shutil.copyfile(dbs / "siloscope.duckdb", dbs / "nightly.duckdb")
        # The night lands beside the history it follows: the loader knows files by their
        # address, so the history must be where it was loaded from to count as loaded.
        night_files = link_tree(workdir / "landing-night", nightly_landing)
        try:
            nightly_args = {
                "config": config,
                "db": str(dbs / "nightly.duckdb"),
                "landing": str(nightly_landing),
                "until": until.isoformat(),
            }
            keep_best(stages, "nightly", run_stage("nightly", "nightly", nightly_args, workdir))
        finally:
            for file in night_files:
                file.unlink()
        (dbs / "night-alone.duckdb").unlink(missing_ok=True)
        alone_args = nightly_args | {
            "db": str(dbs / "night-alone.duckdb"),
            "landing": str(workdir / "landing-night"),
        }
        keep_best(stages, "night_alone", run_stage("night_alone", "nightly", alone_args, workdir))
    floor_seconds = stages["floor"]["seconds"]
    for figures in stages.values():
        figures["messages_per_second"] = figures["messages"] / figures["seconds"]
        figures["vs_floor"] = figures["seconds"] / floor_seconds
    return {
        "messages": plan.messages,
        "repeat": repeat,
        "by_night": by_night,
        "landed": landed,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_average_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "stages": stages,
        "targets": targets(plan, landed, stages),
    }


def targets(plan: BenchPlan, landed: dict[str, Any], stages: dict[str, Any]) -> list[dict]:
    load, floor, build = stages["load"], stages["floor"], stages["build"]
    checks = [
        {
            "target": f"load <= {TARGET_LOAD_VS_FLOOR}x the DuckDB floor",
            "measured": f"{load['seconds'] / floor['seconds']:.2f}x",
            "met": load["seconds"] <= TARGET_LOAD_VS_FLOOR * floor["seconds"],
        }
    ]
    if "peer_dlt" in stages:
        speedup = stages["peer_dlt"]["seconds"] / load["seconds"]
        checks.append(
            {
                "target": f"load >= {TARGET_PEER_VS_LOAD}x faster than dlt",
                "measured": f"{speedup:.1f}x",
                "met": speedup >= TARGET_PEER_VS_LOAD,
            }
        )
    messages = build["messages"]
    projected = build["seconds"] * 10_000_000 / messages
    at_10m = messages >= 9_500_000
    checks.append(
        {
            "target": f"build of 10M < {TARGET_BUILD_SECONDS_AT_10M} s",
            "measured": f"{build['seconds']:.1f} s"
            if at_10m
            else f"{projected:.0f} s projected linearly from {label(plan.messages)}",
            "met": projected < TARGET_BUILD_SECONDS_AT_10M if at_10m else None,
        }
    )
    checks.append(
        {
            "target": f"build peak memory < {TARGET_BUILD_PEAK_MB} MB",
            "measured": f"{build['peak_mb']} MB",
            "met": build["peak_mb"] < TARGET_BUILD_PEAK_MB,
        }
    )
    ratio = stages["nightly"]["seconds"] / stages["night_alone"]["seconds"]
    history = landed["history_messages"] / max(1, landed["night_messages"])
    checks.append(
        {
            "target": f"nightly on {history:.0f}x history <= {TARGET_NIGHTLY_VS_ALONE}x "
            "the night alone",
            "measured": f"{ratio:.2f}x",
            "met": ratio <= TARGET_NIGHTLY_VS_ALONE,
        }
    )
    return checks


def print_table(run: dict[str, Any]) -> None:
    landed, machine = run["landed"], run["machine"]
    print()
    print(
        f"{landed['history_messages']:,} messages in {landed['history_pages']:,} pages "
        f"({landed['history_bytes'] / 2**20:,.0f} MiB); night: {landed['night_messages']:,}; "
        f"{machine['cpus']} cores, load average before {machine['load_average_before'][0]}"
    )
    header = (
        f"{'stage':<12} {'seconds':>9} {'messages/s':>12} {'peak MB':>9} {'x floor':>8} "
        f"{'cpu s':>8}"
    )
    if run["repeat"] > 1:
        print(f"best of {run['repeat']} runs of each stage (dlt: one run)")
    print(header)
    print("-" * len(header))
    for name, figures in run["stages"].items():
        print(
            f"{name:<12} {figures['seconds']:>9.2f} {figures['messages_per_second']:>12,.0f} "
            f"{figures['peak_mb']:>9,} {figures['vs_floor']:>8.2f} {figures['cpu_seconds']:>8.1f}"
        )
    for name in ("nightly", "night_alone"):
        figures = run["stages"][name]
        load, build = figures["load_seconds"], figures["build_seconds"]
        print(f"  {name}: load {load:.2f} s + build {build:.2f} s")
    print()
    for check in run["targets"]:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[check["met"]]
        print(f"{verdict:>7}  {check['target']}: {check['measured']}")


def save(run: dict[str, Any]) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[label(run["messages"])] = run
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", default="100k", help="100k (default), 1M, 10M or a count")
    parser.add_argument("--skip-peer", action="store_true", help="leave dlt out (slow at 10M)")
    parser.add_argument("--workdir", default=str(ROOT / "data" / "bench"))
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each stage but dlt this often; keep the best"
    )
    parser.add_argument(
        "--by-night",
        action="store_true",
        help="floor and load one night at a time, as nightly runs would (for 10M: one "
        "statement over all pages needs more memory than 24 GB)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args(argv)
    plan = BenchPlan.for_messages(parse_count(options.messages))
    workdir = Path(options.workdir) / f"n={label(plan.messages)}"
    run = measure(
        plan, workdir, options.skip_peer, options.workers, options.repeat, options.by_night
    )
    print_table(run)
    save(run)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
