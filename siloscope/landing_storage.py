"""How the landing zone reaches object storage: the storage options of its fsspec filesystem.

Without SILOSCOPE_LANDING_CONN_ID the filesystem finds its own credentials, as its SDK
does (for s3://: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_ENDPOINT_URL, a profile
or the machine's role). With it, they come from that Airflow Connection, read when the
task runs. They go to the filesystem object only: never into a log line, a landing path, a
manifest or DuckDB.
"""

from __future__ import annotations

import os
from typing import Any

LANDING_CONN_ID_VARIABLE = "SILOSCOPE_LANDING_CONN_ID"


def landing_storage_options(landing_root: str) -> dict[str, Any]:
    conn_id = os.environ.get(LANDING_CONN_ID_VARIABLE)
    if not conn_id or "://" not in landing_root:
        return {}
    from airflow.sdk import Connection

    connection = Connection.get(conn_id)
    protocol = landing_root.split("://", 1)[0]
    if protocol in ("s3", "s3a"):
        return s3_options(connection.login, connection.password, connection.extra_dejson)
    # gcsfs, adlfs and the rest take their own keys (token, account_name, ...) as they are.
    return dict(connection.extra_dejson)


def s3_options(
    access_key: str | None, secret_key: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """An Airflow `aws` Connection's fields (login, password, extra endpoint_url,
    region_name, aws_session_token) as s3fs arguments."""
    options: dict[str, Any] = {}
    if access_key:
        options["key"] = access_key
    if secret_key:
        options["secret"] = secret_key
    if extra.get("aws_session_token"):
        options["token"] = extra["aws_session_token"]
    if extra.get("endpoint_url"):
        options["endpoint_url"] = extra["endpoint_url"]
    if extra.get("region_name"):
        options["client_kwargs"] = {"region_name": extra["region_name"]}
    return options
