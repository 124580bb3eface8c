"""Siloscope's nightly run: extract every department account, load, reconcile, build the
marts, validate them, publish them for dashboards and draw the report page.

Thin on purpose: the scheduler parses this file every few seconds, so it imports only
airflow.sdk; the steps live in siloscope.pipeline and import their libraries inside.
Settings come from SILOSCOPE_CONFIG / SILOSCOPE_DB / SILOSCOPE_LANDING at run time,
credentials from the Airflow Connections x_default, reddit_default, bluesky_default
(bluesky_<handle>) and mastodon_<user>_<instance>. A failure a retry cannot heal (a refused
or missing credential, a broken config) fails its task at once with the message that says
what to fix; 429s, 5xx and timeouts are retried.
SILOSCOPE_WRITER_QUEUE is read here, at parse time, because a task's queue is part of the
DAG the scheduler stores.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

# Extract tasks only write landing files; everything that writes DuckDB (which allows one
# writing process) shares this one-slot pool.
DUCKDB_POOL = "siloscope_duckdb"
# The working DuckDB file is on one machine's disk: under Celery, every task that opens it
# goes to the queue only that machine's worker serves. Extracts stay on the general queue
# any worker takes. "default" is Airflow's own default queue, so one machine needs nothing.
WRITER_QUEUE = os.environ.get("SILOSCOPE_WRITER_QUEUE") or "default"


def _interval_end(context) -> datetime:
    # A manual run in Airflow 3 may have no data interval; it measures up to run_after.
    end = context.get("data_interval_end") or context["dag_run"].run_after
    return end.astimezone(UTC)


def _settings_and_config():
    """Where things are, and the organisation's config: read when a task runs, not at parse."""
    from siloscope.config import load_config
    from siloscope.settings import Settings

    settings = Settings.resolve()
    return settings, load_config(settings.config_path)


def _retrying_only_what_can_heal(step: Callable[..., Any]) -> Callable[..., Any]:
    """A failure that says it is not `retryable` (a refused or missing credential, a broken
    config, books that do not balance, a failed critical expectation) fails the task at
    once with its message, which says what to fix; the rest (429, 5xx, timeouts) is left
    to the task's retries."""

    @functools.wraps(step)
    def run(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "retryable", True):
                raise
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc

    return run


@dag(
    dag_id="siloscope_nightly",
    description="Silo-vs-glue metrics of customer conversations, from X, Reddit, Bluesky, Mastodon",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["siloscope", "social-listening", "duckdb"],
    default_args={
        "owner": "siloscope",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
    },
    doc_md=__doc__,
)
def siloscope_nightly():
    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def plan(**context) -> list[dict]:
        """One extract target per configured (platform, account), with its watermarks."""
        from siloscope.pipeline import plan_extract

        settings, config = _settings_and_config()
        return [t.to_dict() for t in plan_extract(settings, config, _interval_end(context))]

    @task(
        map_index_template="{{ task.op_kwargs['target']['platform'] }}/"
        "{{ task.op_kwargs['target']['account'] }}"
    )
    @_retrying_only_what_can_heal
    def extract(target: dict, **context) -> dict:
        from siloscope.pipeline import ExtractTarget
        from siloscope.pipeline import extract as extract_account
        from siloscope.sources import airflow_live_source

        settings, config = _settings_and_config()
        return extract_account(
            settings,
            config,
            ExtractTarget(**target),
            run_id=context["run_id"],
            until=_interval_end(context),
            live_source=airflow_live_source,
        )

    # all_done: what the other accounts landed is loaded even when one account failed
    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE, trigger_rule="all_done")
    @_retrying_only_what_can_heal
    def load() -> str:
        from siloscope.pipeline import load as load_landing
        from siloscope.settings import Settings

        return load_landing(Settings.resolve()).describe()

    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def build(**context) -> dict:
        from siloscope.pipeline import build as build_marts
        from siloscope.pipeline import nightly_window

        settings, config = _settings_and_config()
        return build_marts(settings, config, nightly_window(config, _interval_end(context)))

    # Reads the working database, so it queues behind the writers in their pool. An
    # incomplete night (NightIncomplete) fails at once, naming the accounts.
    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def publish(**context) -> str:
        from siloscope.pipeline import publish as publish_marts

        settings, config = _settings_and_config()
        return publish_marts(settings, config, _interval_end(context)).describe()

    # Reads only the published copy, which no writer ever locks; it is on the writer's disk.
    @task(queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def report_page() -> str:
        from siloscope.pipeline import report_page as write_report_page

        return str(write_report_page(*_settings_and_config()))

    # A mismatch is the same on a retry (ReconciliationFailed is not retryable): the task
    # fails at once, before the marts are rebuilt.
    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def reconcile(**context) -> str:
        from siloscope.pipeline import reconcile as reconcile_runs
        from siloscope.settings import Settings

        results = reconcile_runs(Settings.resolve(), _interval_end(context))
        return "\n".join(result.describe() for result in results)

    # Nothing downstream (publishing) runs on data that failed a critical expectation (not
    # retryable: the task fails at once).
    @task(pool=DUCKDB_POOL, queue=WRITER_QUEUE)
    @_retrying_only_what_can_heal
    def validate(**context) -> str:
        from siloscope.pipeline import validate as validate_marts

        settings, config = _settings_and_config()
        report = validate_marts(settings, config, context["run_id"], _interval_end(context))
        return report.describe()

    # Downstream of every extract too: a failed account fails the run visibly, after the
    # others were loaded and built.
    @task
    def summarize(verdict: dict) -> str:
        import logging

        from siloscope.pipeline import describe_verdict

        text = describe_verdict(verdict)
        logging.getLogger(__name__).info(text)
        return text

    extracted = extract.expand(target=plan())
    loaded = load()
    extracted >> loaded
    reconciled = reconcile()
    loaded >> reconciled
    verdict = build()
    reconciled >> verdict
    validated = validate()
    verdict >> validated
    summary = summarize(verdict)
    validated >> summary
    extracted >> summary
    # Only a finished night is published: every account extracted, built and validated.
    published = publish()
    extracted >> published
    validated >> published
    published >> report_page()


siloscope_nightly()
