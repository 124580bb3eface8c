"""The completeness gate: is every planned (platform, account) of a night all there?

A night may be published only when each of its planned extract targets has

    an extract run of that night that completed (the latest one, if it ran more than once),
    every page of that run loaded, none of them left refused (ops.rejects unresolved),
    and a balanced reconciliation made after the run was last loaded.

What a target lacks is said in words, one line per target, so the failed run names the
accounts and why. The planned targets arrive as arguments: what is planned is the
config's business, not this layer's.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_LATEST_RUN_SQL = """
select manifest, complete, error, pages, loaded_at
from ops.extract_runs
where platform = ? and account = ? and until = ?
order by started_at desc nulls last, loaded_at desc
limit 1
"""

_PAGES_SQL = """
select
    (select count(*) from ops.loaded_files where starts_with(landing_file, $run_dir)),
    (select count(distinct landing_file) from ops.rejects
     where record_path is null and resolved_at is null and starts_with(landing_file, $run_dir))
"""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'ops'"
    ).fetchall()
    return {name for (name,) in rows}


def _reconciliation_problem(
    con: duckdb.DuckDBPyConnection, manifest: str, loaded_at: datetime
) -> str | None:
    found = con.execute(
        "select balanced, problem, reconciled_at from ops.reconciliations where manifest = ?",
        [manifest],
    ).fetchone()
    if found is None:
        return "not reconciled"
    balanced, problem, reconciled_at = found
    if reconciled_at < loaded_at:
        return "reconciled before its last load: reconcile the night again"
    if balanced is not True:
        return f"reconciliation does not balance: {problem or 'not countable'}"
    return None


def target_problem(
    con: duckdb.DuckDBPyConnection, platform: str, account: str, until: datetime
) -> str | None:
    """Why (platform, account) is not complete for the night ending `until`, or None."""
    tables = _tables(con)
    if "extract_runs" not in tables:
        return "no extract run of this night was loaded"
    run = con.execute(_LATEST_RUN_SQL, [platform, account, until]).fetchone()
    if run is None:
        return "no extract run of this night was loaded"
    manifest, complete, error, pages, loaded_at = run
    if not complete:
        return f"its extract did not complete ({error or 'stopped early'})"
    run_dir = posixpath.dirname(manifest) + "/"
    loaded, refused = con.execute(_PAGES_SQL, {"run_dir": run_dir}).fetchone() or (0, 0)
    if refused:
        return f"{refused} page(s) refused by the loader (ops.rejects): run the night again"
    if loaded < pages:
        return f"{pages - loaded} of {pages} page(s) not loaded"
    if "reconciliations" not in tables:
        return "not reconciled"
    return _reconciliation_problem(con, manifest, loaded_at)


def night_problems(
    con: duckdb.DuckDBPyConnection, targets: list[tuple[str, str]], until: datetime
) -> list[str]:
    """One line per planned (platform, account) of the night that is not complete."""
    problems = []
    for platform, account in targets:
        problem = target_problem(con, platform, account, until)
        if problem:
            problems.append(f"{platform}/{account}: {problem}")
    return problems
