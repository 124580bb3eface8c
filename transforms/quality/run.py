"""Validate a DuckDB file against the suites; record outcomes; write Data Docs.

Tables are read into pandas dataframes over a read-only connection (Great Expectations'
SQL datasource through duckdb_engine returns empty results for DuckDB, so every
expectation would fail), validated by one Checkpoint per table, and the outcomes written
to ops.validations in one short write. DuckDB allows one writing process: the file is
held only while reading and while writing the outcomes, never while GX computes.

The Data Docs site is <quality dir>/index.html, GX's JSON validation results (the
history the site lists) <quality dir>/results/; the quality dir is quality/ beside the
database. Each table is read whole into memory: fine for a 28-day window of one company's
conversations; a much larger message table would want sampling or a SQL engine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transforms.organization import Organization
from transforms.quality import (
    ExpectationOutcome,
    NothingToValidate,
    ValidationReport,
    quality_dir_for,
)
from transforms.quality.suites import CRITICAL, SuiteInputs, TableSuite, table_suites

if TYPE_CHECKING:
    import duckdb
    import pandas

DATA_DOCS_SITE = "siloscope"
DATASOURCE = "siloscope"
RESULTS_FOLDER = "results"  # GX's validation results (JSON), beside the HTML

SCHEMA_SQL = """
create schema if not exists ops;
create table if not exists ops.validations (
    run_id varchar not null,          -- the DAG run id, or cli__<date> / validate__<time>
    night timestamptz,                -- the nightly run's interval end; null: `siloscope validate`
    suite varchar not null,           -- the table validated, e.g. marts.org_verdict
    expectation varchar not null,     -- e.g. expect_column_values_to_not_be_null(column=author_id)
    expectation_type varchar not null,
    kwargs json,                      -- the expectation's arguments, bounds included
    critical boolean not null,        -- a critical failure stops the run before publishing
    success boolean not null,
    element_count bigint,             -- rows checked (column expectations)
    unexpected_count bigint,          -- rows that broke it (column expectations)
    observed_value varchar,           -- what was found (table expectations), as JSON
    unexpected_sample json,           -- up to 20 offending values, as text
    error varchar,                    -- the expectation could not be evaluated
    window_start timestamptz, window_end timestamptz,  -- the build window validated
    validated_at timestamptz not null
);
"""


def _missing(value: Any) -> bool:
    """A null shows as None, NaN or NaT in pandas; as an example it says nothing."""
    return value is None or (not isinstance(value, dict | list | str) and value != value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(_json_value(value))
    return str(value)


def _json_value(value: Any) -> Any:
    """GX results carry numpy and pandas scalars; ops.validations wants plain JSON."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, datetime):  # pandas Timestamps too
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _describe_expectation(expectation_type: str, kwargs: dict) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("batch_id", "severity")}
    arguments = []
    for key in ("column", "column_list", "column_A", "column_B"):
        if key in shown:
            value = shown.pop(key)
            arguments.append(f"{key}={','.join(value) if isinstance(value, list) else value}")
    for key, value in shown.items():
        if key == "value_set":
            value = f"{len(value)} value(s)"
        elif key == "row_condition" and isinstance(value, dict):
            column = (value.get("column") or {}).get("name")
            value = f"{column} {value.get('operator')} {value.get('parameter')}"
        elif isinstance(value, datetime):
            value = value.isoformat()
        arguments.append(f"{key}={value}")
    return f"{expectation_type}({', '.join(arguments)})"


