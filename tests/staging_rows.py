"""staging.stg_messages written by hand, and the models built on it.

The metric, publish and report tests skip loading and staging: they write the rows of the
platform-neutral messages model themselves and build the intermediate models and marts on
top (transforms.build with schemas=("intermediate", "marts")), so every expected value can
be worked out by hand from the rows in the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from siloscope.config import OrgConfig
from transforms.build import BuildWindow, build_models

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

STG_MESSAGES = """
    create or replace table staging.stg_messages (
        platform varchar, message_id varchar, conversation_id varchar, parent_id varchar,
        author_id varchar, author_handle varchar, author_inbound boolean,
        created_at timestamptz, text varchar, mentioned_handles varchar[]
    )
"""


MESSAGE_COLUMNS = (
    "platform", "message_id", "conversation_id", "parent_id", "author_id", "author_handle",
    "author_inbound", "created_at", "text", "mentioned_handles",
)  # fmt: skip


def msg(
    message_id,
    conversation_id,
    author,
    minute,
    text="",
    *,
    parent=None,
    platform="x",
    inbound=None,
    mentions=None,
):
    """One staging row; `author` is the handle (None: a deleted account), minutes after T0;
    `mentions` the handles the platform marks as mentioned (Bluesky), None: read the text."""
    author_id = author if author is not None else "[deleted]"
    created_at = T0 + timedelta(minutes=minute)
    return (
        platform,
        message_id,
        conversation_id,
        parent,
        author_id,
        author,
        inbound,
        created_at,
        text,
        mentions,
    )


def write_stg_messages(con: duckdb.DuckDBPyConnection, messages: list[tuple]) -> None:
    """staging.stg_messages as a table holding exactly `messages`."""
    con.execute("create schema if not exists staging")
    con.execute(STG_MESSAGES)
    if messages:
        # rows written before mentioned_handles existed leave it null: read from the text
        width = len(MESSAGE_COLUMNS)
        messages = [(*m, *[None] * (width - len(m))) for m in messages]
        con.executemany(
            "insert into staging.stg_messages values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages
        )


def build(messages, departments, *, window=None, con=None, **config):
    """Build the marts of an org named Acme with `departments` ({name: accounts}) on
    `messages`; `config` adds other config keys (thresholds ...). Returns the connection."""
    con = con or duckdb.connect()
    write_stg_messages(con, messages)
    org = OrgConfig.model_validate(
        {
            "organization": "Acme",
            "departments": [{"name": n, "accounts": a} for n, a in departments.items()],
            **config,
        }
    )
    build_models(con, org, window or BuildWindow.everything(), schemas=("intermediate", "marts"))
    return con


def rows(con, query):
    """The rows of `query` as dicts, column name to value."""
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
