"""The benchmark's landed pages: what `make bench` times must be what the loader loads."""

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bench.landing import (
    MAX_POSTS_PER_DAY,
    POSTS_PER_CONVERSATION,
    BenchPlan,
    bench_config,
    land_days,
    write_config,
)
from bench.stages import FLOOR_SQL
from ingest.landing import LandingZone
from ingest.load import load_landing
from siloscope.config import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("messages", [100_000, 1_000_000, 10_000_000])
def test_a_plan_spreads_the_messages_over_valid_nights(messages):
    plan = BenchPlan.for_messages(messages)
    assert plan.nights >= 10
    assert plan.conversations_per_day <= 100_000  # what the config accepts
    expected = plan.nights * plan.conversations_per_day * POSTS_PER_CONVERSATION
    assert abs(expected - messages) / messages < 0.01
    assert messages / plan.nights <= MAX_POSTS_PER_DAY
    assert (plan.night - plan.history_days[-1]).days == 1


def test_landed_pages_load_whole_and_the_floor_reads_the_same_messages(tmp_path):
    plan = BenchPlan(messages=0, nights=2, conversations_per_day=40, first_day=date(2026, 3, 1))
    config = load_config(
        write_config(
            bench_config(load_config(REPO / "config" / "acme.yaml"), plan),
            tmp_path / "config.json",
        )
    )
    assert config.simulation.conversations_per_day == 40
    assert config.rolling_window_days == 1
    messages, files = land_days(
        tmp_path / "config.json", tmp_path / "landing", plan.history_days, 1
    )

    pages = [json.loads(Path(file).read_bytes()) for file in files]
    assert all(0 < len(page["data"]) <= 100 for page in pages)
    ids = [post["id"] for page in pages for post in page["data"]]
    assert len(ids) == len(set(ids)) == messages > 100

    con = duckdb.connect(str(tmp_path / "bench.duckdb"))
    report = load_landing(con, LandingZone(str(tmp_path / "landing")))
    assert (report.manifests, report.files) == (2, len(files))
    assert report.incomplete_runs == []
    assert con.execute("select count(*) from raw.x_posts").fetchone()[0] == messages
    assert con.execute("select count(*) from ops.rejects").fetchone()[0] == 0

    con.execute(FLOOR_SQL, [files])
    assert con.execute("select sum(len(data)) from pages").fetchone()[0] == messages
    con.close()
