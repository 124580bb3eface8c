"""Small built databases for the publish and report tests: hand-written messages, real build.

The messages plant a known structure: Care answers in every shared conversation (the glue),
Marketing and Sales each share some with Care and work alone otherwise, Press answers
nobody, and ivy talks to Marketing and to Sales but never to both at once (fragmented).
Worked out by hand for one day: 12 engaged conversations, 5 cross-department; Care-
Marketing co-handle 3, Care-Sales 2; 6 customers served by several departments, 1 of them
fragmented; median first reply: Care 17.5 min, Marketing 52.5 min, Sales 45 min.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from siloscope.config import OrgConfig
from tests.staging_rows import UNIONED_MESSAGES, write_unioned_messages
from transforms.build import BuildWindow, build_models

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPARTMENTS = ["Care", "Marketing", "Sales", "Press"]

# (departments replying in order, customer, minutes to the first reply), per conversation
GLUED_DAY = [
    (("care", "marketing"), "ann", 5),
    (("care", "marketing"), "bob", 10),
    (("marketing", "care"), "cid", 20),
    (("care", "sales"), "dee", 30),
    (("sales", "care"), "eve", 40),
    (("marketing",), "ann", 60),
    (("marketing",), "fay", 90),
    (("sales",), "bob", 120),
    (("sales",), "gus", 15),
    (("care",), "hal", 25),
    (("marketing",), "ivy", 45),
    (("sales",), "ivy", 50),
]


def org_config(departments: list[str] = DEPARTMENTS, **thresholds) -> OrgConfig:
    return OrgConfig.model_validate(
        {
            "organization": "Acme & Co",
            "departments": [
                # a handle X would allow: letters, digits and underscores of the name
                {"name": name, "accounts": {"x": [re.sub(r"\W", "", name.lower())]}}
                for name in departments
            ],
            "thresholds": {"min_conversations": 1, **thresholds},
        }
    )


def messages(plan=GLUED_DAY, days: int = 1, handles: dict[str, str] | None = None) -> list[tuple]:
    handles = handles or {}
    rows = []
    for day in range(days):
        for i, (departments, customer, first_reply) in enumerate(plan):
            conversation = f"c{day}-{i}"
            start = T0 + timedelta(days=day, hours=i)
            rows.append(
                ("x", f"{conversation}-0", conversation, None, customer, customer, None, start, "")
            )
            for n, department in enumerate(departments, start=1):
                handle = handles.get(department, department)
                at = start + timedelta(minutes=first_reply + 10 * (n - 1))
                rows.append(
                    ("x", f"{conversation}-{n}", conversation, None, handle, handle, None, at, "")
                )
    return rows


def build_database(
    path: Path,
    rows: list[tuple],
    config: OrgConfig | None = None,
    windows: list[BuildWindow] | None = None,
) -> Path:
    """Write the platform-neutral messages, then build the marts once per window (in order)."""
    config = config or org_config()
    with duckdb.connect(str(path)) as con:
        write_unioned_messages(con, rows)
        for window in windows or [BuildWindow.everything()]:
            build_models(con, config.for_models(), window, given=(UNIONED_MESSAGES,))
    return path


def nightly_windows(nights: int, days: int = 7) -> list[BuildWindow]:
    """Rolling windows ending at the midnights after T0's day, oldest first."""
    first_end = datetime(T0.year, T0.month, T0.day, tzinfo=UTC) + timedelta(days=1)
    return [BuildWindow.rolling(first_end + timedelta(days=n), days) for n in range(nights)]


def all_mart_rows(db: Path) -> dict[str, list[tuple]]:
    """Every mart's rows in a stable order: two builds of the same night compare equal."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return {
            t: con.execute(f"select * from marts.{t} order by all").fetchall() for (t,) in tables
        }
