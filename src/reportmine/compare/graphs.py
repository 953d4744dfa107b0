"""Networks of the comparison: theme co-occurrence, groups and their activities, keyword co-occurrence.

:func:`centrality` scores every node of every graph (degree, betweenness,
eigenvector centrality, in numpy where networkx's Python loops were slow, with
networkx's values); :func:`export_graphs` writes the graphs for Gephi and
other tools as GEXF and GraphML.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safetext import visible
from ..store.files import atomic_path
from ..store.query import TableSource, clean_sql, plain_value
from .core import MENTIONS_SQL, result_frame, rounded

if TYPE_CHECKING:
    import pandas as pd

#: Keywords drawn in the keyword co-occurrence graph (most frequent first).
TOP_KEYWORDS = 40

#: Graphs with more nodes get betweenness estimated from this many seeded
#: source nodes (networkx's ``k``) instead of all of them: exact betweenness is
#: O(nodes × edges), minutes in Python on the activity graph of a few thousand groups.
BETWEENNESS_SAMPLE = 500
#: Betweenness is exact up to this many nodes (:func:`betweenness`, in numpy:
#: under a second at this size with ten edges a node); larger graphs are sampled.
BETWEENNESS_EXACT = 2000


def theme_graph(source: TableSource) -> Any:
    """Themes linked when they are themes (any rank) of the same document.

    Edge ``weight``: documents holding both; ``sections``: sections holding
    both. Node ``sections``: sections with the theme as primary.
    """
    import networkx as nx

    # Each counted section's themes: its section_themes rows, else its primary theme.
    source.con.execute(f"""
        CREATE OR REPLACE TABLE sth AS
        SELECT DISTINCT s.section_id, s.doc_id, t.theme FROM sec s
        JOIN (SELECT {clean_sql('section_id')} AS sid, {clean_sql('theme')} AS theme FROM section_themes) t
            ON t.sid = s.section_id
        WHERE t.theme IS NOT NULL
        UNION
        SELECT section_id, doc_id, theme FROM sec WHERE section_id NOT IN (SELECT section_id FROM prim)""")
    primary = dict(source.rows("SELECT theme, count(*) FROM sec GROUP BY ALL"))
    nodes = sorted(t for (t,) in source.rows("SELECT DISTINCT theme FROM sth"))
    in_sections = {(a, b): int(n) for a, b, n in source.rows(
        "SELECT a.theme, b.theme, count(*) FROM sth a JOIN sth b ON a.section_id = b.section_id AND a.theme < b.theme "
        "GROUP BY ALL")}
    in_docs = source.rows(
        "WITH dt AS (SELECT DISTINCT doc_id, theme FROM sth) "
        "SELECT a.theme, b.theme, count(*) FROM dt a JOIN dt b ON a.doc_id = b.doc_id AND a.theme < b.theme "
        "GROUP BY ALL")
    graph = nx.Graph()
    for theme in nodes:
        graph.add_node(theme, kind="theme", sections=int(primary.get(theme, 0)))
    for a, b, n in sorted((*sorted((a, b)), n) for a, b, n in in_docs):
        graph.add_edge(a, b, weight=int(n), sections=in_sections.get((a, b), in_sections.get((b, a), 0)))
    return graph


def activity_graph(source: TableSource) -> Any:
    """Bipartite groups (``bipartite=0``) and activities (``bipartite=1``).

    Edge ``weight``: the group's mentions of the activity; ``documents``: its documents mentioning it.
    """
    import networkx as nx

    found = sorted(source.rows(f"SELECT grp, activity, count(*), count(DISTINCT did) FROM {MENTIONS_SQL} "
                               "WHERE type = 'activity' AND activity IS NOT NULL GROUP BY ALL"))
    groups = sorted({g for g, *_ in found})
    group_set = set(groups)
    # An activity named like a group would merge with it: keep them apart.
    node = {a: (f"{a} (activity)" if a in group_set else a) for _, a, *_ in found}
    graph = nx.Graph()
    for g in groups:
        graph.add_node(g, kind="group", bipartite=0)
    for a in sorted(node.values()):
        graph.add_node(a, kind="activity", bipartite=1)
    for g, a, n, d in found:
        graph.add_edge(g, node[a], weight=int(n), documents=int(d))
    return graph


def keyword_graph(keywords: list[str], cooccur: Any) -> Any:
    """The :data:`TOP_KEYWORDS` taxonomy keywords in most sections, linked when in the same section.

    Edge ``weight`` and node ``sections``: sections holding both (the keyword).
    """
    import networkx as nx

    frequency = {k: int(cooccur[i, i]) for i, k in enumerate(keywords)}
    # A keyword of one section links to nothing in general: at least two.
    ranked = sorted((k for k, n in frequency.items() if n >= 2), key=lambda k: (-frequency[k], k))
    top = sorted(ranked[:TOP_KEYWORDS])
    index = {k: i for i, k in enumerate(keywords)}
    graph = nx.Graph()
    for k in top:
        graph.add_node(k, kind="keyword", sections=frequency[k])
    for x, a in enumerate(top):
        for b in top[x + 1:]:
            n = int(cooccur[index[a], index[b]])
            if n:
                graph.add_edge(a, b, weight=n)
    return graph


#: Components up to this many nodes use networkx's own power iteration; larger ones the same
#: iteration on a sparse matrix (:func:`_power_iteration`).
SMALL_COMPONENT = 64


def eigenvector(graph: Any) -> dict[Any, float]:
    """Eigenvector centrality within each connected component, 0.0 where undefined.

    On a disconnected graph the leading eigenvector lives in one component
    and every other node would get 0 (a bipartite graph of groups and their
    activities is disconnected as a rule), so each component of two or more
    nodes is scored on its own, normalised to unit length: a value compares a
    node with the nodes it is connected to. An isolated node gets 0.0, and so
    does a component where the iteration does not converge. networkx iterates
    with A + I, so bipartite components converge too.
    """
    import networkx as nx

    scores = dict.fromkeys(graph.nodes, 0.0)
    for nodes in nx.connected_components(graph):
        if len(nodes) < 2:
            continue
        component = graph.subgraph(sorted(nodes, key=str))
        try:
            if len(nodes) <= SMALL_COMPONENT:
                values = nx.eigenvector_centrality(component, max_iter=1000, tol=1e-9, weight="weight")
            else:
                values = _power_iteration(component)
        except (nx.PowerIterationFailedConvergence, nx.NetworkXException, ZeroDivisionError, ArithmeticError):
            continue
        scores.update(values)
    return scores


def _power_iteration(graph: Any, max_iter: int = 1000, tol: float = 1e-9) -> dict[Any, float]:
    """networkx's eigenvector_centrality (the same A + I iteration, start and stop rule) on a sparse matrix.

    The pure-Python loop took seconds on a few thousand nodes; ARPACK
    (``eigenvector_centrality_numpy``) starts from a random vector, so its
    last digits change from run to run and the output bytes with them.
    Measured (benchmarks/bench_centrality.py, best of 3): 0.04 s vs 19 s for networkx on a
    1,000-hospital activity graph (1,074 nodes, 7,168 edges); 0.009 s vs 2.3 s on the 10 MB
    benchmark corpus's (285 nodes); values within 4e-16 of networkx's.
    """
    import networkx as nx
    import numpy as np

    order = list(graph.nodes)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=order, weight="weight", format="csr").T.tocsr()
    n = len(order)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = last + matrix @ last
        x = x / (np.linalg.norm(x) or 1.0)
        if np.abs(x - last).sum() < n * tol:
            return dict(zip(order, x.tolist(), strict=True))
    raise nx.PowerIterationFailedConvergence(max_iter)


def centrality(graphs: dict[str, Any]) -> pd.DataFrame:
    """Long table ``graph, node, kind, degree, weighted_degree, betweenness, eigenvector`` of every graph.

    Betweenness is unweighted (edge weights are counts, not distances) and
    normalised; exact up to :data:`BETWEENNESS_EXACT` nodes, past that
    estimated by networkx from :data:`BETWEENNESS_SAMPLE` seeded sources. Eigenvector centrality uses
    the weights and is computed per connected component (see :func:`eigenvector`).

    >>> import networkx as nx
    >>> centrality({"g": nx.path_graph(3)})[["node", "degree", "betweenness"]].values.tolist()
    [['0', 1, 0.0], ['1', 2, 1.0], ['2', 1, 0.0]]
    """
    import networkx as nx

    rows = []
    for name in sorted(graphs):
        graph = graphs[name]
        if graph is None or graph.number_of_nodes() == 0:
            continue
        n = graph.number_of_nodes()
        # Past the exact limit, estimated from BETWEENNESS_SAMPLE sources chosen with a fixed seed.
        if n > BETWEENNESS_EXACT:
            between = nx.betweenness_centrality(graph, k=BETWEENNESS_SAMPLE, seed=0)
        else:
            between = betweenness(graph)
        eigen = eigenvector(graph)
        for node in sorted(graph.nodes, key=str):
            data = graph.nodes[node]
            kind = data.get("kind")
            if kind is None and "bipartite" in data:
                kind = "group" if data["bipartite"] == 0 else "activity"
            rows.append({"graph": name, "node": str(node), "kind": kind, "degree": graph.degree(node),
                         "weighted_degree": rounded(graph.degree(node, weight="weight")),
                         "betweenness": rounded(between[node]), "eigenvector": rounded(eigen[node])})
    return result_frame("centrality", rows)


def betweenness(graph: Any) -> dict[Any, float]:
    """networkx's normalised, unweighted ``betweenness_centrality``, computed a batch of sources at a time.

    Brandes' algorithm in matrix form: breadth-first search from
    :data:`BETWEENNESS_BATCH` sources at once, each level one product of the
    sparse adjacency with the frontier's path counts, then the dependencies
    accumulated level by level back to the sources. The same values as
    networkx (to float rounding; tests compare them), which runs the search in
    Python one source at a time and took most of the comparison's graph time.
    Measured (benchmarks/bench_centrality.py, best of 3): 0.09 s vs 3.1 s for networkx on a 1,000-hospital
    activity graph (1,074 nodes, 7,168 edges); networkx's sampled estimate cannot stand in (it needs 500
    nodes, is slower, and changes most written values).
    """
    import numpy as np
    from scipy import sparse

    nodes = list(graph.nodes)
    n = len(nodes)
    if n < 3:
        return dict.fromkeys(nodes, 0.0)
    index = {node: i for i, node in enumerate(nodes)}
    pairs = np.array([(index[u], index[v]) for u, v in graph.edges() if u != v], dtype=np.int64).reshape(-1, 2)
    adjacency = sparse.coo_matrix((np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]],
                                                              np.r_[pairs[:, 1], pairs[:, 0]])), shape=(n, n)).tocsr()
    adjacency.data[:] = 1.0
    total = np.zeros(n)
    for first in range(0, n, BETWEENNESS_BATCH):
        sources = np.arange(first, min(first + BETWEENNESS_BATCH, n))
        rows = np.arange(len(sources))
        sigma = np.zeros((n, len(sources)))        # shortest paths from each source (a column) to each node
        level = np.full((n, len(sources)), -1, dtype=np.int64)
        sigma[sources, rows] = 1.0
        level[sources, rows] = 0
        frontier, depth = sigma.copy(), 0
        while True:
            reached = adjacency @ frontier          # paths one step beyond the current level
            new = (level < 0) & (reached > 0)
            if not new.any():
                break
            depth += 1
            level[new] = depth
            sigma[new] = reached[new]
            frontier = np.where(new, reached, 0.0)
        delta = np.zeros_like(sigma)
        for d in range(depth, 0, -1):               # dependencies, from the deepest level back
            at = level == d
            coefficient = np.where(at, (1.0 + delta) / np.where(at, sigma, 1.0), 0.0)
            parents = level == d - 1
            delta += np.where(parents, sigma * (adjacency @ coefficient), 0.0)
        delta[sources, rows] = 0.0
        total += delta.sum(axis=1)
    # networkx counts ordered pairs (each unordered pair twice) and divides by (n-1)(n-2).
    scale = 1 / ((n - 1) * (n - 2))
    return {node: float(value) * scale for node, value in zip(nodes, total, strict=True)}


#: Sources searched at once by :func:`betweenness`: its matrices are nodes × this (8 bytes a cell).
BETWEENNESS_BATCH = 256


# --- Export ---------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    """An attribute value GraphML and GEXF can hold: bool, int, float or XML-valid str, never None."""
    value = plain_value(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return visible(str(value))


def _exportable(graph: Any) -> Any:
    """A copy of ``graph`` both XML formats can write: string node ids and attributes, XML-valid text.

    Characters XML cannot hold (a control character in an activity name)
    become visible ``\\uXXXX`` escapes (:func:`reportmine.safetext.visible`),
    which keeps distinct names distinct. Should two nodes still end up with
    one id (a name already holding the escape's text, or ``1`` beside
    ``"1"``), the later one gets `` (2)``, `` (3)`` …, so no node merges
    with another; its ``label`` attribute keeps the escaped name.
    """
    import networkx as nx

    out = nx.Graph()
    ids: dict[Any, str] = {}
    taken: set[str] = set()
    for node in sorted(graph.nodes, key=str):
        base = visible(str(node))
        new, copy = base, 1
        while new in taken:
            copy += 1
            new = f"{base} ({copy})"
        ids[node] = new
        taken.add(new)
        attributes = {visible(str(k)): _safe(v) for k, v in sorted(graph.nodes[node].items())}
        if new != base:
            attributes.setdefault("label", base)
        out.add_node(new, **attributes)
    edges = sorted(((ids[u], ids[v], d) for u, v, d in graph.edges(data=True)), key=lambda e: (min(e[:2]), max(e[:2])))
    for u, v, data in edges:
        a, b = sorted((u, v))
        out.add_edge(a, b, **{visible(str(k)): _safe(x) for k, x in sorted(data.items())})
    return out


def export_graphs(graphs: dict[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each graph as ``OUT/<name>.gexf`` (Gephi) and ``OUT/<name>.graphml``.

    Each file is written under a temporary name and renamed into place, so a
    failure leaves the previous file or none, never a malformed one. Node
    ids become strings and attribute values bool/int/float/str (None becomes
    ""), so both formats load back; characters XML cannot hold become visible
    ``\\uXXXX`` escapes with node ids kept unique (:func:`_exportable`).
    GEXF's modification date is left out so the same graph gives the same bytes.

    Returns:
        The paths written, in name order.

    >>> export_graphs(comparison.graphs, "reportmine-out/graphs")  # doctest: +SKIP
    [PosixPath('reportmine-out/graphs/activity_group.gexf'), ...]
    """
    import networkx as nx
    from networkx.readwrite.gexf import GEXFWriter

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(graphs):
        if graphs[name] is None:
            continue
        graph = _exportable(graphs[name])
        target = out / f"{name}.gexf"
        tmp = atomic_path(target)
        try:
            writer = GEXFWriter(encoding="utf-8", prettyprint=True)
            meta = writer.xml.find("meta")
            if meta is not None:
                meta.attrib.pop("lastmodifieddate", None)  # today's date: the same graph would differ tomorrow
            writer.add_graph(graph)
            writer.write(str(tmp))
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
        target = out / f"{name}.graphml"
        tmp = atomic_path(target)
        try:
            nx.write_graphml(graph, str(tmp), encoding="utf-8")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written
