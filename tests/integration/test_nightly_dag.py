"""The whole nightly DAG, run by Airflow itself (dag.test), on the simulated source."""

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
NIGHT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    config = root / "acme.yaml"
    shutil.copy(REPO / "config" / "acme.yaml", config)
    saved = {
        k: os.environ.get(k) for k in ("SILOSCOPE_CONFIG", "SILOSCOPE_DB", "SILOSCOPE_LANDING")
    }
    os.environ["SILOSCOPE_CONFIG"] = str(config)
    os.environ["SILOSCOPE_DB"] = str(root / "siloscope.duckdb")
    os.environ["SILOSCOPE_LANDING"] = str(root / "landing")
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def nightly(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags["siloscope_nightly"]


def run_night(nightly, night: datetime):
    run = nightly.test(logical_date=night)
    assert run.state == "success", f"DAG run for {night:%Y-%m-%d} ended {run.state}"
    return run


def row_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'ops', 'staging', 'intermediate', 'marts', 'config')"
        ).fetchall()
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in tables}


@pytest.fixture(scope="module")
def first_night(workspace, nightly):
    run_night(nightly, NIGHT)
    return row_counts(workspace / "siloscope.duckdb")


def test_the_dag_fills_raw_staging_and_marts(first_night):
    for table in (
        "raw.x_posts",
        "raw.x_users",
        "intermediate.int_messages_unioned",
        "marts.conversations",
        "marts.department_scorecard",
        "marts.department_pairs",
        "marts.brokerage",
        "marts.org_verdict",
    ):
        assert first_night.get(table, 0) > 0, table
    assert first_night["ops.rejects"] == 0
    # one extract run per configured account
    assert first_night["ops.extract_runs"] == 5


def test_the_night_is_published_for_dashboards_and_drawn_as_a_page(workspace, first_night):
    published = workspace / "published" / "siloscope.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        marts = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        for (mart,) in marts:
            rows = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            assert rows == first_night[f"marts.{mart}"], mart
    assert len(marts) == 6
    assert sorted(p.name for p in (workspace / "published" / "parquet").iterdir()) == sorted(
        m for (m,) in marts
    )
    page = (workspace / "report.html").read_text()
    assert 'data-verdict="glued"' in page and "Customer Care is the glue" in page


def test_the_planted_glue_department_is_found(workspace, first_night):
    with duckdb.connect(str(workspace / "siloscope.duckdb"), read_only=True) as con:
        verdict, glue, start, end = con.execute(
            "select verdict, glue_department, window_start, window_end from marts.org_verdict"
        ).fetchone()
    assert (verdict, glue) == ("glued", "Customer Care")
    assert end == NIGHT and start == NIGHT - timedelta(days=28)


def test_running_the_same_night_again_changes_no_row_count(workspace, nightly, first_night):
    run_night(nightly, NIGHT)
    again = row_counts(workspace / "siloscope.duckdb")
    data = {t: n for t, n in first_night.items() if not t.startswith("ops.")}
    assert {t: again[t] for t in data} == data
    # the second run landed a folder of its own: it is on record beside the first, and
    # its books balance (every record a duplicate of the first run's)
    assert again["ops.extract_runs"] == 2 * first_night["ops.extract_runs"]
    with duckdb.connect(str(workspace / "siloscope.duckdb"), read_only=True) as con:
        books = con.execute(
            "select count(*), bool_and(balanced), sum(records_loaded) filter (run_id = ?) "
            "from ops.reconciliations",
            [latest_run_id(con)],
        ).fetchone()
    assert books == (again["ops.extract_runs"], True, 0)


def latest_run_id(con) -> str:
    return con.execute("select arg_max(run_id, started_at) from ops.extract_runs").fetchone()[0]


