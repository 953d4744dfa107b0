"""Time the comparison's hand-written centrality against plain networkx, and check they agree.

The comparison scores every graph with :func:`reportmine.compare.centrality`:
eigenvector centrality per connected component (``eigenvector``: networkx's
own iteration up to ``SMALL_COMPONENT`` nodes, past that ``_power_iteration``,
the same A + I iteration on a scipy sparse matrix) and exact betweenness up to
``BETWEENNESS_EXACT`` nodes (``betweenness``: Brandes' algorithm a batch of
sources at a time in numpy), networkx's sampled estimate past it. This script
times each hand-written path against what plain networkx would do instead:

* eigenvector: ``nx.eigenvector_centrality(component, max_iter=1000, tol=1e-9,
  weight="weight")`` on every connected component of two or more nodes (the
  code's own path for small components);
* betweenness: ``nx.betweenness_centrality(graph)`` (exact: the values the hand
  path reproduces) and ``nx.betweenness_centrality(graph, k=BETWEENNESS_SAMPLE,
  seed=0)`` (the sampled estimate the code uses past the exact limit; only
  defined when the graph has at least ``k`` nodes).

Graphs: those of a corpus's comparison (rebuilt with ``compare(load_tables(OUT))``,
or read from ``OUT/graphs/*.graphml`` with ``--graphml``), and synthetic graphs
of the size a 1,000-hospital corpus would give (see :func:`synthetic_graphs`).
Everything runs in one process; each timing is the best of ``--repeat`` runs.

Usage: python benchmarks/bench_centrality.py OUT [--repeat 3] [--graphml] [--json FILE] [--no-synthetic]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

import reportmine
from reportmine.compare import compare, graphs
from reportmine.compare.core import rounded

#: Past this many node-edge products (nodes x edges) networkx's exact betweenness
#: is run once, not best-of-repeat: it is minutes in pure Python.
_SLOW_BETWEENNESS = 60_000_000


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Shortest wall time of ``repeat`` runs of ``work`` and the result of the last run."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def plain_eigenvector(graph: Any) -> dict[Any, float]:
    """The code's per-component eigenvector centrality with networkx's iteration on every component."""
    scores = dict.fromkeys(graph.nodes, 0.0)
    for nodes in nx.connected_components(graph):
        if len(nodes) < 2:
            continue
        component = graph.subgraph(sorted(nodes, key=str))
        try:
            values = nx.eigenvector_centrality(component, max_iter=1000, tol=1e-9, weight="weight")
        except (nx.PowerIterationFailedConvergence, nx.NetworkXException, ZeroDivisionError, ArithmeticError):
            continue
        scores.update(values)
    return scores


def agreement(a: dict[Any, float], b: dict[Any, float]) -> tuple[float, int]:
    """Largest absolute difference, and how many values differ once rounded as the output rounds them."""
    diff = max((abs(a[k] - b[k]) for k in a), default=0.0)
    differ = sum(rounded(a[k]) != rounded(b[k]) for k in a)
    return diff, differ


# --- Graphs -------------------------------------------------------------------------


def corpus_graphs(out_dir: Path, graphml: bool) -> dict[str, Any]:
    """The comparison graphs of a run's output folder."""
    if graphml:
        return {p.stem: nx.read_graphml(p) for p in sorted((out_dir / "graphs").glob("*.graphml"))}
    return compare(reportmine.load_tables(out_dir)).graphs


