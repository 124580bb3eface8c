"""The planted structure: which departments handle each customer conversation.

Conversations are numbered globally: slot s = day.toordinal() * conversations_per_day + i.
Every decision that the verdict depends on is a closed-form function of s, not of a
running RNG, so any range of days shows exactly the planted proportions and a day's plan
does not depend on which other days are generated:

- unanswered: in every block of 10 slots exactly one (at a seeded position) is a mention
  nobody answers (10%);
- the remaining slots are numbered h = 0, 1, 2, ... ("handled" conversations, all of them
  engaged), and h alone decides whether the conversation is co-handled and by which pair:
  siloed: h % 50 == 0 (2%); glued and networked: 7 of every 20 (35%), the k-th such
  conversation taking the k-th pair of a fixed cycle (glue + each other department in
  turn; or a round-robin tournament over all pairs, so every department is in 2/n of them).
"""

from __future__ import annotations

from dataclasses import dataclass

from .population import mix64, stable_key

UNANSWERED_BLOCK = 10
SILOED_CROSS_EVERY = 50
CROSS_BLOCK = 20
# 7 of 20 handled conversations are co-handled in the glued and networked structures.
CROSS_RESIDUES = (1, 4, 7, 10, 12, 15, 18)
NETWORKED_MIN_DEPARTMENTS = 5
GLUED_MIN_DEPARTMENTS = 3
SILOED_MIN_DEPARTMENTS = 2

_CROSS_RANK = {residue: rank for rank, residue in enumerate(CROSS_RESIDUES)}


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """What the structure fixes about one customer conversation.

    `answered` is False for a mention nobody answers. `pair` names the two departments
    that co-handle the conversation, or is None when one department (picked by the
    generator) handles it alone.
    """

    answered: bool
    pair: tuple[str, str] | None


def round_robin_pairs(departments: list[str]) -> list[tuple[str, str]]:
    """Every unordered pair once, in rounds where no department appears twice.

    The circle method: any stretch of the cycle is close to balanced, which keeps each
    department's share of cross-department conversations near 2/n in short windows too.
    """
    players: list[str | None] = list(departments)
    if len(players) % 2:
        players.append(None)
    rounds = len(players) - 1
    half = len(players) // 2
    pairs: list[tuple[str, str]] = []
    for _ in range(rounds):
        for i in range(half):
            a, b = players[i], players[len(players) - 1 - i]
            if a is not None and b is not None:
                pairs.append((a, b))
        players = [players[0], players[-1], *players[1:-1]]
    return pairs


class StructurePlan:
    """The closed-form plan of a structure over the departments that have X accounts."""

    def __init__(
        self,
        structure: str,
        departments: list[str],
        glue_department: str | None,
        seed: int,
        organization: str,
    ) -> None:
        n = len(departments)
        self.structure = structure
        self._key = stable_key("structure", seed, organization, structure)
        self._last_block, self._last_position = -1, 0
        if structure == "siloed":
            if n < SILOED_MIN_DEPARTMENTS:
                raise ValueError(
                    "simulation.structure 'siloed' needs at least 2 departments with X "
                    f"accounts (every 50th conversation is co-handled); {organization} has {n}"
                )
            self._cycle = round_robin_pairs(departments)
        elif structure == "glued":
            if glue_department is None:
                raise ValueError(
                    "simulation.structure 'glued' needs simulation.glue_department: the "
                    "department that co-handles conversations with every other one"
                )
            if glue_department not in departments:
                raise ValueError(
                    f"simulation.glue_department {glue_department!r} has no X account; "
                    f"departments with X accounts: {departments}"
                )
            if n < GLUED_MIN_DEPARTMENTS:
                raise ValueError(
                    "simulation.structure 'glued' needs at least 3 departments with X "
                    f"accounts (the glue and two it connects); {organization} has {n}"
                )
            self._cycle = [(glue_department, d) for d in departments if d != glue_department]
        elif structure == "networked":
            if n < NETWORKED_MIN_DEPARTMENTS:
                raise ValueError(
                    "simulation.structure 'networked' needs at least 5 departments with X "
                    "accounts, so each one's share of cross-department conversations "
                    f"(2/n) stays below the 0.5 glue threshold; {organization} has {n}"
                )
            self._cycle = round_robin_pairs(departments)
        else:
            raise ValueError(f"unknown simulation.structure {structure!r}")

    def _unanswered_position(self, block: int) -> int:
        if block != self._last_block:
            self._last_block = block
            self._last_position = mix64(self._key ^ (block & 0xFFFFFFFFFFFF)) % UNANSWERED_BLOCK
        return self._last_position

    def slot(self, slot: int) -> SlotPlan:
        """The plan of global conversation slot `slot`."""
        block, position = divmod(slot, UNANSWERED_BLOCK)
        skipped = self._unanswered_position(block)
        if position == skipped:
            return SlotPlan(answered=False, pair=None)
        handled = block * (UNANSWERED_BLOCK - 1) + position - (1 if position > skipped else 0)
        if self.structure == "siloed":
            if handled % SILOED_CROSS_EVERY:
                return SlotPlan(answered=True, pair=None)
            cross_index = handled // SILOED_CROSS_EVERY
        else:
            cross_block, residue = divmod(handled, CROSS_BLOCK)
            rank = _CROSS_RANK.get(residue)
            if rank is None:
                return SlotPlan(answered=True, pair=None)
            cross_index = cross_block * len(CROSS_RESIDUES) + rank
        return SlotPlan(answered=True, pair=self._cycle[cross_index % len(self._cycle)])
