"""What X reads cost, per night and account, from the ledger in DuckDB.

A night's reads are what X bills for its extract runs: each post and user a response
returned (user lookups included), once per UTC day across the org's accounts
(ops.x_billed_reads, each charged to the first run that read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siloscope.pipeline import connect
from siloscope.settings import Settings

READS_BY_NIGHT_SQL = """
with billed as (
    select manifest, count(*) as reads from ops.x_billed_reads group by manifest
)
select runs.until, runs.account, sum(coalesce(billed.reads, 0))::bigint as reads
from ops.extract_runs as runs
left join billed using (manifest)
where runs.platform = 'x'
group by all
order by runs.until, runs.account
"""


@dataclass(frozen=True)
class NightReads:
    until: datetime
    account: str
    reads: int


def reads_by_night(con: Any) -> list[NightReads]:
    """Billed X reads per (night, account); empty before the first X run is loaded."""
    (ready,) = con.execute(
        "select count(*) = 2 from information_schema.tables where table_schema = 'ops' "
        "and table_name in ('x_billed_reads', 'extract_runs')"
    ).fetchone()
    if not ready:
        return []
    return [NightReads(*row) for row in con.execute(READS_BY_NIGHT_SQL).fetchall()]


def cost_report(settings: Settings, price_per_read: float) -> str:
    """Reads and estimated dollars per night and per account, as a terminal table."""
    if not settings.db_path.exists():
        return f"no database at {settings.db_path}: run `siloscope run` first"
    with connect(settings, read_only=True) as con:
        rows = reads_by_night(con)
    if not rows:
        return "no X reads recorded yet: run `siloscope run --source x` first"
    accounts = sorted({row.account for row in rows}, key=str.lower)
    nights = sorted({row.until for row in rows})
    reads = {(row.until, row.account): row.reads for row in rows}
    table = [["night", *accounts, "reads", "dollars"]]
    for night in nights:
        per_account = [reads.get((night, account), 0) for account in accounts]
        table.append(
            [
                night.date().isoformat(),
                *(f"{n:,}" for n in per_account),
                f"{sum(per_account):,}",
                _dollars(sum(per_account) * price_per_read),
            ]
        )
    account_totals = [sum(reads.get((n, a), 0) for n in nights) for a in accounts]
    total = sum(account_totals)
    table.append(
        [
            "all nights",
            *(f"{n:,}" for n in account_totals),
            f"{total:,}",
            _dollars(total * price_per_read),
        ]
    )
    table.append(["dollars", *(_dollars(n * price_per_read) for n in account_totals), "", ""])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [
        f"X reads per night and account, as X bills them (each post and user once per UTC "
        f"day), at ${price_per_read:g} a read (config: costs.x_price_per_read)",
        "",
    ]
    for number, row in enumerate(table):
        lines.append(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0 or number == len(nights):
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _dollars(amount: float) -> str:
    return f"${amount:,.2f}"