def activity_graph(groups: int, activities: int, template: Any, seed: int) -> Any:
    """A bipartite group-activity graph like ``_activity_graph``'s, shaped on a corpus's one.

    Each group's number of activities and each edge's weight (mentions) are
    drawn from the ``template`` graph's (the benchmark corpus's activity graph:
    half its groups name two activities or fewer, a tenth 22 or more; most
    edges weigh 1 or 2). Activities are picked in proportion to the template's
    activity degrees where the vocabulary is the template's size, else by a
    Zipf law (1/rank: a few activities in many groups, a long tail in one or
    two). Every activity is in at least one group (it is no node otherwise).
    """
    rng = random.Random(seed)
    group_degrees = [d for node, d in template.degree() if template.nodes[node].get("bipartite") == 0]
    activity_degrees = sorted((d for node, d in template.degree() if template.nodes[node].get("bipartite") == 1),
                              reverse=True)
    weights = [int(d["weight"]) for *_, d in template.edges(data=True)]
    if activities == len(activity_degrees):
        popularity = [float(d) for d in activity_degrees]
    else:
        popularity = [1.0 / (rank + 1) for rank in range(activities)]
    links: dict[int, set[int]] = {g: set() for g in range(groups)}
    for a in range(activities):
        links[rng.randrange(groups)].add(a)
    for g in range(groups):
        want = min(rng.choice(group_degrees), activities)
        while len(links[g]) < want:
            links[g].add(rng.choices(range(activities), weights=popularity)[0])
    graph = nx.Graph()
    names = [f"activity {i:05d}" for i in range(activities)]
    for g in range(groups):
        graph.add_node(f"group {g:05d}", kind="group", bipartite=0)
    for name in names:
        graph.add_node(name, kind="activity", bipartite=1)
    for g in range(groups):
        for a in sorted(links[g]):
            n = rng.choice(weights)
            graph.add_edge(f"group {g:05d}", names[a], weight=n, documents=max(1, n // 2))
    return graph


def cooccurrence_graph(nodes: int, density: float, max_weight: int, seed: int, kind: str) -> Any:
    """A keyword or theme co-occurrence graph: ``nodes`` nodes, each pair linked with probability ``density``."""
    rng = random.Random(seed)
    graph = nx.Graph()
    names = [f"{kind} {i:03d}" for i in range(nodes)]
    for name in names:
        graph.add_node(name, kind=kind, sections=rng.randint(2, max_weight))
    for x, a in enumerate(names):
        for b in names[x + 1:]:
            if rng.random() < density:
                graph.add_edge(a, b, weight=rng.randint(1, max_weight))
    return graph


def synthetic_graphs(template: Any) -> dict[str, Any]:
    """Graphs of the size a 1,000-hospital corpus would give, the activity graphs shaped on ``template``.

    The keyword graph is capped at ``TOP_KEYWORDS`` (40) nodes and the theme
    graph at the taxonomy's themes (20) whatever the corpus size: a large
    corpus only makes them complete, with larger weights. The activity graph
    grows with the groups: 1,000 hospitals with the template's 74 activities;
    the same with a long tail of 1,000 activity names (2,000 nodes: the
    ``BETWEENNESS_EXACT`` size, the largest graph ``betweenness`` runs on); and
    a ``group_by="file"`` graph of 3,000 file groups, past that limit. The
    500-keyword graph is not one compare builds (``TOP_KEYWORDS`` is 40): it
    shows what a much larger co-occurrence graph would cost.
    """
    return {
        "activity 1000 hosp x 74 act": activity_graph(1000, 74, template, seed=1),
        "activity 1000 hosp x 1000 act": activity_graph(1000, 1000, template, seed=2),
        "activity 3000 file x 1500 act": activity_graph(3000, 1500, template, seed=3),
        "keyword 40 (complete)": cooccurrence_graph(40, 1.0, 5000, seed=4, kind="keyword"),
        "theme 20 (complete)": cooccurrence_graph(20, 1.0, 20000, seed=5, kind="theme"),
        "keyword 500 (30% dense, hypothetical)": cooccurrence_graph(500, 0.3, 5000, seed=6, kind="keyword"),
    }


# --- Measurement --------------------------------------------------------------------


def measure(name: str, graph: Any, repeat: int) -> dict[str, Any]:
    """Time and compare both centralities of one graph."""
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    components = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    row: dict[str, Any] = {"graph": name, "nodes": n, "edges": m, "components": len(components),
                           "largest": components[0] if components else 0,
                           "power_iteration_used": any(c > graphs.SMALL_COMPONENT for c in components),
                           "code_betweenness": "betweenness" if n <= graphs.BETWEENNESS_EXACT else "nx sampled"}

    row["eig_hand_s"], hand = best_of(repeat, lambda: graphs.eigenvector(graph))
    row["eig_nx_s"], plain = best_of(repeat, lambda: plain_eigenvector(graph))
    row["eig_maxdiff"], row["eig_rounded_differ"] = agreement(hand, plain)
    row["eig_zero_nodes"] = sum(v == 0.0 for v in hand.values())   # isolated, or not converged

    row["btw_hand_s"], exact = best_of(repeat, lambda: graphs.betweenness(graph))
    slow = n * m > _SLOW_BETWEENNESS
    row["btw_nx_exact_runs"] = 1 if slow else repeat
    row["btw_nx_exact_s"], nx_exact = best_of(row["btw_nx_exact_runs"], lambda: nx.betweenness_centrality(graph))
    row["btw_maxdiff"], row["btw_rounded_differ"] = agreement(exact, nx_exact)
    if n >= graphs.BETWEENNESS_SAMPLE:
        row["btw_nx_sampled_s"], sampled = best_of(
            repeat, lambda: nx.betweenness_centrality(graph, k=graphs.BETWEENNESS_SAMPLE, seed=0))
        row["btw_sampled_maxdiff"], row["btw_sampled_rounded_differ"] = agreement(exact, sampled)
    return row


def _print(row: dict[str, Any]) -> None:
    print(json.dumps(row, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="a run's output folder whose comparison graphs to score "
                                                   "(e.g. of reportmine analyze on a corpus_gen.py corpus)")
    parser.add_argument("--graphml", action="store_true", help="read OUT/graphs/*.graphml instead of re-comparing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--no-synthetic", action="store_true")
    args = parser.parse_args()

    rows = []
    start = time.perf_counter()
    graphs = corpus_graphs(args.out_dir, args.graphml)
    print(f"# corpus graphs from {args.out_dir} in {time.perf_counter() - start:.1f} s", flush=True)
    for name in sorted(graphs):
        rows.append(measure(f"corpus: {name}", graphs[name], args.repeat))
        _print(rows[-1])
    if not args.no_synthetic:
        for name, graph in synthetic_graphs(graphs["activity_group"]).items():
            rows.append(measure(f"synthetic: {name}", graph, args.repeat))
            _print(rows[-1])
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
