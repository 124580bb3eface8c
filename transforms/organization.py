"""The organisation as the models and the quality suites see it: plain values.

The app builds it from the config file (`siloscope.config.OrgConfig.for_models()`);
nothing here reads a file or knows the config's shape, so the models can be built from
any source of these facts (a test, a notebook).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Organization:
    """Departments in their configured order, their accounts, and the verdict thresholds.

    Handles are normalized (no `@` or `u/`, lowercase), as staging compares them.
    """

    departments: tuple[str, ...]
    accounts: tuple[tuple[str, str, str], ...] = ()  # (platform, handle, department)
    ignored_accounts: tuple[tuple[str, str], ...] = ()  # (platform, handle): not customers
    glue_threshold: float = 0.5
    silo_threshold: float = 0.05
    min_conversations: int = 30
