"""Great Expectations on staging and marts: a clean run validates, a corrupted one stops."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from siloscope.cli import main
from siloscope.config import load_config
from transforms.quality.suites import SUITES, SuiteInputs

REPO = Path(__file__).resolve().parents[2]
CLEAN_RUN = "cli__2026-11-01"
NIGHT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """`siloscope run` on the simulated example organisation: extract to validate."""
    root = tmp_path_factory.mktemp("clean")
    config = root / "acme.yaml"
    shutil.copy(REPO / "config" / "acme.yaml", config)
    db = root / "siloscope.duckdb"
    code = main(["run", "--config", str(config), "--db", str(db), "--date", "2026-11-01"])
    assert code == 0
    return config, db


@pytest.fixture
def copy_of_clean_run(clean_run, tmp_path):
    config, db = clean_run
    copy = tmp_path / "siloscope.duckdb"
    shutil.copy(db, copy)
    return config, copy


def validations(db: Path) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "select * from ops.validations "
            "order by validated_at, suite, expectation, kwargs::varchar"
        )
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def corrupt_and_validate(config: Path, db: Path, sql: str, capsys) -> tuple[int, str, list[dict]]:
    """Corrupt a built database, run `siloscope validate`: exit code, output, its outcomes."""
    before = [row for row in validations(db) if row["run_id"] == CLEAN_RUN]
    with duckdb.connect(str(db)) as con:
        con.execute(sql)
    code = main(["validate", "--config", str(config), "--db", str(db)])
    rows = validations(db)
    output = capsys.readouterr()
    # the validated state before this run is untouched; this run's outcome is beside it
    assert [row for row in rows if row["run_id"] == CLEAN_RUN] == before
    return code, output.out + output.err, [r for r in rows if r["run_id"] != CLEAN_RUN]


def failed(rows: list[dict]) -> set[tuple[str, str, bool]]:
    return {(r["suite"], r["expectation_type"], r["critical"]) for r in rows if not r["success"]}


def test_a_clean_simulated_run_validates(clean_run):
    _, db = clean_run
    rows = validations(db)
    assert {(r["run_id"], r["night"]) for r in rows} == {(CLEAN_RUN, NIGHT)}
    assert [r["expectation"] for r in rows if not r["success"]] == []
    suites = {r["suite"] for r in rows}
    assert len(suites) == len(SUITES)
    assert {
        "intermediate.int_messages_unioned",
        "marts.org_verdict",
        "marts.department_scorecard",
    } <= suites
    assert sum(r["critical"] for r in rows) > 0 and sum(not r["critical"] for r in rows) > 0
    scorecard_rows = next(
        r for r in rows if r["expectation_type"] == "expect_table_row_count_to_equal"
    )
    assert json.loads(scorecard_rows["observed_value"]) == 5  # one per configured department


def test_the_data_docs_page_is_written_beside_the_database(clean_run):
    _, db = clean_run
    index = db.parent / "quality" / "index.html"
    html = index.read_text()
    for suite in ("intermediate.int_messages_unioned", "marts.conversations", "marts.brokerage"):
        assert suite in html
        schema, table = suite.split(".")
        assert list((db.parent / "quality" / "validations" / schema / table / CLEAN_RUN).glob("*"))
    assert CLEAN_RUN in html


def test_every_expectation_says_whether_it_is_critical(clean_run):
    config, _ = clean_run
    now = datetime.now(UTC)
    inputs = SuiteInputs.of(load_config(config).for_models(), now, now, now)
    for suite in SUITES:
        for expectation in suite(inputs).expectations:
            assert "severity" in expectation.__fields_set__, (suite.__name__, expectation)


def test_a_duplicate_message_id_in_staging_fails_validation(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, error, rows = corrupt_and_validate(
        config,
        db,
        # the messages are views down to stg_x__posts: the duplicate goes in underneath
        "insert into raw.x_posts select * from raw.x_posts order by id limit 1",
        capsys,
    )
    assert code == 1
    assert failed(rows) == {
        ("intermediate.int_messages_unioned", "expect_compound_columns_to_be_unique", True)
    }
    assert (
        "intermediate.int_messages_unioned: expect_compound_columns_to_be_unique"
        "(column_list=platform,message_id): 2 unexpected of" in error
    )
    assert "1 critical expectation(s) failed" in error


def test_a_null_author_in_staging_fails_validation(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, error, rows = corrupt_and_validate(
        config,
        db,
        "update raw.x_posts set author_id = null where id = (select min(id) from raw.x_posts)",
        capsys,
    )
    assert code == 1
    assert failed(rows) == {
        ("intermediate.int_messages_unioned", "expect_column_values_to_not_be_null", True)
    }
    assert (
        "intermediate.int_messages_unioned: expect_column_values_to_not_be_null(column=author_id, "
        "row_condition=platform != reddit): 1 unexpected of" in error
    )
    [row] = [r for r in rows if not r["success"]]
    assert row["unexpected_count"] == 1


def test_a_future_date_in_staging_fails_validation(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, error, rows = corrupt_and_validate(
        config,
        db,
        "update raw.x_posts set created_at = now() + interval 1 day "
        "where id = (select min(id) from raw.x_posts)",
        capsys,
    )
    assert code == 1
    assert failed(rows) == {
        ("intermediate.int_messages_unioned", "expect_column_values_to_be_between", True)
    }
    assert (
        "intermediate.int_messages_unioned: expect_column_values_to_be_between(column=created_at, "
        in error
    )
    [row] = [r for r in rows if not r["success"]]
    assert row["unexpected_count"] == 1 and json.loads(row["kwargs"])["max_value"]


def test_a_mart_outside_its_contract_fails_validation(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, error, rows = corrupt_and_validate(
        config,
        db,
        "delete from marts.department_scorecard where department = 'HR'; "
        "update marts.department_scorecard set ei_index = 1.5 where department = 'Sales'; "
        "update marts.department_pairs set audience_jaccard = -0.1 "
        "where department_a = 'Customer Care' and department_b = 'Marketing'",
        capsys,
    )
    assert code == 1
    assert failed(rows) == {
        ("marts.department_scorecard", "expect_table_row_count_to_equal", True),
        ("marts.department_scorecard", "expect_column_values_to_be_between", True),
        ("marts.department_pairs", "expect_column_values_to_be_between", True),
    }
    assert "expect_table_row_count_to_equal(value=5): observed 4" in error
    assert "marts.department_scorecard: expect_column_values_to_be_between(column=ei_index" in error


def test_a_failed_warning_is_recorded_but_does_not_stop_the_run(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, output, rows = corrupt_and_validate(
        config,
        db,
        # half the users of the pages went missing: their messages have no handle
        "delete from staging.stg_x__users where hash(user_id) % 2 = 0",
        capsys,
    )
    assert code == 0
    assert failed(rows) == {
        ("intermediate.int_messages_unioned", "expect_column_values_to_not_be_null", False)
    }
    assert "0 critical failure(s), 1 warning(s)" in output
    assert (
        "warning   intermediate.int_messages_unioned: expect_column_values_to_not_be_null" in output
    )


def test_validate_refuses_a_database_with_nothing_built(tmp_path, capsys):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    code = main(["validate", "--config", str(REPO / "config" / "acme.yaml"), "--db", str(db)])
    assert code == 1
    assert "nothing built yet" in capsys.readouterr().err


def test_a_missing_mart_or_column_fails_validation_with_the_reason(copy_of_clean_run, capsys):
    config, db = copy_of_clean_run
    code, error, rows = corrupt_and_validate(
        config,
        db,
        "drop table marts.brokerage; alter table marts.conversations drop column handoffs",
        capsys,
    )
    assert code == 1
    assert failed(rows) == {
        ("marts.brokerage", "table_exists", True),
        ("marts.conversations", "expect_column_values_to_be_between", True),
    }
    assert "marts.brokerage does not exist" in error
    assert 'The column "handoffs" in BatchData does not exist' in error
