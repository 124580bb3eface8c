"""Simulated messages landed as X API v2 pages, the way the extract step lands them.

Each simulated day becomes one complete extract run of one org account: the day's posts,
oldest first, 100 a page, in the page format the simulated source serves (so the loader
cannot tell these pages from an extract's), then the run's manifest. Days are
independent (each has its own seeded RNG), so they are generated in parallel and
streamed to the landing zone one day at a time: memory stays at one day per worker.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest.landing import LandingZone, Manifest

# page_of is the simulated source's own page encoder: the bench lands exactly the bytes
# the source would serve, not a look-alike.
from ingest.simulated import PAGE_SIZE, SimulatedWorld, page_of
from ingest.simulated.generator import generate_world_posts
from siloscope.config import OrgConfig, load_config

BENCH_ACCOUNT = "AcmeHelp"
ENDPOINT = "threads"  # the endpoint that serves every post of a conversation
# Measured on the simulator with config/acme.yaml: 3.79 posts per customer conversation.
POSTS_PER_CONVERSATION = 3.79
# The config caps conversations_per_day at 100 000; days hold at most this many posts.
MAX_POSTS_PER_DAY = 350_000
HISTORY_NIGHTS = 10


@dataclass(frozen=True)
class BenchPlan:
    """How N messages are spread: `nights` nights of history, then one more night."""

    messages: int
    nights: int
    conversations_per_day: int
    first_day: date

    @classmethod
    def for_messages(cls, messages: int, first_day: date = date(2026, 3, 1)) -> BenchPlan:
        nights = max(HISTORY_NIGHTS, -(-messages // MAX_POSTS_PER_DAY))
        per_day = max(1, round(messages / nights / POSTS_PER_CONVERSATION))
        return cls(messages, nights, per_day, first_day)

    @property
    def history_days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.nights)]

    @property
    def night(self) -> date:
        return self.first_day + timedelta(days=self.nights)


def bench_config(base: OrgConfig, plan: BenchPlan) -> dict:
    """The example organisation at bench volume, with a one-night window.

    The nightly window is the night itself, so the incremental run and the run on the
    night alone measure the same window; what differs is only the history before it.
    """
    document = base.model_dump(mode="json")
    document["simulation"]["conversations_per_day"] = plan.conversations_per_day
    document["rolling_window_days"] = 1
    document["backfill_days"] = 1
    return document


def write_config(document: dict, path: Path) -> Path:
    path.write_text(json.dumps(document, indent=2))  # JSON is YAML: load_config reads it
    return path


def land_day(config_path: str, root: str, day: date) -> tuple[int, list[str]]:
    """Land one day's posts as one complete run; returns (messages, page files)."""
    config = load_config(config_path)
    world = SimulatedWorld(config.for_simulation())
    landing = LandingZone(root)
    until = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    run_dir = landing.run_dir("x", BENCH_ACCOUNT, until)
    started = datetime.now(UTC).isoformat()
    posts = generate_world_posts(world, day, day)
    manifest = Manifest(
        platform="x",
        account=BENCH_ACCOUNT,
        source="simulated",
        run_id=f"bench__{until:%Y%m%dT%H%M%SZ}",
        dt=until.date().isoformat(),
        until=until.isoformat(),
        started_at=started,
    )
    for number, start in enumerate(range(0, len(posts), PAGE_SIZE), start=1):
        page_posts = posts[start : start + PAGE_SIZE]
        body = page_of(world, page_posts)
        manifest.pages.append(landing.write_page(run_dir, number, ENDPOINT, body))
    manifest.requests = len(manifest.pages)
    manifest.complete = True
    if posts:
        manifest.watermarks = {ENDPOINT: posts[-1]["id"]}
    manifest.finished_at = datetime.now(UTC).isoformat()
    landing.write_manifest(run_dir, manifest)
    return len(posts), [f"{run_dir}/{page.file}" for page in manifest.pages]


def land_days(
    config_path: Path, root: Path, days: list[date], workers: int
) -> tuple[int, list[str]]:
    """Land every day (in parallel); returns (messages, page files in day order)."""
    root.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(
            pool.map(land_day, [str(config_path)] * len(days), [str(root)] * len(days), days)
        )
    return sum(n for n, _ in results), [file for _, files in results for file in files]


def link_tree(source: Path, target: Path) -> list[Path]:
    """Hard-link every file of `source` into `target` (free, whatever the size)."""
    linked = []
    for directory, _, files in os.walk(source):
        destination = target / Path(directory).relative_to(source)
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            link = destination / name
            link.unlink(missing_ok=True)  # left by an interrupted run
            os.link(Path(directory) / name, link)
            linked.append(link)
    return linked
