"""The report page's HTML for fixed databases, pinned byte for byte.

test_report_page.py checks what each mark means; this checks that a change of the page's
code (a refactor) changes nothing a reader sees. Re-pin
(`python -m tests.unit.test_report_page_pinned`) only when a change of the page is intended.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from siloscope.report_page import write_report_page
from tests.marts_fixture import build_database, messages, nightly_windows, org_config

PINNED = Path(__file__).parent / "pinned"


def four_nights(folder: Path) -> Path:
    """Every chart drawn: the marts fixture's glued organisation over four nightly builds."""
    return build_database(folder / "work.duckdb", messages(days=4), windows=nightly_windows(4))


def one_night_too_few(folder: Path) -> Path:
    """One build, too few conversations for a verdict: the charts' empty states."""
    return build_database(folder / "work.duckdb", messages(), org_config(min_conversations=50))


def one_nightly_snapshot(folder: Path) -> Path:
    """The trend charts' first night: one point each."""
    return build_database(folder / "work.duckdb", messages(), windows=nightly_windows(1))


def names_to_escape(folder: Path) -> Path:
    return build_database(
        folder / "work.duckdb",
        # handles are checked by the platform's rules at config load: only the name has HTML
        messages(plan=[(("care", "rdlab"), "ann", 5)]),
        org_config(["Care", "R&D <Lab>"]),
    )


DATABASES: dict[str, Callable[[Path], Path]] = {
    "four_nights": four_nights,
    "one_night_too_few": one_night_too_few,
    "one_nightly_snapshot": one_nightly_snapshot,
    "names_to_escape": names_to_escape,
}


def render(name: str, folder: Path) -> str:
    db = DATABASES[name](folder)
    page = write_report_page(db, folder / "report.html", organization="Acme & Co").read_text()
    return numbered_from_one(page)


def numbered_from_one(page: str) -> str:
    """Chart and gradient ids renumbered 1, 2, ... in order of appearance.

    The ids come from one counter per process (unique within a page is all they need), so
    their numbers depend on how many charts the process drew before this page.
    """
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        number = numbers.setdefault(match[2], str(len(numbers) + 1))
        return f"{match[1]}{number}"

    return re.sub(r"(chart-[a-z-]+?-|heat-)(\d+)(?=-title|-desc|\"|\))", renumber, page)


@pytest.mark.parametrize("name", DATABASES)
def test_the_page_for_a_fixed_database_is_unchanged(name: str, tmp_path: Path) -> None:
    pinned = (PINNED / f"report_page_{name}.html").read_text()
    page = render(name, tmp_path)
    # The page is a few long lines: compare it tag by tag.
    difference = "\n".join(
        list(difflib.unified_diff(pinned.split("><"), page.split("><"), n=1, lineterm=""))[:40]
    )
    assert page == pinned, f"the page differs from the pinned one:\n{difference}"


def pin() -> None:
    for name in DATABASES:
        with tempfile.TemporaryDirectory() as folder:
            page = render(name, Path(folder))
        (PINNED / f"report_page_{name}.html").write_text(page)


if __name__ == "__main__":
    pin()
