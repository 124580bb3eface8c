"""The top-level packages import downward only (STYLE.md, "Layers import downward only").

    dags, bench  ->  siloscope  ->  ingest, transforms

The graph is drawn from the source (every import statement, also those inside functions
and under TYPE_CHECKING: each is a dependency), so a new upward arrow fails here before
a reviewer has to find it.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parents[2]
# A package may import only packages of a lower rank: never upward, never sideways.
# Environment variables, Airflow Connections and their ids (x_default, reddit_default)
APP_NAMES = re.compile(r"SILOSCOPE_|Airflow Connection|\b[a-z]+_default\b")
RANKS = {"dags": 3, "bench": 3, "siloscope": 2, "ingest": 1, "transforms": 1}


def imports_between_packages() -> dict[tuple[str, str], set[str]]:
    """(importer, imported) -> 'file:line imported.name' for every cross-package import."""
    arrows: dict[tuple[str, str], set[str]] = defaultdict(set)
    for package in RANKS:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                for name in _absolute_names(node):
                    target = name.split(".")[0]
                    if target in RANKS and target != package:
                        where = f"{path.relative_to(ROOT)}:{node.lineno} {name}"
                        arrows[(package, target)].add(where)
    return arrows


def _absolute_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def test_every_arrow_between_the_top_level_packages_points_down():
    upward = {
        arrow: sorted(where)
        for arrow, where in imports_between_packages().items()
        if RANKS[arrow[0]] <= RANKS[arrow[1]]
    }
    assert upward == {}


def test_no_package_imports_another_packages_private_names():
    private = sorted(
        where
        for where_all in imports_between_packages().values()
        for where in where_all
        if where.rsplit(".", 1)[-1].startswith("_")
    )
    assert private == []


def test_the_graph_sees_the_arrows_that_are_there():
    """The check above cannot pass by seeing nothing: the known downward arrows are found."""
    arrows = imports_between_packages()
    assert ("siloscope", "ingest") in arrows and ("siloscope", "transforms") in arrows
    assert ("dags", "siloscope") in arrows


def test_only_the_app_knows_where_settings_and_credentials_are_set():
    """Sources get values; Airflow Connections and SILOSCOPE_* variables are siloscope's."""
    named = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("ingest", "transforms")
        for path in (ROOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if APP_NAMES.search(line)
    )
    assert named == []
