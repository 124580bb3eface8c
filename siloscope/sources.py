"""Live API sources, built where the run happens so credentials are read at run time.

On the command line they come from environment variables; in Airflow from the
Connections x_default and reddit_default. They are never logged, landed or stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ingest.live import AuthError
from ingest.pages import PageSource

if TYPE_CHECKING:
    from ingest.bluesky import BlueskyCredentials
    from ingest.reddit import RedditCredentials
    from siloscope.config import OrgConfig

# Tuning of XApiSource (ingest/x/README.md): env SILOSCOPE_X_<NAME> on the command line,
# keys of the x_default Connection's extra in Airflow.
X_SOURCE_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "max_retries": int,
    "backoff_seconds": float,
    "max_rate_limit_wait_seconds": float,
    "request_timeout_seconds": float,
    "search_query_max_chars": int,
}

# SILOSCOPE_REDDIT_<FIELD>, and SILOSCOPE_REDDIT_<FIELD>__<ACCOUNT> for an account's own app
REDDIT_ENV_FIELDS = ("CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD")


class MissingCredential(AuthError):
    """A credential that is not set: a person has to add it, so no retry can help."""


def env_live_source(platform: str, config: OrgConfig | None = None) -> PageSource:
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
        base_url = os.environ.get("SILOSCOPE_X_BASE_URL") or None
        return XApiSource(token, base_url, token_hint="SILOSCOPE_X_BEARER_TOKEN", **options)
    if platform == "reddit":
        from ingest.reddit import RedditApiSource

        return RedditApiSource(
            env_reddit_credentials,
            os.environ.get("SILOSCOPE_REDDIT_BASE_URL") or None,
            **_reddit_settings(config),
        )
    if platform == "bluesky":
        from ingest.bluesky import BlueskyApiSource

        return BlueskyApiSource(
            env_bluesky_credentials, os.environ.get("SILOSCOPE_BLUESKY_BASE_URL") or None
        )
    if platform == "mastodon":
        from ingest.mastodon import MastodonApiSource

        return MastodonApiSource(
            env_mastodon_token,
            os.environ.get("SILOSCOPE_MASTODON_BASE_URL") or None,
            token_hint=lambda address: f"SILOSCOPE_MASTODON_TOKEN{_account_suffix(address)}",
        )
    raise MissingCredential(f"no live source for platform {platform!r} yet")


def airflow_live_source(platform: str, config: OrgConfig | None = None) -> PageSource:

    if platform == "x":
        from ingest.x import XApiSource

        connection = _optional_connection("x_default")
        if connection is None:
            raise MissingCredential(
                "X bearer token missing: add Airflow Connection x_default with the token as "
                "its password (sources.x is 'api')"
            )
        if not connection.password:
            raise MissingCredential(
                "X bearer token missing: put it in the password of Airflow Connection x_default"
            )
        options = _x_options(
            connection.extra_dejson, lambda name: f"Airflow Connection x_default, extra {name!r}"
        )
        return XApiSource(
            connection.password,
            _base_url(connection),
            token_hint="the password of Airflow Connection x_default",
            **options,
        )
    if platform == "reddit":
        from ingest.reddit import RedditApiSource

        default = _optional_connection("reddit_default")
        return RedditApiSource(
            airflow_reddit_credentials,
            _base_url(default) if default is not None else None,
            **_reddit_settings(config),
        )
    if platform == "bluesky":
        from ingest.bluesky import BlueskyApiSource

        default = _optional_connection("bluesky_default")
        return BlueskyApiSource(
            airflow_bluesky_credentials, _base_url(default) if default is not None else None
        )
    if platform == "mastodon":
        from ingest.mastodon import MastodonApiSource

        default = _optional_connection("mastodon_default")
        return MastodonApiSource(
            airflow_mastodon_token,
            _base_url(default) if default is not None else None,
            token_hint=lambda address: (
                f"the password of Airflow Connection {mastodon_connection_id(address)}"
            ),
        )
    raise MissingCredential(f"no live source for platform {platform!r} yet")


def _account_suffix(account: str) -> str:
    """`__<ACCOUNT>`: upper case, every other character as `_` (acme.com -> __ACME_COM)."""
    return "__" + re.sub(r"[^A-Z0-9]", "_", account.upper())


def env_bluesky_credentials(handle: str) -> BlueskyCredentials | None:
    """SILOSCOPE_BLUESKY_HANDLE__<ACCOUNT> + _APP_PASSWORD__<ACCOUNT> if set, else the
    default pair SILOSCOPE_BLUESKY_HANDLE + SILOSCOPE_BLUESKY_APP_PASSWORD, else None (no
    login: the public AppView, and mentions searched instead of read)."""
    from ingest.bluesky import BlueskyCredentials

    for suffix in (_account_suffix(handle), ""):
        names = (f"SILOSCOPE_BLUESKY_HANDLE{suffix}", f"SILOSCOPE_BLUESKY_APP_PASSWORD{suffix}")
        values = [os.environ.get(name) for name in names]
        if all(values):
            return BlueskyCredentials(str(values[0]), str(values[1]), origin=" / ".join(names))
        if any(values):
            missing = names[values.index(None) if None in values else 1]
            raise MissingCredential(f"Bluesky credentials incomplete: set {missing} too")
    return None


def airflow_bluesky_credentials(handle: str) -> BlueskyCredentials | None:
    """Connection bluesky_<handle> (lower case) if it exists, else bluesky_default, else
    None. The handle is the login, the app password the password."""
    from ingest.bluesky import BlueskyCredentials

    connection = _optional_connection(f"bluesky_{handle.lower()}") or _optional_connection(
        "bluesky_default"
    )
    if connection is None:
        return None
    if not connection.login or not connection.password:
        raise MissingCredential(
            f"Airflow Connection {connection.conn_id}: the Bluesky handle (login) and app "
            "password (password) are both needed"
        )
    return BlueskyCredentials(
        connection.login, connection.password, origin=f"Airflow Connection {connection.conn_id}"
    )


def env_mastodon_token(address: str) -> str | None:
    """SILOSCOPE_MASTODON_TOKEN__<ACCOUNT> (acme@mastodon.social -> __ACME_MASTODON_SOCIAL):
    a token belongs to one account on one instance, so there is no default."""
    return os.environ.get(f"SILOSCOPE_MASTODON_TOKEN{_account_suffix(address)}") or None


def mastodon_connection_id(address: str) -> str:
    """mastodon_<user>_<instance>: acme@mastodon.social -> mastodon_acme_mastodon.social."""
    return "mastodon_" + re.sub(r"[^a-z0-9._-]", "_", address.lower())


def airflow_mastodon_token(address: str) -> str | None:
    """The password of Connection mastodon_<user>_<instance>, if there is one."""
    connection = _optional_connection(mastodon_connection_id(address))
    if connection is None:
        return None
    if not connection.password:
        raise MissingCredential(
            f"Airflow Connection {connection.conn_id}: put the access token in its password"
        )
    return connection.password


def env_reddit_credentials(account: str | None) -> RedditCredentials:
    """An account's own SILOSCOPE_REDDIT_*__<ACCOUNT> set if it has one, else the default.

    `account` is None for a subreddit search, which any login can run.
    """
    from ingest.reddit import RedditCredentials

    suffix = ""
    if account is not None:
        own = "__" + re.sub(r"[^A-Z0-9]", "_", account.upper())
        if any(os.environ.get(f"SILOSCOPE_REDDIT_{name}{own}") for name in REDDIT_ENV_FIELDS):
            suffix = own
    names = {name: f"SILOSCOPE_REDDIT_{name}{suffix}" for name in REDDIT_ENV_FIELDS}
    missing = [variable for variable in names.values() if not os.environ.get(variable)]
    if missing:
        raise MissingCredential(
            f"Reddit credentials missing: set {', '.join(missing)} (sources.reddit is 'api')"
        )
    return RedditCredentials(
        client_id=os.environ[names["CLIENT_ID"]],
        client_secret=os.environ[names["CLIENT_SECRET"]],
        username=os.environ[names["USERNAME"]],
        password=os.environ[names["PASSWORD"]],
        user_agent=os.environ.get("SILOSCOPE_REDDIT_USER_AGENT") or None,
        origin="the environment",
        set_in={name.lower(): variable for name, variable in names.items()},
    )


def airflow_reddit_credentials(account: str | None) -> RedditCredentials:
    """Connection reddit_<account> (lowercase) if it exists, else reddit_default.

    The app's client id is the login, its secret the password; the Reddit account's
    username and password are in the extra, with an optional user_agent.
    """
    from ingest.reddit import RedditCredentials

    connection = None
    if account is not None:
        connection = _optional_connection(f"reddit_{account.lower()}")
    connection = connection or _optional_connection("reddit_default")
    if connection is None:
        raise MissingCredential(
            "Reddit credentials missing: add Airflow Connection reddit_default "
            + (f"(or reddit_{account.lower()}) " if account else "")
            + "(sources.reddit is 'api')"
        )
    extra = connection.extra_dejson
    fields = {
        "client_id": connection.login,
        "client_secret": connection.password,
        "username": extra.get("username"),
        "password": extra.get("password"),
    }
    where = {
        "client_id": "login",
        "client_secret": "password",
        "username": "extra.username",
        "password": "extra.password",
    }
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise MissingCredential(
            f"Airflow Connection {connection.conn_id}: Reddit "
            + ", ".join(f"{name} (the {where[name]} field)" for name in missing)
            + " missing"
        )
    return RedditCredentials(
        **fields,
        user_agent=extra.get("user_agent") or None,
        origin=f"Airflow Connection {connection.conn_id}",
        set_in=where,
    )


def _optional_connection(conn_id: str):
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _reddit_settings(config: OrgConfig | None) -> dict[str, Any]:
    if config is None:
        return {}
    return {
        "search_keywords": config.reddit.keywords,
        "replace_more_limit": config.reddit.replace_more_limit,
    }


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
