"""Normalised betweenness centrality of each department in the co-handling graph.

SQL has no shortest-path primitive, so this one figure comes from networkx. The graph has
one node per configured department, so it stays tiny whatever the message volume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DEPENDS_ON = ("intermediate.int_department_co_handling",)


def build(con: duckdb.DuckDBPyConnection) -> None:
    import networkx as nx

    graph = nx.Graph()
    # every configured department is a node, also one that co-handled nothing
    graph.add_nodes_from(
        department
        for (department,) in con.execute(
            "select department from config.departments order by position"
        ).fetchall()
    )
    graph.add_edges_from(
        con.execute(
            "select department_a, department_b from intermediate.int_department_co_handling"
        ).fetchall()
    )
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    con.execute(
        "create or replace table intermediate.int_department_betweenness "
        "(department varchar, betweenness double)"
    )
    con.executemany(
        "insert into intermediate.int_department_betweenness values (?, ?)",
        [(department, betweenness[department]) for department in graph.nodes],
    )
