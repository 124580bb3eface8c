"""What X reads cost (issue 17): billing as X bills, the bounded read strategy, the plan
step's stored bounds and `siloscope report --cost`, on the simulated source."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.cost import FIRST_NIGHT, TARGET_BACKFILL, TARGET_STEADY, run_nights, stored_ids
from ingest.formats.x_api_v2 import snowflake_time
from ingest.simulated import user_id_for_handle
from ingest.x.billing import DailyReads
from ingest.x.thread_plan import plan_thread_searches, search_window_start, stored_bounds
from siloscope import pipeline
from siloscope.cli import main as siloscope
from siloscope.config import load_config
from siloscope.costs import reads_by_night
from siloscope.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "config" / "acme.yaml"
NOW = datetime(2026, 11, 10, tzinfo=UTC)
HANDLES = ("Acme", "AcmeCareers", "AcmeHelp", "AcmeLabs", "AcmeSales")


def snowflake(moment: datetime, sequence: int = 0) -> str:
    return str(((int(moment.timestamp() * 1000) - 1288834974657) << 22) | sequence)


# --------------------------------------------------------------- billing


def test_a_resource_is_billed_once_a_utc_day() -> None:
    reads = DailyReads()
    assert reads.bill("post", ["1", "2", "1"], NOW) == 2
    assert reads.bill("post", ["2"], NOW + timedelta(hours=23)) == 0
    assert reads.bill("user", ["2"], NOW) == 1  # a user is not a post
    assert reads.bill("post", ["2"], NOW + timedelta(days=1)) == 1  # a new day, a new read


# --------------------------------------------------------------- planning thread searches


def test_stored_conversations_are_searched_after_their_newest_stored_post() -> None:
    window_start = search_window_start(NOW)
    fresh = [snowflake(NOW - timedelta(hours=h), h) for h in range(1, 30)]
    stored = {c: snowflake(NOW - timedelta(minutes=30 + i), i) for i, c in enumerate(fresh[:20])}
    stale = snowflake(NOW - timedelta(days=9))
    stored[fresh[20]] = stale  # older than the search window: cannot bound a search

    bounds = stored_bounds(fresh, stored, window_start, "bounded")
    searches = plan_thread_searches(fresh, bounds, start=window_start, end=NOW, max_chars=512)

    assert set(bounds) == set(fresh[:20])
    searched = [c for search in searches for c in search.conversation_ids]
    assert sorted(searched) == sorted(fresh)  # each conversation once
    for search in searches:
        assert len(search.query) <= 512
        if search.since_id:
            assert search.start_time is None
            assert search.since_id == min((bounds[c] for c in search.conversation_ids), key=int)
        else:
            assert search.start_time == window_start
            assert not set(search.conversation_ids) & set(bounds)
    assert stored_bounds(fresh, stored, window_start, "rescan") == {}
    with pytest.raises(ValueError, match="unknown X read strategy"):
        stored_bounds(fresh, stored, window_start, "cheapest")


# --------------------------------------------------------------- nights on the simulator


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> dict[str, tuple[Path, list]]:
    """Four nights of the example organisation, once per read strategy."""
    ran = {}
    for strategy in ("rescan", "bounded"):
        workdir = tmp_path_factory.mktemp(strategy)
        ran[strategy] = (workdir, run_nights(ACME, strategy, 4, workdir))
    return ran


def test_bounded_stores_every_post_rescan_stores_and_meets_the_targets(nights) -> None:
    rescan_dir, rescan = nights["rescan"]
    bounded_dir, bounded = nights["bounded"]
    assert stored_ids(rescan_dir) <= stored_ids(bounded_dir)
    assert len(stored_ids(rescan_dir)) > 1000
    assert [n.new_posts for n in bounded] == [n.new_posts for n in rescan]
    assert bounded[0].billable_reads <= TARGET_BACKFILL * bounded[0].new_posts
    for night in bounded[1:]:
        assert night.billable_reads <= TARGET_STEADY * night.new_posts, night
    assert sum(n.billable_reads for n in bounded[1:]) < sum(n.billable_reads for n in rescan[1:])


def test_every_author_of_a_stored_post_has_its_user_read_once(nights) -> None:
    """Bounded pages expand no user: the authors not stored yet are looked up, once."""
    workdir, ran = nights["bounded"]
    with pipeline.connect(settings_of(workdir), read_only=True) as con:
        (authors_without_user,) = con.execute(
            "select count(distinct author_id) from raw.x_posts "
            "anti join raw.x_users on raw.x_users.id = raw.x_posts.author_id"
        ).fetchone()
        user_reads = dict(
            con.execute(
                "select day, count(*) from ops.x_billed_reads where kind = 'user' group by day"
            ).fetchall()
        )
        new_users = con.execute(
            "select count(*) from raw.x_users group by load_id order by load_id"
        ).fetchall()
    assert authors_without_user == 0
    # after the backfill, a night reads its new users and the accounts' own (user lookup)
    for night in ran[1:]:
        assert user_reads[night.until.date()] <= 5 + 5, night
    assert new_users[0][0] > 50


def landed_pages(workdir: Path, night: datetime) -> list[dict]:
    day = f"dt={night.date().isoformat()}"
    return [json.loads(path.read_bytes()) for path in workdir.glob(f"landing/x/*/{day}/*/page-*")]


def test_the_bill_counts_each_post_and_user_once_across_accounts(nights) -> None:
    workdir, ran = nights["bounded"]
    for night in ran:
        pages = landed_pages(workdir, night.until)
        posts = {post["id"] for page in pages for post in page.get("data", [])}
        users = {u["id"] for page in pages for u in page.get("includes", {}).get("users", [])}
        # each run's user lookup reads its account too
        users |= {user_id_for_handle(handle) for handle in HANDLES}
        assert night.billable_reads == len(posts) + len(users)
        # each run alone counts what several accounts read twice; X does not
        assert night.runs_own_reads > night.billable_reads


def settings_of(workdir: Path) -> Settings:
    return Settings.resolve(ACME, workdir / "siloscope.duckdb", str(workdir / "landing"))


def test_loading_again_bills_nothing_again(nights) -> None:
    workdir, ran = nights["bounded"]
    settings = settings_of(workdir)
    pipeline.load(settings)
    with pipeline.connect(settings, read_only=True) as con:
        billed = reads_by_night(con)
    for night in ran:
        assert sum(row.reads for row in billed if row.until == night.until) == night.billable_reads


def test_the_plan_bounds_conversations_by_complete_runs_of_earlier_nights(nights) -> None:
    workdir, ran = nights["bounded"]
    settings = settings_of(workdir)
    config = load_config(ACME)
    last = ran[-1].until
    targets = pipeline.plan_extract(settings, config, last, ("x",))
    stored = targets[0].stored_threads
    assert stored and all(t.stored_threads == stored for t in targets)
    # only posts of nights before this one: running a night again asks the same
    assert all(snowflake_time(post_id) < last - timedelta(days=1) for post_id in stored.values())
    with pipeline.connect(settings, read_only=True) as con:
        newest = dict(
            con.execute(
                "select conversation_id, max(id::hugeint)::varchar from raw.x_posts "
                "where created_at < ? group by 1",
                [last - timedelta(days=1)],
            ).fetchall()
        )
    assert all(newest[c] == post_id for c, post_id in stored.items())

    # a run that failed searched nothing: what it landed bounds no conversation
    with pipeline.connect(settings) as con:
        con.execute("update ops.extract_runs set complete = false where account = 'AcmeHelp'")
        landed_by_failed = {
            c
            for (c,) in con.execute(
                "select distinct p.conversation_id from raw.x_posts p "
                "where p.account = 'AcmeHelp' and p.created_at < ?",
                [last - timedelta(days=1)],
            ).fetchall()
        }
    try:
        after_failure = pipeline.plan_extract(settings, config, last, ("x",))[0].stored_threads
    finally:
        with pipeline.connect(settings) as con:
            con.execute("update ops.extract_runs set complete = true where account = 'AcmeHelp'")
    assert landed_by_failed and len(after_failure) < len(stored)
    for conversation, post_id in after_failure.items():
        assert int(post_id) <= int(stored[conversation])


def test_extract_tasks_get_the_bounds_as_plain_values(nights) -> None:
    workdir, ran = nights["bounded"]
    target = pipeline.plan_extract(settings_of(workdir), load_config(ACME), ran[-1].until, ("x",))[
        0
    ]
    travelled = json.loads(json.dumps(target.to_dict()))  # through XCom
    assert pipeline.ExtractTarget(**travelled) == target
    assert replace(target, read_strategy="rescan").read_strategy == "rescan"


# --------------------------------------------------------------- report --cost


def test_report_cost_shows_reads_and_dollars_per_night_and_account(nights, tmp_path, capsys):
    workdir, ran = nights["bounded"]
    config = tmp_path / "acme.yaml"
    config.write_text(ACME.read_text() + "costs:\n  x_price_per_read: 0.01\n")
    assert (
        siloscope(
            ["report", "--cost", "--config", str(config), "--db", str(workdir / "siloscope.duckdb")]
        )
        == 0
    )
    shown = capsys.readouterr().out
    assert "$0.01 a read" in shown
    lines = {line.split()[0]: line.split() for line in shown.splitlines() if line.strip()}
    for night in ran:
        row = lines[night.until.date().isoformat()]
        assert row[-2] == f"{night.billable_reads:,}"
        assert row[-1] == f"${night.billable_reads * 0.01:,.2f}"
    header = next(line.split() for line in shown.splitlines() if line.startswith("night"))
    assert header[1:6] == ["Acme", "AcmeCareers", "AcmeHelp", "AcmeLabs", "AcmeSales"]
    total = sum(n.billable_reads for n in ran)
    assert shown.count(f"{total:,}") == 1
    per_account = [int(cell.replace(",", "")) for cell in lines["all"][2:7]]
    assert sum(per_account) == total


def test_report_cost_before_any_run_says_so(tmp_path, capsys):
    db = tmp_path / "siloscope.duckdb"
    assert siloscope(["report", "--cost", "--config", str(ACME), "--db", str(db)]) == 2
    assert "no database there" in capsys.readouterr().err


def test_a_negative_price_is_refused(tmp_path, capsys):
    config = tmp_path / "acme.yaml"
    config.write_text(ACME.read_text() + "costs:\n  x_price_per_read: -1\n")
    assert siloscope(["report", "--cost", "--config", str(config)]) != 0
    assert "costs.x_price_per_read" in capsys.readouterr().err


def test_first_night_is_the_backfill(nights) -> None:
    _, ran = nights["bounded"]
    assert ran[0].until == FIRST_NIGHT
    assert ran[0].new_posts > 10 * ran[1].new_posts


def test_airflow_pendulum_times_plan_the_same_searches() -> None:
    """Airflow hands the night's end over as a pendulum DateTime, whose arithmetic can drop
    the time zone: the simulated night must serve what a plain datetime serves."""
    import pendulum

    from ingest.pages import ExtractRequest, ExtractResult
    from ingest.simulated import SimulatedXSource

    source = SimulatedXSource(load_config(ACME).for_simulation())
    served = {}
    for name, until in (
        ("plain", FIRST_NIGHT),
        ("pendulum", pendulum.datetime(2026, 11, 2, tz="UTC").astimezone(UTC)),
    ):
        request = ExtractRequest("x", "AcmeHelp", until, until - timedelta(days=28))
        result = ExtractResult()
        served[name] = ([page.body for page in source.pages(request, result)], result.ceilings)
    assert served["pendulum"] == served["plain"]
    assert served["plain"][1]  # the backfill reaches past the search window
