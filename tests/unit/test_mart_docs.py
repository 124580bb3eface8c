"""The column docs beside the marts (transforms/models/marts/<mart>.yml) say what the
tables hold: every column, in order, with its type and a description, and a link into
docs/metrics.md that leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.marts_fixture import build_database, messages
from transforms.build import MODELS_DIR

REPO = Path(__file__).resolve().parents[2]
MARTS_DIR = MODELS_DIR / "marts"
MART_NAMES = sorted(path.stem for path in MARTS_DIR.glob("*.sql"))


@pytest.fixture(scope="module")
def built_columns(tmp_path_factory) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every built mart, in table order."""
    db = build_database(tmp_path_factory.mktemp("marts") / "work.duckdb", messages())
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, lower(data_type) from duckdb_columns() "
            "where schema_name = 'marts' order by table_name, column_index"
        ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    return columns


def mart_doc(name: str) -> dict:
    [model] = yaml.safe_load((MARTS_DIR / f"{name}.yml").read_text())["models"]
    return model


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_mart_has_a_doc_and_every_doc_a_mart(built_columns):
    docs = sorted(path.stem for path in MARTS_DIR.glob("*.yml"))
    assert docs == MART_NAMES == sorted(built_columns)


@pytest.mark.parametrize("name", MART_NAMES)
def test_a_marts_doc_lists_exactly_its_columns_with_their_types(name, built_columns):
    doc = mart_doc(name)
    assert doc["name"] == name
    documented = [(c["name"], c["data_type"]) for c in doc["columns"]]
    assert documented == built_columns[name]


@pytest.mark.parametrize("name", MART_NAMES)
def test_every_column_and_mart_is_described_and_points_at_the_metrics(name):
    doc = mart_doc(name)
    assert doc["description"].strip()
    assert all(column["description"].strip() for column in doc["columns"])
    path, anchor = doc["meta"]["definitions"].split("#")
    assert path == "docs/metrics.md"
    assert anchor in github_anchors((REPO / path).read_text())


def test_nothing_points_at_a_metrics_contract_outside_the_repository():
    outside = "METRICS" + ".md"  # the contract's copy a reader cannot open
    skip = {".git", ".venv", "data", ".airflow", "__pycache__", ".pytest_cache"}
    mentions = [
        str(path.relative_to(REPO))
        for path in REPO.rglob("*")
        if path.is_file()
        and not skip & set(path.relative_to(REPO).parts)
        and path.suffix in {".py", ".sql", ".md", ".yml", ".yaml", ".toml"}
        and outside in path.read_text(errors="ignore")
    ]
    assert mentions == []
