"""Live API sources, built where the run happens so credentials are read at run time.

On the command line they come from environment variables; in Airflow from the
Connections x_default and reddit_default. They are never logged, landed or stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ingest.pages import PageSource

X_DEFAULT_BASE_URL = "https://api.twitter.com"
# Tuning of XApiSource (ingest/x/README.md): env SILOSCOPE_X_<NAME> on the command line,
# keys of the x_default Connection's extra in Airflow.
X_SOURCE_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "max_retries": int,
    "backoff_seconds": float,
    "max_rate_limit_wait_seconds": float,
    "request_timeout_seconds": float,
    "search_query_max_chars": int,
}


class MissingCredential(RuntimeError):
    pass


def env_live_source(platform: str) -> PageSource:
    if platform == "x":
        from ingest.x import XApiSource

        token = os.environ.get("SILOSCOPE_X_BEARER_TOKEN")
        if not token:
            raise MissingCredential(
                "X bearer token missing: set SILOSCOPE_X_BEARER_TOKEN (sources.x is 'api')"
            )
        options = _x_options(
            {name: os.environ.get(f"SILOSCOPE_X_{name.upper()}") for name in X_SOURCE_OPTIONS},
            lambda name: f"SILOSCOPE_X_{name.upper()}",
        )
        base_url = os.environ.get("SILOSCOPE_X_BASE_URL") or X_DEFAULT_BASE_URL
        return XApiSource(token, base_url, **options)
    raise MissingCredential(f"no live source for platform {platform!r} yet")


def airflow_live_source(platform: str) -> PageSource:
    from airflow.sdk import Connection

    if platform == "x":
        from ingest.x import XApiSource

        connection = Connection.get("x_default")
        if not connection.password:
            raise MissingCredential(
                "X bearer token missing: put it in the password of Airflow Connection x_default"
            )
        base_url = _base_url(connection) or X_DEFAULT_BASE_URL
        options = _x_options(
            connection.extra_dejson, lambda name: f"Airflow Connection x_default, extra {name!r}"
        )
        return XApiSource(connection.password, base_url, **options)
    raise MissingCredential(f"no live source for platform {platform!r} yet")


def _x_options(values: Mapping[str, Any], where: Callable[[str], str]) -> dict[str, Any]:
    options = {}
    for name, kind in X_SOURCE_OPTIONS.items():
        value = values.get(name)
        if value is None or value == "":
            continue
        try:
            options[name] = kind(value)
        except (TypeError, ValueError):
            expected = "a whole number" if kind is int else "a number"
            raise ValueError(f"{where(name)}: expected {expected}, got {value!r}") from None
    return options


def _base_url(connection) -> str | None:
    if not connection.host:
        return None
    if "://" in connection.host:
        return connection.host.rstrip("/")
    scheme = connection.schema or "https"
    port = f":{connection.port}" if connection.port else ""
    return f"{scheme}://{connection.host}{port}"
