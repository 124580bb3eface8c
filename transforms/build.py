"""Runs the models in transforms/models: staging -> intermediate -> marts, in one transaction.

A model is one file. `models/<schema>/<name>.sql` becomes the table `<schema>.<name>`; its
dependencies are the other models it names (`schema.table`), so the order is derived, never
listed by hand. A `.py` model declares `DEPENDS_ON` and defines `build(con)`, for the few
figures SQL expresses badly (graph centrality).

A model's first line may say how it is materialized (the default is `table`: rebuilt
whole every time):

- `-- materialized: view`: a view, for a model that only reshapes tables (the
  platform-neutral messages, int_messages_unioned and the int_<platform>__messages under
  it): storing it would copy every message ever loaded once more, every night.
- `-- materialized: incremental`: a staging model of raw rows. It selects the raw rows'
  `load_id`; once the table exists, a build computes and appends only the rows of loads
  after the newest one it holds (raw tables only ever gain rows), so parsing costs what
  the night brought, not the history. A model whose columns changed is rebuilt whole, and
  so is every incremental model when the build is asked for a full refresh.
- `-- materialized: history`: keeps one set of rows per window (keyed by window_start,
  window_end): rebuilding a window replaces its rows, other windows stay, which is how
  nightly snapshots accumulate for trend charts.

The config and the build window are written to `config.*` tables first, so models join
them like any other table and a data engineer can see what the marts were built with.
The window is also set as the DuckDB variables build_window_start and build_window_end
(unbounded ends are -infinity and infinity): a model that filters on
getvariable('build_window_start') compares with a constant, which DuckDB pushes into
the table scan, so row groups outside the window are never read.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from transforms.organization import Organization

if TYPE_CHECKING:
    import duckdb

MODELS_DIR = Path(__file__).parent / "models"
MODEL_SCHEMAS = ("staging", "intermediate", "marts")
_TABLE_REFERENCE = re.compile(r"\b(staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")
_MATERIALIZED = re.compile(r"-- materialized: ([a-z]+)")
MATERIALIZATIONS = ("table", "view", "incremental", "history")


@dataclass(frozen=True)
class BuildWindow:
    """The messages a build measures: created_at in [start, end); None is unbounded."""

    start: datetime | None
    end: datetime | None

    @classmethod
    def everything(cls) -> BuildWindow:
        return cls(None, None)

    @classmethod
    def rolling(cls, end: datetime, days: int) -> BuildWindow:
        end = end.astimezone(UTC)
        return cls(end - timedelta(days=days), end)

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all"
        start = self.start.isoformat() if self.start else "-inf"
        end = self.end.isoformat() if self.end else "+inf"
        return f"[{start}, {end})"


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    path: Path
    depends_on: frozenset[str]

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def materialized(self) -> str:
        """How the model is stored: its first line `-- materialized: <how>`, or table."""
        if self.path.suffix != ".sql":
            return "table"
        first_line = self.path.read_text().split("\n", 1)[0]
        match = _MATERIALIZED.fullmatch(first_line.strip())
        if match is None:
            return "table"
        if match.group(1) not in MATERIALIZATIONS:
            raise ValueError(
                f"{self.path}: materialized: {match.group(1)} is not one of {MATERIALIZATIONS}"
            )
        return match.group(1)


def _load_python_model(path: Path):
    spec = importlib.util.spec_from_file_location(f"siloscope_model_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def discover_models(models_dir: Path = MODELS_DIR) -> list[Model]:
    """Every model under models_dir, in an order where dependencies come first."""
    found: dict[str, Model] = {}
    for schema in MODEL_SCHEMAS:
        for path in sorted((models_dir / schema).glob("*")):
            if path.suffix == ".sql":
                references = {f"{s}.{t}" for s, t in _TABLE_REFERENCE.findall(path.read_text())}
            elif path.suffix == ".py" and not path.name.startswith("_"):
                references = set(_load_python_model(path).DEPENDS_ON)
            else:
                continue
            table = f"{schema}.{path.stem}"
            model = Model(schema, path.stem, path, frozenset(references - {table}))
            _ = model.materialized  # an unknown materialization fails here, not mid-build
            found[table] = model
    graph = {table: set(model.depends_on) & found.keys() for table, model in found.items()}
    for model in found.values():
        unknown = sorted(d for d in model.depends_on if d not in found)
        if unknown:
            raise ValueError(f"{model.path}: refers to {unknown}, which no model defines")
    return [found[table] for table in TopologicalSorter(graph).static_order()]


def _upstream(
    models: list[Model], tables: Collection[str], stop_at: Collection[str] = ()
) -> set[str]:
    """`tables` and every model they read from, directly or not, up to `stop_at`."""
    depends_on = {model.table: model.depends_on for model in models}
    found: set[str] = set()
    waiting = list(tables)
    while waiting:
        table = waiting.pop()
        if table not in found:
            found.add(table)
            if table not in stop_at:
                waiting.extend(depends_on.get(table, ()))
    return found


def _not_to_build(models: list[Model], given: Collection[str]) -> set[str]:
    """The given models, and the models upstream of them that no other model reads."""
    feeding_given = _upstream(models, given)
    others = [model.table for model in models if model.table not in feeding_given]
    return set(given) | (feeding_given - _upstream(models, others, stop_at=given))


def write_config_tables(
    con: duckdb.DuckDBPyConnection, organization: Organization, window: BuildWindow
) -> None:
    """The organisation and the window as tables, so SQL models can join them."""
    if not isinstance(organization, Organization):
        # an app's config object would fail deep inside DuckDB; say what is expected
        raise TypeError(
            f"build_models takes a transforms.organization.Organization, not "
            f"{type(organization).__name__} (the app's config gives one: for_models())"
        )
    con.execute("create schema if not exists config")
    con.execute("create or replace table config.departments (department varchar, position integer)")
    con.executemany(
        "insert into config.departments values (?, ?)",
        [(name, i) for i, name in enumerate(organization.departments)],
    )
    con.execute(
        "create or replace table config.org_accounts "
        "(platform varchar, account varchar, department varchar)"
    )
    if organization.accounts:
        con.executemany("insert into config.org_accounts values (?, ?, ?)", organization.accounts)
    con.execute(
        "create or replace table config.ignored_accounts (platform varchar, account varchar)"
    )
    if organization.ignored_accounts:
        con.executemany(
            "insert into config.ignored_accounts values (?, ?)", organization.ignored_accounts
        )
    con.execute(
        "create or replace table config.thresholds as select "
        "?::double as glue_threshold, ?::double as silo_threshold, "
        "?::integer as min_conversations",
        [organization.glue_threshold, organization.silo_threshold, organization.min_conversations],
    )
    con.execute(
        "create or replace table config.build_window as select "
        "?::timestamptz as window_start, ?::timestamptz as window_end",
        [window.start, window.end],
    )
    con.execute(
        "set variable build_window_start = coalesce(?::timestamptz, '-infinity'::timestamptz)",
        [window.start],
    )
    con.execute(
        "set variable build_window_end = coalesce(?::timestamptz, 'infinity'::timestamptz)",
        [window.end],
    )


def _existing_kind(con: duckdb.DuckDBPyConnection, model: Model) -> str | None:
    """'table', 'view' or None: what the database holds under the model's name now."""
    row = con.execute(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [model.schema, model.name],
    ).fetchone()
    if row is None:
        return None
    return "view" if row[0] == "VIEW" else "table"