def test_the_next_night_fetches_only_what_is_new(workspace, nightly, first_night):
    run_night(nightly, NIGHT + timedelta(days=1))
    db = workspace / "siloscope.duckdb"
    assert row_counts(db)["raw.x_posts"] > first_night["raw.x_posts"]
    with duckdb.connect(str(db), read_only=True) as con:
        second_night = con.execute(
            "select landing_file from ops.loaded_files where landing_file like '%/dt=2026-11-02/%'"
        ).fetchall()
        # every post landed on the second night, set against the watermark its endpoint
        # had after the first night
        fetched = con.execute(
            """
            with posts as (
                select filename as landing_file,
                    unnest(cast(json->'data' as json[]))->>'id' as id
                from read_json_objects(?, filename = true)
            )
            select count(*), count(*) filter (posts.id::hugeint <= w.since_id::hugeint)
            from posts
            join ops.loaded_files f using (landing_file)
            join ops.watermarks w
                on w.account = f.account and w.endpoint = f.endpoint and w.until = ?
            """,
            [[f for (f,) in second_night], NIGHT],
        ).fetchone()
        verdicts = con.execute("select count(*) from marts.org_verdict").fetchone()[0]
    posts_fetched, already_seen = fetched
    assert posts_fetched > 0
    assert already_seen == 0
    assert verdicts == 2  # one row per nightly window: the trend dashboards draw


def validations(db: Path) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "select * from ops.validations order by run_id, suite, expectation, kwargs::varchar"
        )
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_the_run_validates_staging_and_marts_and_writes_data_docs(workspace, first_night):
    rows = [r for r in validations(workspace / "siloscope.duckdb") if r["night"] == NIGHT]
    assert len({r["suite"] for r in rows}) == 8
    assert [r["expectation"] for r in rows if not r["success"]] == []
    assert {r["window_end"] for r in rows} == {NIGHT}
    index = (workspace / "quality" / "index.html").read_text()
    assert "intermediate.int_messages_unioned" in index and "marts.department_scorecard" in index


def test_every_extract_run_of_the_night_balances(workspace, first_night):
    with duckdb.connect(str(workspace / "siloscope.duckdb"), read_only=True) as con:
        books = con.execute(
            "select account, records_fetched, records_loaded + records_rejected "
            "+ records_duplicate, balanced from ops.reconciliations where until = ?",
            [NIGHT],
        ).fetchall()
    # one per configured account and run of the night (the night may have run again)
    assert len(books) in (5, 10) and {account for account, *_ in books} == {
        "Acme",
        "AcmeCareers",
        "AcmeHelp",
        "AcmeLabs",
        "AcmeSales",
    }
    for account, fetched, accounted, balanced in books:
        assert fetched > 0 and fetched == accounted and balanced, account


def publication(workspace: Path) -> tuple:
    with duckdb.connect(str(workspace / "published" / "siloscope.duckdb"), read_only=True) as con:
        return con.execute("select release, build_window_end from meta.publication").fetchone()


class FuturePost:
    """Lands one post dated in 2099 for an account nobody configured."""

    platform = "x"

    def pages(self, request, result):
        from ingest.pages import ResponsePage

        post = {
            "id": "9" * 18,
            "text": "hello from the future",
            "author_id": "42",
            "created_at": "2099-01-01T00:00:00.000Z",
            "conversation_id": "9" * 18,
        }
        users = [{"id": "42", "username": "TimeTraveller", "name": "T"}]
        body = {"data": [post], "includes": {"users": users}, "meta": {"result_count": 1}}
        yield ResponsePage("mentions", json.dumps(body).encode())


def test_a_future_dated_post_is_quarantined_and_the_night_goes_on(workspace, nightly, first_night):
    """A post dated 2099 would fail "not in the future" on every later night: it is set
    aside at load with its reason, and the night is validated and published."""
    from ingest.landing import LandingZone, extract_to_landing
    from ingest.pages import ExtractRequest

    night = NIGHT + timedelta(days=2)
    request = ExtractRequest("x", "Intruder", night, night - timedelta(days=1))
    extract_to_landing(FuturePost(), request, LandingZone(str(workspace / "landing")), "t", "test")
    db = workspace / "siloscope.duckdb"
    published_before = publication(workspace)

    run = nightly.test(logical_date=night)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success"
    assert states["validate"] == states["publish"] == "success"
    assert publication(workspace) != published_before
    with duckdb.connect(str(db), read_only=True) as con:
        quarantined = con.execute(
            "select reason, landing_file like '%/x/Intruder/%' from ops.rejects "
            "where resolved_at is null"
        ).fetchall()
        stored = con.execute(f"select count(*) from raw.x_posts where id = '{'9' * 18}'")
        assert stored.fetchone()[0] == 0
    assert quarantined == [("created_at is in the future: 2099-01-01T00:00:00.000Z", True)]
