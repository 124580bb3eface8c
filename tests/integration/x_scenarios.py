"""Customer conversations with an organisation's X accounts, seeded into the fake X API.

Shared by the end-to-end X tests (the command line and the DAG): each conversation is a
customer's post mentioning an org account and, when answered, the account's reply.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb
import yaml

from tests.integration.fake_x_api import FakeXApi

_names = itertools.count(1)


def unique_name(stem: str) -> str:
    """A username no other test uses on the shared fake server (at most 15 characters)."""
    return f"{stem[:9]}{next(_names)}"


@dataclass
class Conversations:
    account: dict
    roots: list[dict] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)

    @property
    def post_ids(self) -> set[str]:
        return {post["id"] for post in self.roots + self.replies}


def seed_conversations(
    api: FakeXApi,
    account: dict,
    count: int,
    *,
    start,
    answered: int | None = None,
    into: Conversations | None = None,
) -> Conversations:
    """`count` customers each mention `account` a minute apart from `start`; the first
    `answered` (all by default) get the account's reply an hour later."""
    seeded = into or Conversations(account)
    answered = count if answered is None else answered
    for n in range(count):
        customer = api.user(unique_name("cust"))
        root = api.post(
            customer,
            f"@{account['username']} order {n} has not arrived",
            at=start + timedelta(minutes=n),
        )
        seeded.roots.append(root)
        if n < answered:
            seeded.replies.append(
                api.post(
                    account,
                    f"@{customer['username']} sorry about that, we are on it",
                    at=start + timedelta(hours=1, minutes=n),
                    reply_to=root,
                )
            )
    return seeded


def write_config(path: Path, departments: dict[str, list[str]], **extra) -> Path:
    """An organisation whose departments' X accounts are read from the live API."""
    document = {
        "organization": "Acme",
        "departments": [
            {"name": name, "accounts": {"x": accounts}} for name, accounts in departments.items()
        ],
        "sources": {"x": "api"},
        **extra,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def query(db: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


def everything_stored(db: Path) -> str:
    """Every row of every table and view in the DuckDB file, as text."""
    with duckdb.connect(str(db), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        return "\n".join(
            str(row)
            for schema, name in relations
            for row in con.execute(f'select * from "{schema}"."{name}"').fetchall()
        )


def everything_landed(landing: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in sorted(landing.rglob("*")) if path.is_file())
