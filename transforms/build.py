"""Runs the models in transforms/models: staging -> intermediate -> marts, in one transaction.

A model is one file. `models/<schema>/<name>.sql` becomes the table `<schema>.<name>`; its
dependencies are the other models it names (`schema.table`), so the order is derived, never
listed by hand. A `.py` model declares `DEPENDS_ON` and defines `build(con)`, for the few
figures SQL expresses badly (graph centrality).

A model whose first line is `-- materialized: history` keeps one set of rows per window
(keyed by window_start, window_end): rebuilding a window replaces its rows, other windows
stay, which is how nightly snapshots accumulate for trend charts.

The config and the build window are written to `config.*` tables first, so models join
them like any other table and a data engineer can see what the marts were built with.
"""

from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from siloscope.config import OrgConfig

MODELS_DIR = Path(__file__).parent / "models"
MODEL_SCHEMAS = ("staging", "intermediate", "marts")
_TABLE_REFERENCE = re.compile(r"\b(staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")
_HISTORY_MARKER = "-- materialized: history"


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
    def is_history(self) -> bool:
        return self.path.suffix == ".sql" and self.path.read_text().startswith(_HISTORY_MARKER)


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
            found[table] = Model(schema, path.stem, path, frozenset(references - {table}))
    graph = {table: set(model.depends_on) & found.keys() for table, model in found.items()}
    for model in found.values():
        unknown = sorted(d for d in model.depends_on if d not in found)
        if unknown:
            raise ValueError(f"{model.path}: refers to {unknown}, which no model defines")
    return [found[table] for table in TopologicalSorter(graph).static_order()]


def write_config_tables(
    con: duckdb.DuckDBPyConnection, config: OrgConfig, window: BuildWindow
) -> None:
    """The config and the window as tables, so SQL models can join them."""
    con.execute("create schema if not exists config")
    con.execute("create or replace table config.departments (department varchar, position integer)")
    con.executemany(
        "insert into config.departments values (?, ?)",
        [(name, i) for i, name in enumerate(config.department_names())],
    )
    con.execute(
        "create or replace table config.org_accounts "
        "(platform varchar, account varchar, department varchar)"
    )
    if config.org_accounts():
        con.executemany("insert into config.org_accounts values (?, ?, ?)", config.org_accounts())
    con.execute(
        "create or replace table config.ignored_accounts (platform varchar, account varchar)"
    )
    if config.ignored_accounts():
        con.executemany(
            "insert into config.ignored_accounts values (?, ?)", config.ignored_accounts()
        )
    thresholds = config.thresholds
    con.execute(
        "create or replace table config.thresholds as select "
        "?::double as glue_threshold, ?::double as silo_threshold, "
        "?::integer as min_conversations",
        [thresholds.glue_threshold, thresholds.silo_threshold, thresholds.min_conversations],
    )
    con.execute(
        "create or replace table config.build_window as select "
        "?::timestamptz as window_start, ?::timestamptz as window_end",
        [window.start, window.end],
    )


def _run_sql_model(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    query = model.path.read_text()
    if not model.is_history:
        con.execute(f"create or replace table {model.table} as\n{query}")
        return
    con.execute(f"create table if not exists {model.table} as select * from ({query}) limit 0")
    con.execute(
        f"delete from {model.table} using config.build_window w "
        f"where {model.table}.window_start is not distinct from w.window_start "
        f"and {model.table}.window_end is not distinct from w.window_end"
    )
    con.execute(f"insert into {model.table} by name {query}")


@dataclass(frozen=True)
class BuildReport:
    window: BuildWindow
    seconds_per_model: dict[str, float]


def build_models(
    con: duckdb.DuckDBPyConnection,
    config: OrgConfig,
    window: BuildWindow,
    models_dir: Path = MODELS_DIR,
    schemas: tuple[str, ...] = MODEL_SCHEMAS,
) -> BuildReport:
    """(Re)build every model for `window`; all of it lands, or none of it does.

    `schemas` narrows the build to some layers: tests of the metrics write
    staging.stg_messages by hand and build ("intermediate", "marts") on top of it.
    """
    models = [m for m in discover_models(models_dir) if m.schema in schemas]
    timings: dict[str, float] = {}
    con.execute("begin transaction")
    try:
        for schema in MODEL_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        write_config_tables(con, config, window)
        for model in models:
            started = time.perf_counter()
            if model.path.suffix == ".py":
                _load_python_model(model.path).build(con)
            else:
                _run_sql_model(con, model)
            timings[model.table] = time.perf_counter() - started
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return BuildReport(window, timings)
