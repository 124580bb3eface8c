"""A small organisation on the simulated source, run night by night as the CLI runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from siloscope.settings import Settings

FIRST_NIGHT = datetime(2026, 11, 2, tzinfo=UTC)

ORG = """\
organization: Acme
departments:
  - name: Care
    accounts: {x: [AcmeHelp]}
  - name: Marketing
    accounts: {x: [Acme]}
  - name: Sales
    accounts: {x: [AcmeSales]}
thresholds: {min_conversations: 1}
rolling_window_days: 3
backfill_days: 2
sources: {x: simulated}
simulation: {structure: glued, glue_department: Care, seed: 3, conversations_per_day: 4}
"""


def organisation(folder: Path, text: str = ORG) -> Settings:
    config = folder / "org.yaml"
    config.write_text(text)
    return Settings.resolve(config, folder / "work.duckdb", str(folder / "landing"))


def night(number: int) -> datetime:
    return FIRST_NIGHT + timedelta(days=number)


def run_id(until: datetime) -> str:
    return f"cli__{until.date().isoformat()}"