def _error(exception_info: dict) -> str | None:
    """GX nests what went wrong per metric when a metric failed, else gives it flat."""
    found = [exception_info, *(v for v in exception_info.values() if isinstance(v, dict))]
    messages = [
        str(info.get("exception_message"))
        for info in found
        if info.get("raised_exception") and info.get("exception_message")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _outcome(suite: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = _json_value(dict(config.kwargs))
    kwargs.pop("batch_id", None)
    details = result.result or {}
    error = _error(result.exception_info or {})
    observed = details.get("observed_value")
    return ExpectationOutcome(
        suite=suite,
        expectation=_describe_expectation(config.type, dict(config.kwargs)),
        expectation_type=config.type,
        kwargs=kwargs,
        critical=config.severity == CRITICAL,
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        observed_value=None if observed is None else json.dumps(_json_value(observed)),
        unexpected_sample=[
            _text(v) for v in details.get("partial_unexpected_list") or [] if not _missing(v)
        ],
        error=error,
    )


def _read_inputs(
    db_path: Path, suites_for: Any, organization: Organization, validated_at: datetime
) -> tuple[SuiteInputs, list[tuple[TableSuite, pandas.DataFrame | None]]]:
    import duckdb

    if not db_path.exists():
        raise NothingToValidate(f"no database at {db_path}: run `siloscope run` first")
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        if "config.build_window" not in tables:
            raise NothingToValidate(f"{db_path}: nothing built yet: run `siloscope build` first")
        window = con.execute("select window_start, window_end from config.build_window").fetchone()
        if window is None:
            raise NothingToValidate(f"{db_path}: config.build_window is empty: build again")
        window_start, window_end = window
        inputs = SuiteInputs.of(organization, window_start, window_end, validated_at)
        frames = [
            (suite, con.execute(suite.query).df() if suite.table in tables else None)
            for suite in suites_for(inputs)
        ]
    return inputs, frames


def _context(quality_dir: Path):
    """An ephemeral GX context whose validation results and Data Docs are files.

    Suites, validation definitions and checkpoints are built from this repository on
    every run and kept in memory, so nothing stale can outlive a change to suites.py;
    only the results (the history the Data Docs index lists) and the HTML persist.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    defaults.stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(quality_dir / RESULTS_FOLDER),
        },
    }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(quality_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        # tqdm bars per metric would fill task logs and terminals with carriage returns
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _run_suites(
    quality_dir: Path,
    frames: list[tuple[TableSuite, pandas.DataFrame]],
    run_id: str,
    validated_at: datetime,
) -> tuple[list[ExpectationOutcome], str | None]:
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    context = _context(quality_dir)
    datasource = context.data_sources.add_pandas(DATASOURCE)
    run = gx.RunIdentifier(run_name=run_id, run_time=validated_at)
    outcomes: list[ExpectationOutcome] = []
    rendered: list = []
    for suite, frame in frames:
        batch = datasource.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe(
            "whole table"
        )
        expectation_suite = context.suites.add(
            gx.ExpectationSuite(name=suite.table, expectations=suite.expectations)
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.table, data=batch, suite=expectation_suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=suite.table,
                validation_definitions=[definition],
                result_format={"result_format": "SUMMARY"},
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run)
        for identifier, validation in result.run_results.items():
            rendered += [identifier, ExpectationSuiteIdentifier(name=suite.table)]
            outcomes += [_outcome(suite.table, r) for r in validation.results]
    # Once for all tables, not by an UpdateDataDocsAction per checkpoint: each action
    # rebuilds the index over the whole history, which made docs most of validate's time.
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=rendered)
    sites = context.get_docs_sites_urls(site_name=DATA_DOCS_SITE)
    return outcomes, sites[0]["site_url"] if sites else None


def _missing_table(suite: TableSuite) -> ExpectationOutcome:
    return ExpectationOutcome(
        suite=suite.table,
        expectation="table exists",
        expectation_type="table_exists",
        kwargs={},
        critical=True,
        success=False,
        error=f"{suite.table} does not exist: was the build run?",
    )


def record(
    con: duckdb.DuckDBPyConnection,
    report: ValidationReport,
    inputs: SuiteInputs,
    night: datetime | None,
) -> None:
    """Add this validation's rows. A night run again replaces that night's rows, as it
    replaces its extract runs and loaded files; `siloscope validate` only adds."""
    con.execute(SCHEMA_SQL)
    rows = [
        (
            report.run_id,
            night,
            o.suite,
            o.expectation,
            o.expectation_type,
            json.dumps(o.kwargs),
            o.critical,
            o.success,
            o.element_count,
            o.unexpected_count,
            o.observed_value,
            json.dumps(o.unexpected_sample),
            o.error,
            inputs.window_start,
            inputs.window_end,
            report.validated_at,
        )
        for o in report.outcomes
    ]
    con.execute("begin transaction")
    try:
        if night is not None:
            con.execute("delete from ops.validations where night = ?", [night])
        con.execute("delete from ops.validations where run_id = ?", [report.run_id])
        if rows:
            con.executemany(
                "insert into ops.validations "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def validate_database(
    db_path: Path,
    organization: Organization,
    run_id: str,
    night: datetime | None = None,
    quality_dir: Path | None = None,
    suites_for=table_suites,
) -> ValidationReport:
    """Validate every suite's table in `db_path`; a failed expectation is reported, not raised.

    The outcomes are in ops.validations when this returns, whatever they are.
    """
    import duckdb

    validated_at = datetime.now(UTC)
    quality_dir = quality_dir or quality_dir_for(db_path)
    inputs, frames = _read_inputs(db_path, suites_for, organization, validated_at)
    present = [(suite, frame) for suite, frame in frames if frame is not None]
    outcomes, data_docs = _run_suites(quality_dir, present, run_id, validated_at)
    outcomes += [_missing_table(suite) for suite, frame in frames if frame is None]
    report = ValidationReport(run_id, validated_at, outcomes, data_docs)
    with duckdb.connect(str(db_path)) as con:
        record(con, report, inputs, night)
    return report