def _columns(con: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    return [column[0] for column in con.execute(f"select * from ({query}) limit 0").description]


def _run_sql_model(con: duckdb.DuckDBPyConnection, model: Model, full_refresh: bool) -> None:
    query = model.path.read_text()
    existing = _existing_kind(con, model)
    wanted = "view" if model.materialized == "view" else "table"
    if existing is not None and existing != wanted:
        # a model that changed materialization: DuckDB will not replace one kind by the other
        con.execute(f"drop {existing} {model.table}")
        existing = None
    if model.materialized == "view":
        con.execute(f"create or replace view {model.table} as\n{query}")
    elif model.materialized == "table":
        con.execute(f"create or replace table {model.table} as\n{query}")
    elif model.materialized == "incremental":
        _run_incremental(con, model, query, rebuild=full_refresh or existing is None)
    else:
        con.execute(f"create table if not exists {model.table} as select * from ({query}) limit 0")
        con.execute(
            f"delete from {model.table} using config.build_window w "
            f"where {model.table}.window_start is not distinct from w.window_start "
            f"and {model.table}.window_end is not distinct from w.window_end"
        )
        con.execute(f"insert into {model.table} by name {query}")


def _run_incremental(
    con: duckdb.DuckDBPyConnection, model: Model, query: str, rebuild: bool
) -> None:
    columns = _columns(con, query)
    if "load_id" not in columns:
        raise ValueError(f"{model.path}: an incremental model must select load_id")
    if not rebuild:
        existing = [c[0] for c in con.execute(f"select * from {model.table} limit 0").description]
        rebuild = existing != columns
    if rebuild:
        con.execute(f"create or replace table {model.table} as\n{query}")
        return
    # Rows of raw tables written before load ids have none; a whole build took them in.
    [(newest,)] = con.execute(f"select coalesce(max(load_id), -1) from {model.table}").fetchall()
    # a constant, not a subquery: DuckDB pushes it into the raw table's scan
    con.execute(
        f"insert into {model.table} by name\n"
        f"select * from (\n{query}\n) as model where model.load_id > ?",
        [newest],
    )


@dataclass(frozen=True)
class BuildReport:
    window: BuildWindow
    seconds_per_model: dict[str, float]


# A build holds this much memory at most unless the app says otherwise (siloscope.settings,
# at run time); past it DuckDB spills to a temp folder beside the database. 10M messages
# build in 3 GB.
BUILD_MEMORY_LIMIT = "3GB"

# How each layer is compressed. Left to itself DuckDB picks dictionary+FSST for most
# strings, and analysing and writing that is most of what storing a table costs (measured
# on 10M posts: staged in 24-28 s that way, in 18 s with zstd, and as small within 3%).
# Staging keeps every message for good, so it takes zstd. The other layers are rewritten
# whole every night: they skip the costliest method and take the next best DuckDB finds.
_COMPRESSION = {
    "staging": "set force_compression = 'zstd'",
    "intermediate": "set disabled_compression_methods = 'dict_fsst'",
    "marts": "set disabled_compression_methods = 'dict_fsst'",
}
_DEFAULT_COMPRESSION = ("reset force_compression", "reset disabled_compression_methods")


def check_memory_limit(memory_limit: str) -> str:
    if not re.fullmatch(r"[0-9.]+ ?[KMGT]i?B", memory_limit):
        raise ValueError(f"memory limit {memory_limit!r} is not like '512MB' or '3GB'")
    return memory_limit


def build_models(
    con: duckdb.DuckDBPyConnection,
    organization: Organization,
    window: BuildWindow,
    models_dir: Path = MODELS_DIR,
    given: Collection[str] = (),
    full_refresh: bool = False,
    memory_limit: str = BUILD_MEMORY_LIMIT,
) -> BuildReport:
    """(Re)build every model for `window`; all of it lands, or none of it does.

    `given` names models the caller wrote itself: they, and the models that only feed
    them, are not built. Tests of the metrics write intermediate.int_messages_unioned by
    hand and build everything that reads it.
    `full_refresh` rebuilds incremental models whole, from every raw row.
    """
    models = discover_models(models_dir)
    unknown = sorted(set(given) - {model.table for model in models})
    if unknown:
        raise ValueError(f"given {unknown}: no model defines them")
    skipped = _not_to_build(models, given)
    models = [model for model in models if model.table not in skipped]
    timings: dict[str, float] = {}
    [(previous_limit,)] = con.execute("select current_setting('memory_limit')").fetchall()
    con.execute(f"set memory_limit = '{check_memory_limit(memory_limit)}'")
    con.execute("begin transaction")
    try:
        for schema in MODEL_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        write_config_tables(con, organization, window)
        for model in models:
            started = time.perf_counter()
            for statement in (*_DEFAULT_COMPRESSION, _COMPRESSION[model.schema]):
                con.execute(statement)
            if model.path.suffix == ".py":
                _load_python_model(model.path).build(con)
            else:
                _run_sql_model(con, model, full_refresh)
            timings[model.table] = time.perf_counter() - started
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for statement in _DEFAULT_COMPRESSION:
            con.execute(statement)
        con.execute(f"set memory_limit = '{previous_limit}'")
    return BuildReport(window, timings)
