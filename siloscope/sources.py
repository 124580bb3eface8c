"""Live API sources, built where the run happens so credentials are read at run time.

On the command line they come from environment variables; in Airflow from the
Connections x_default and reddit_default. They are never logged, landed or stored.
"""

from __future__ import annotations

import os

from ingest.pages import PageSource

X_DEFAULT_BASE_URL = "https://api.twitter.com"


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
        return XApiSource(token, os.environ.get("SILOSCOPE_X_BASE_URL") or X_DEFAULT_BASE_URL)
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
        return XApiSource(connection.password, base_url)
    raise MissingCredential(f"no live source for platform {platform!r} yet")


def _base_url(connection) -> str | None:
    if not connection.host:
        return None
    if "://" in connection.host:
        return connection.host.rstrip("/")
    scheme = connection.schema or "https"
    port = f":{connection.port}" if connection.port else ""
    return f"{scheme}://{connection.host}{port}"
