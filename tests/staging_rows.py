"""The platform-neutral messages (intermediate.int_messages_unioned) written by hand, and
the models built on them.

The metric, publish and report tests skip loading and staging: they write the rows of the
platform-neutral messages model themselves and build every model that reads it
(transforms.build with given=(UNIONED_MESSAGES,)), so every expected value can be worked
out by hand from the rows in the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from siloscope.config import OrgConfig
from transforms.build import BuildWindow, build_models

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

UNIONED_MESSAGES = "intermediate.int_messages_unioned"
CREATE_UNIONED_MESSAGES = f"""
    create or replace table {UNIONED_MESSAGES} (
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
    """One platform-neutral message by `author`, a handle (None: a deleted account),
    `minute` minutes after T0; `mentions` the handles the platform marks as mentioned
    (Bluesky), None: read them from the text."""
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


def write_unioned_messages(con: duckdb.DuckDBPyConnection, messages: list[tuple]) -> None:
    """intermediate.int_messages_unioned as a table holding exactly `messages`."""
    con.execute("create schema if not exists intermediate")
    con.execute(CREATE_UNIONED_MESSAGES)
    if messages:
        # rows written before mentioned_handles existed leave it null: read from the text
        width = len(MESSAGE_COLUMNS)
        messages = [(*m, *[None] * (width - len(m))) for m in messages]
        con.executemany(
            f"insert into {UNIONED_MESSAGES} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages
        )


def build(messages, departments, *, window=None, con=None, **config):
    """Build the marts of an org named Acme with `departments` ({name: accounts}) on
    `messages`; `config` adds other config keys (thresholds ...). Returns the connection."""
    con = con or duckdb.connect()
    write_unioned_messages(con, messages)
    org = OrgConfig.model_validate(
        {
            "organization": "Acme",
            "departments": [{"name": n, "accounts": a} for n, a in departments.items()],
            **config,
        }
    )
    build_models(
        con, org.for_models(), window or BuildWindow.everything(), given=(UNIONED_MESSAGES,)
    )
    return con


def rows(con, query):
    """The rows of `query` as dicts, column name to value."""
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
