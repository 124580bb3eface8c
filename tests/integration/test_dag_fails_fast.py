"""Airflow retries only what can heal (issue 13, item 7), run by Airflow itself (dag.test).

One night, two accounts, each failing its own way:
- x/AcmeHelp: the X API answers 503 to every request: waiting may heal it, so the task
  is tried 1 + retries times;
- reddit/AcmeBrand: the Connection's client secret is refused (401): a person has to act,
  so the task fails on its first try, with the message that says what to fix.
A missing Connection is the same kind of failure (not retryable), shown without a run.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from tests.integration.fake_reddit_api import FakeRedditApi
from tests.integration.fake_x_api import FakeXApi, HttpError
from tests.integration.log_lines import LogLines

REPO = Path(__file__).resolve().parents[2]
X_TOKEN = "fail-fast-x-token-do-not-leak-1"
CLIENT_ID = "fail-fast-client-id"
CLIENT_SECRET = "fail-fast-client-secret-do-not-leak"
ENVIRONMENT = (
    "SILOSCOPE_CONFIG",
    "SILOSCOPE_DB",
    "SILOSCOPE_LANDING",
    "AIRFLOW_CONN_X_DEFAULT",
    "AIRFLOW_CONN_REDDIT_DEFAULT",
)


@pytest.fixture(scope="module")
def night(tmp_path_factory, airflow_db, request):
    from airflow.dag_processing.dagbag import DagBag

    root = tmp_path_factory.mktemp("fail-fast")
    logical_date = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    with (
        FakeXApi(token=X_TOKEN) as x,
        FakeRedditApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as reddit,
    ):
        x.user("AcmeHelp")
        x.fail_next(HttpError(503, "Service Unavailable"), times=100)
        reddit.account("AcmeBrand", password="brand-password")
        config = {
            "organization": "Acme",
            "departments": [
                {"name": "Care", "accounts": {"x": ["AcmeHelp"]}},
                {"name": "Marketing", "accounts": {"reddit": ["AcmeBrand"]}},
            ],
            "sources": {"x": "api", "reddit": "api"},
        }
        (root / "org.yaml").write_text(yaml.safe_dump(config))
        os.environ.update(
            {
                "SILOSCOPE_CONFIG": str(root / "org.yaml"),
                "SILOSCOPE_DB": str(root / "siloscope.duckdb"),
                "SILOSCOPE_LANDING": str(root / "landing"),
                "AIRFLOW_CONN_X_DEFAULT": json.dumps(
                    {
                        "conn_type": "generic",
                        "password": X_TOKEN,
                        "host": x.base_url,
                        "extra": {"max_retries": 0},
                    }
                ),
                "AIRFLOW_CONN_REDDIT_DEFAULT": json.dumps(
                    {
                        "conn_type": "generic",
                        "login": CLIENT_ID,
                        "password": "not-the-secret",
                        "host": reddit.base_url,
                        "extra": {"username": "AcmeBrand", "password": "brand-password"},
                    }
                ),
            }
        )
        said = LogLines()
        logging.getLogger().addHandler(said)
        try:
            nightly = DagBag(dag_folder=str(REPO / "dags")).dags["siloscope_nightly"]
            for task in nightly.tasks:
                task.retry_delay = timedelta(0)
            run = nightly.test(logical_date=logical_date)
            # the task runner writes its log (the failure and its message) to the output,
            # which pytest holds: read it, and give it back for pytest to show on failure
            capture = request.config.pluginmanager.getplugin("capturemanager")
            if capture is not None and capture.is_globally_capturing():
                out, err = capture.read_global_capture()
                said.lines += [out, err]
                sys.stdout.write(out)
                sys.stderr.write(err)
            yield {
                "run": run,
                "retries": nightly.get_task("extract").retries,
                "x_lookups": len(x.requests_to("user")),
                "reddit_logins": len(reddit.requests_to("token")),
                "said": "\n".join(said.lines),
            }
        finally:
            logging.getLogger().removeHandler(said)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def extracts(run) -> dict[str, tuple[str, int]]:
    """Each extract's final state and how many times Airflow tried it."""
    return {
        ti.rendered_map_index: (ti.state, ti.try_number)
        for ti in run.get_task_instances()
        if ti.task_id == "extract"
    }


def test_every_failing_account_fails_its_task(night):
    assert night["run"].state == "failed"
    assert {label: state for label, (state, _) in extracts(night["run"]).items()} == {
        "x/AcmeHelp": "failed",
        "reddit/AcmeBrand": "failed",
    }


def test_an_outage_is_retried_by_airflow(night):
    assert night["retries"] == 2
    assert extracts(night["run"])["x/AcmeHelp"][1] == 1 + night["retries"]
    assert night["x_lookups"] == 1 + night["retries"]  # one request per try (max_retries 0)


def test_a_refused_secret_fails_at_once_saying_what_to_fix(night):
    assert extracts(night["run"])["reddit/AcmeBrand"][1] == 1
    assert night["reddit_logins"] == 1  # one try, one token request: nothing retried
    assert (
        "the app's client id and secret were refused (HTTP 401 from the token endpoint); "
        "check the app's client id and secret in Airflow Connection reddit_default "
        "(login, password; values redacted)"
    ) in night["said"]
    assert "not-the-secret" not in night["said"]


def test_a_missing_reddit_connection_is_a_credential_to_add_not_a_retry(monkeypatch):
    from siloscope.sources import MissingCredential, airflow_reddit_credentials

    monkeypatch.delenv("AIRFLOW_CONN_REDDIT_DEFAULT", raising=False)
    with pytest.raises(MissingCredential) as raised:
        airflow_reddit_credentials("AcmeSupport")
    assert str(raised.value) == (
        "Reddit credentials missing: add Airflow Connection reddit_default "
        "(or reddit_acmesupport) (sources.reddit is 'api')"
    )
    assert not raised.value.retryable


def test_a_missing_x_connection_is_a_credential_to_add_not_a_retry(monkeypatch):
    from siloscope.sources import MissingCredential, airflow_live_source

    monkeypatch.delenv("AIRFLOW_CONN_X_DEFAULT", raising=False)
    with pytest.raises(MissingCredential, match="add Airflow Connection x_default") as raised:
        airflow_live_source("x")
    assert not raised.value.retryable
