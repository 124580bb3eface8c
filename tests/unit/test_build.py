"""The model runner: how models are materialized, and what a night's build reads."""

import json
import re
from datetime import UTC, datetime

import duckdb
import pytest

from ingest.landing import extract_to_landing
from ingest.load import ensure_schema, load_landing
from siloscope.cli import main as siloscope
from siloscope.config import load_config
from tests.unit.test_load import NEXT_NIGHT, REQUEST, Pages, count, post
from transforms.build import MODELS_DIR, BuildWindow, build_models, discover_models

CONFIG = load_config("config/acme.yaml")
EVERYTHING = BuildWindow.everything()


def user(user_id: str, username: str) -> dict:
    return {"id": user_id, "username": username, "name": username.title()}


def land_and_load(con, landing, request, *users):
    """One page of one post per user; raw.x_users gains the users it has not seen."""
    body = {
        "data": [post(f"10{u['id']}", author=u["id"]) for u in users],
        "includes": {"users": list(users)},
        "meta": {"result_count": len(users)},
    }
    pages = Pages(json.dumps(body).encode())
    extract_to_landing(pages, request, landing, f"run-{request.until:%d}", "test")
    load_landing(con, landing)


def staged_users(con) -> list[tuple]:
    return con.execute(
        "select user_id, username, load_id from staging.stg_x__users order by user_id"
    ).fetchall()


RENAME_USER_1 = (
    'update raw.x_users set record = json_merge_patch(record, \'{"username": "renamed"}\') '
    "where id = '1'"
)


