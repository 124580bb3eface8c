"""The organisation the simulator plants conversations for: plain values.

The app builds it from the config file (`siloscope.config.OrgConfig.for_simulation()`);
the simulator never reads the config itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatedOrganization:
    """Who the organisation is on X, and what structure to plant.

    Handles are as configured (any case, with or without `@`): the simulated accounts
    show them as written.
    """

    name: str
    departments: tuple[tuple[str, tuple[str, ...]], ...]  # (department, its X handles)
    ignored_accounts: tuple[str, ...] = ()  # X handles of known non-customers (a bot)
    structure: str = "glued"  # siloed | glued | networked
    glue_department: str | None = None
    seed: int = 7
    conversations_per_day: int = 12