def test_a_build_stages_only_the_rows_loaded_since_the_last_one(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"), user("2", "bob"))
    build_models(con, CONFIG.for_models(), EVERYTHING)
    # A staging row is computed once: after this, a rebuild of user 1 would read "renamed".
    con.execute(RENAME_USER_1)
    land_and_load(con, landing, NEXT_NIGHT, user("3", "cy"))

    build_models(con, CONFIG.for_models(), EVERYTHING)

    assert staged_users(con) == [("1", "ann", 1), ("2", "bob", 1), ("3", "cy", 2)]
    assert count(con, "intermediate.int_messages_unioned") == 3


def test_a_full_refresh_rebuilds_incremental_models_from_every_raw_row(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"), user("2", "bob"))
    build_models(con, CONFIG.for_models(), EVERYTHING)
    con.execute(RENAME_USER_1)

    build_models(con, CONFIG.for_models(), EVERYTHING, full_refresh=True)

    assert staged_users(con) == [("1", "renamed", 1), ("2", "bob", 1)]


def test_an_incremental_model_whose_columns_changed_is_rebuilt_whole(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"), user("2", "bob"))
    build_models(con, CONFIG.for_models(), EVERYTHING)
    # as if the table came from an older version of the model, with one column fewer
    con.execute("alter table staging.stg_x__users drop column display_name")
    con.execute("delete from staging.stg_x__users where user_id = '2'")

    build_models(con, CONFIG.for_models(), EVERYTHING)

    assert [row[0] for row in staged_users(con)] == ["1", "2"]
    assert "display_name" in [c[0] for c in con.execute("from staging.stg_x__users").description]


def test_the_build_command_restages_everything_only_when_asked(tmp_path, landing, capsys):
    db = tmp_path / "cli.duckdb"
    with duckdb.connect(str(db)) as con:
        land_and_load(con, landing, REQUEST, user("1", "ann"))
        build_models(con, CONFIG.for_models(), EVERYTHING)
        con.execute(RENAME_USER_1)
    command = ["build", "--config", "config/acme.yaml", "--db", str(db)]

    assert siloscope(command) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert staged_users(con) == [("1", "ann", 1)]
    assert siloscope([*command, "--full-refresh"]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert staged_users(con) == [("1", "renamed", 1)]
    assert "window all: verdict: insufficient_data" in capsys.readouterr().out


def test_rows_loaded_before_load_ids_existed_are_built_once(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"))
    con.execute("update raw.x_users set load_id = null")  # a database from before load ids
    build_models(con, CONFIG.for_models(), EVERYTHING)
    land_and_load(con, landing, NEXT_NIGHT, user("2", "bob"))

    build_models(con, CONFIG.for_models(), EVERYTHING)
    build_models(con, CONFIG.for_models(), EVERYTHING)

    assert staged_users(con) == [("1", "ann", None), ("2", "bob", 2)]


def test_posts_loaded_before_raw_held_their_parsed_fields_are_parsed_once(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"))
    columns = ["conversation_id", "author_id", "created_at", "text", "lang"]
    columns += ["in_reply_to_user_id", "referenced_tweets"]
    for column in columns:  # raw.x_posts as an older loader left it
        con.execute(f"alter table raw.x_posts drop column {column}")

    ensure_schema(con)
    build_models(con, CONFIG.for_models(), EVERYTHING)

    assert con.execute(
        "select message_id, author_id, created_at, text from staging.stg_x__posts"
    ).fetchall() == [("101", "1", datetime(2026, 11, 1, 10, tzinfo=UTC), "post 101")]


def test_a_model_that_became_a_view_replaces_the_table_of_its_name(con, landing):
    land_and_load(con, landing, REQUEST, user("1", "ann"))
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_messages_unioned as select 1 as stale")

    build_models(con, CONFIG.for_models(), EVERYTHING)

    kind = con.execute(
        "select table_type from information_schema.tables where table_name = 'int_messages_unioned'"
    ).fetchone()
    assert kind == ("VIEW",)
    assert count(con, "intermediate.int_messages_unioned") == 1


def test_the_window_is_set_as_constants_for_the_models_to_filter_on(con, landing):
    window = BuildWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    land_and_load(con, landing, REQUEST, user("1", "ann"))

    build_models(con, CONFIG.for_models(), window)
    bounded = con.execute(
        "select getvariable('build_window_start'), getvariable('build_window_end')"
    ).fetchone()
    build_models(con, CONFIG.for_models(), EVERYTHING)
    unbounded = con.execute(
        "select getvariable('build_window_start') < timestamptz '0001-01-01', "
        "getvariable('build_window_end') > timestamptz '9999-01-01'"
    ).fetchone()

    assert bounded == (window.start, window.end)
    assert unbounded == (True, True)


def test_an_incremental_model_without_load_id_is_refused(con, tmp_path):
    models = tmp_path / "models"
    (models / "staging").mkdir(parents=True)
    (models / "staging" / "stg_things.sql").write_text(
        "-- materialized: incremental\nselect 1 as thing\n"
    )
    with pytest.raises(ValueError, match="stg_things.sql: an incremental model must select"):
        build_models(con, CONFIG.for_models(), EVERYTHING, models_dir=models)


def test_an_unknown_materialization_is_named_when_models_are_discovered(tmp_path):
    models = tmp_path / "models"
    (models / "marts").mkdir(parents=True)
    (models / "marts" / "things.sql").write_text("-- materialized: ephemeral\nselect 1 as x\n")
    with pytest.raises(ValueError, match="things.sql: materialized: ephemeral is not one of"):
        discover_models(models)


def test_every_staging_model_that_parses_raw_rows_is_incremental():
    staging = {m.name: m.materialized for m in discover_models(MODELS_DIR) if m.schema == "staging"}
    # a view: stg_x__posts reads fields the load parsed
    assert staging.pop("stg_x__posts") == "view"
    assert set(staging.values()) == {"incremental"}


def test_staging_reads_one_source_and_nothing_else():
    for model in discover_models(MODELS_DIR):
        if model.schema == "staging":
            sql = model.path.read_text()
            assert not model.depends_on, f"{model.name} reads {sorted(model.depends_on)}"
            assert len(set(re.findall(r"\bfrom raw\.(\w+)", sql))) == 1, model.name
            assert "union" not in sql and "join" not in sql, model.name


def test_the_platform_neutral_messages_are_views_over_staging():
    # stored, they would copy every message ever loaded once more, every night
    models = {m.name: m for m in discover_models(MODELS_DIR)}
    unioned = models["int_messages_unioned"]
    assert unioned.schema == "intermediate" and unioned.materialized == "view"
    for name in sorted(unioned.depends_on):
        assert models[name.split(".")[1]].materialized == "view", name


def write_models(folder, **models: str):
    """`schema__name="sql"` as models/<schema>/<name>.sql under folder."""
    for key, sql in models.items():
        schema, name = key.split("__", 1)
        (folder / schema).mkdir(parents=True, exist_ok=True)
        (folder / schema / f"{name}.sql").write_text(sql)
    return folder


def test_a_given_model_and_what_only_feeds_it_are_not_built(con, tmp_path):
    models = write_models(
        tmp_path / "models",
        staging__stg_feeds_given="select 1 as x from raw.missing",
        staging__stg_feeds_both="select 2 as x",
        intermediate__int_given="select * from staging.stg_feeds_given "
        "union all select * from staging.stg_feeds_both",
        marts__reads_both="select * from intermediate.int_given "
        "union all select * from staging.stg_feeds_both",
    )
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_given as select 40 as x")

    report = build_models(
        con, CONFIG.for_models(), EVERYTHING, models_dir=models, given=["intermediate.int_given"]
    )

    assert set(report.seconds_per_model) == {"staging.stg_feeds_both", "marts.reads_both"}
    assert con.execute("select x from marts.reads_both order by x").fetchall() == [(2,), (40,)]


def test_a_given_model_that_no_model_defines_is_refused(con):
    with pytest.raises(ValueError, match=r"given \['marts.nothing'\]: no model defines them"):
        build_models(con, CONFIG.for_models(), EVERYTHING, given=["marts.nothing"])


def test_the_build_memory_limit_comes_from_the_environment_and_is_checked(tmp_path, monkeypatch):
    from siloscope import pipeline
    from siloscope.settings import Settings

    settings = Settings.resolve("config/acme.yaml", tmp_path / "limits.duckdb")
    monkeypatch.setenv("SILOSCOPE_BUILD_MEMORY_LIMIT", "plenty")
    with pytest.raises(ValueError, match="memory limit 'plenty' is not like"):
        pipeline.build(settings, CONFIG, EVERYTHING)

    monkeypatch.setenv("SILOSCOPE_BUILD_MEMORY_LIMIT", "1GB")
    assert pipeline.build(settings, CONFIG, EVERYTHING)["verdict"] == "insufficient_data"
    # the limit holds for the build only; the caller's connection gets its own back
    with duckdb.connect(str(settings.db_path)) as con:
        build_models(con, CONFIG.for_models(), EVERYTHING, memory_limit="512MB")
        (limit,) = con.execute("select current_setting('memory_limit')").fetchone()
        assert limit != "488.2 MiB"


def test_the_app_config_itself_is_refused_with_what_to_pass_instead(con):
    with pytest.raises(TypeError, match=r"Organization, not OrgConfig .*for_models\(\)"):
        build_models(con, CONFIG, EVERYTHING)
