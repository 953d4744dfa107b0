"""Statistics of the comparison: theme profiles, distinctive themes and terms, similarity, plans, quantities.

Every function reads the DuckDB tables ``sec`` and ``docs`` that
:mod:`reportmine.compare.run` builds (counted sections and documents, with
their group), or counts made from them, and returns a sorted table.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from ..store.query import TableSource
from .core import DIGITS, MENTIONS_SQL, result_frame, rounded

if TYPE_CHECKING:
    import pandas as pd

#: Total pseudo-count α0 of the informative Dirichlet prior (Monroe, Colaresi &
#: Quinn 2008, eq. 16): the prior is the pooled corpus's distribution scaled to
#: this many counts. 100 steadies items seen a handful of times in a corpus of a
#: few reports, and weighs little beside the thousands of sections of a real one.
PRIOR_STRENGTH = 100.0

#: Distinctive terms kept per group (highest z first): the report shows 10.
TOP_TERMS = 30
#: Up to this many groups, similarity lists every pair; past it, the
#: SIMILAR_GROUPS most similar groups of each group (a full matrix of 3,000 file
#: groups would be 9 million rows).
SIMILARITY_ALL_PAIRS = 300
SIMILAR_GROUPS = 10

#: Mention types summed per theme.
QUANTITY_TYPES = ("quantity", "money", "percent")


def _year_key(year: int | None) -> tuple[bool, int]:
    """Years in order, a missing year last."""
    return (year is None, year or 0)


def theme_profiles(source: TableSource) -> pd.DataFrame:
    """Sections, characters and documents of each primary theme per group and year, with their shares."""
    cells = source.rows("SELECT grp, year, theme, count(*), sum(chars), count(DISTINCT doc_id) FROM sec GROUP BY ALL")
    totals = {(g, y): (n, c, d) for g, y, n, c, d in source.rows(
        "SELECT grp, year, count(*), sum(chars), count(DISTINCT doc_id) FROM sec GROUP BY ALL")}
    rows = []
    for g, y, t, n, c, d in sorted(cells, key=lambda k: (k[0], _year_key(k[1]), k[2])):
        n_sections, n_chars, n_docs = totals[(g, y)]
        rows.append({
            "group": g, "year": y, "theme": t, "sections": int(n), "chars": int(c), "documents": int(d),
            "share_sections": rounded(n / n_sections),
            "share_chars": rounded(c / n_chars) if n_chars else 0.0,
            "share_documents": rounded(d / n_docs),
        })
    return result_frame("theme_profiles", rows)


def group_theme_counts(source: TableSource) -> dict[str, Counter]:
    """Sections of each primary theme, per group."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for g, t, n in source.rows("SELECT grp, theme, count(*) FROM sec GROUP BY ALL"):
        counts[g][t] = int(n)
    return counts


def log_odds_dirichlet(counts: dict[str, Counter], *, prior_strength: float = PRIOR_STRENGTH,
                       all_items: bool = True) -> list[dict[str, Any]]:
    """Log-odds ratios with an informative Dirichlet prior, each group against all others.

    Monroe, Colaresi & Quinn (2008), "Fightin' Words", eqs. 16-22: with
    ``y_iw`` the count of item ``w`` in group ``i``, ``n_i`` the group's total,
    the rest of the corpus as ``j``, and the prior ``α_w = α0 · y_w / N``
    (the pooled corpus, scaled to ``α0 = prior_strength`` counts)::

        δ_w = log((y_iw + α_w) / (n_i + α0 − y_iw − α_w)) − log((y_jw + α_w) / (n_j + α0 − y_jw − α_w))
        z_w = δ_w / sqrt(1 / (y_iw + α_w) + 1 / (y_jw + α_w))

    Args:
        counts: group -> item -> count.
        prior_strength: α0.
        all_items: a row for every (group, item), else only items the group uses.

    Returns:
        Rows ``group, item, count, log_odds, z``, by group, then z descending,
        then item; empty with fewer than two groups or two items.

    >>> rows = log_odds_dirichlet({"a": Counter(x=3, y=1), "b": Counter(x=1, y=3)})
    >>> [(r["group"], r["item"], r["z"] > 0) for r in rows]
    [('a', 'x', True), ('a', 'y', False), ('b', 'y', True), ('b', 'x', False)]
    """
    totals: Counter = Counter()
    for group_counts in counts.values():
        totals.update(group_counts)
    totals = Counter({w: n for w, n in totals.items() if n > 0})
    n_all = sum(totals.values())
    groups = sorted(g for g, c in counts.items() if sum(c.values()) > 0)
    if len(groups) < 2 or len(totals) < 2:
        return []
    a0 = prior_strength
    rows = []
    for group in groups:
        mine = counts[group]
        n_i = sum(mine.values())
        n_j = n_all - n_i
        items = sorted(totals) if all_items else sorted(w for w in mine if mine[w] > 0)
        group_rows = []
        for w in items:
            alpha = a0 * totals[w] / n_all
            y_i = mine.get(w, 0)
            y_j = totals[w] - y_i
            delta = (math.log((y_i + alpha) / (n_i + a0 - y_i - alpha))
                     - math.log((y_j + alpha) / (n_j + a0 - y_j - alpha)))
            z = delta / math.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
            group_rows.append({"group": group, "item": w, "count": y_i, "log_odds": rounded(delta), "z": rounded(z)})
        group_rows.sort(key=lambda r: (-r["z"], r["item"]))
        rows.extend(group_rows)
    return rows


def distinctive_themes(counts: dict[str, Counter]) -> pd.DataFrame:
    """The log-odds (:func:`log_odds_dirichlet`) of every theme of every group."""
    rows = [{"group": r["group"], "theme": r["item"], "count": r["count"], "log_odds": r["log_odds"], "z": r["z"]}
            for r in log_odds_dirichlet(counts)]
    return result_frame("distinctive_themes", rows)


def distinctive_terms(counts: dict[str, Counter]) -> pd.DataFrame:
    """The :data:`TOP_TERMS` terms of highest z (:func:`log_odds_dirichlet`) of each group, of those it uses."""
    rows = []
    per_group: Counter = Counter()
    for r in log_odds_dirichlet(counts, all_items=False):   # by group, then z descending
        if per_group[r["group"]] < TOP_TERMS:
            per_group[r["group"]] += 1
            rows.append({"group": r["group"], "term": r["item"], "count": r["count"], "log_odds": r["log_odds"],
                         "z": r["z"]})
    return result_frame("distinctive_terms", rows)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two sparse vectors (0.0 when either is all zeros).

    >>> cosine({"x": 1, "y": 1}, {"x": 1})
    0.707107
    """
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return rounded(dot / norm) if norm else 0.0


def similarity(profiles: dict[str, Counter]) -> pd.DataFrame:
    """Cosine of theme profiles: every pair up to :data:`SIMILARITY_ALL_PAIRS` groups, else each group's
    :data:`SIMILAR_GROUPS` nearest, computed a block of rows at a time."""
    import numpy as np

    groups = sorted(profiles)
    themes = sorted({t for c in profiles.values() for t in c})
    if len(groups) < 2:
        return result_frame("similarity", [])
    column = {t: j for j, t in enumerate(themes)}
    matrix = np.zeros((len(groups), len(themes)), dtype=np.float64)
    for i, g in enumerate(groups):
        for t, n in profiles[g].items():
            matrix[i, column[t]] = n
    # Counts are integers: the dot products are exact, so the cosines do not depend on BLAS's summation order.
    norms = np.sqrt((matrix * matrix).sum(axis=1))
    everything = len(groups) <= SIMILARITY_ALL_PAIRS
    block = max(1, 4_000_000 // len(groups))
    rows = []
    for start in range(0, len(groups), block):
        dots = matrix[start:start + block] @ matrix.T
        scale = np.outer(norms[start:start + block], norms)
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = np.where(scale > 0, dots / np.where(scale > 0, scale, 1), 0.0)
        cos = np.round(cos, DIGITS) + 0.0
        for k in range(cos.shape[0]):
            i = start + k
            values = cos[k].copy()
            values[i] = -np.inf
            if everything:
                picked = [j for j in range(len(groups)) if j != i]
            else:
                # Ties at the cut are all kept, then ordered by name: the same neighbours on every run.
                cut = np.partition(values, -SIMILAR_GROUPS)[-SIMILAR_GROUPS]
                picked = sorted(np.flatnonzero(values >= cut).tolist(), key=lambda j: (-values[j], groups[j]))
                picked = sorted(picked[:SIMILAR_GROUPS])
            rows.extend({"group_a": groups[i], "group_b": groups[j], "cosine": float(values[j])} for j in picked)
    return result_frame("similarity", rows)


def plan_vs_summary(source: TableSource) -> pd.DataFrame:
    """Sections of each primary theme in plans and in summaries, with their shares and the difference."""
    counts: dict[str, Counter] = {"plan": Counter(), "summary": Counter()}
    for kind, theme, n in source.rows("SELECT kind, theme, count(*) FROM sec WHERE kind IN ('plan', 'summary') "
                                      "GROUP BY ALL"):
        counts[kind][theme] = int(n)
    totals = {kind: sum(c.values()) for kind, c in counts.items()}
    rows = []
    for theme in sorted(set(counts["plan"]) | set(counts["summary"])):
        share = {kind: (counts[kind][theme] / totals[kind] if totals[kind] else None) for kind in counts}
        both = share["plan"] is not None and share["summary"] is not None
        rows.append({
            "theme": theme, "plan_sections": counts["plan"][theme], "summary_sections": counts["summary"][theme],
            "plan_share": None if share["plan"] is None else rounded(share["plan"]),
            "summary_share": None if share["summary"] is None else rounded(share["summary"]),
            "difference": rounded(share["plan"] - share["summary"]) if both else None,
        })
    frame = result_frame("plan_vs_summary", rows)
    for column in ("plan_share", "summary_share", "difference"):
        frame[column] = frame[column].astype("Float64")
    return frame


def quantities(source: TableSource) -> pd.DataFrame:
    """Count, exact total, median, min and max of the quantity mentions per primary theme, type and unit."""
    # fsum: an exact sum, so that the order DuckDB's threads add in never shows.
    types = ", ".join(f"'{t}'" for t in QUANTITY_TYPES)
    found = source.rows(f"""
        SELECT s.theme, m.type, coalesce(m.unit, ''), count(*), fsum(m.value), median(m.value), min(m.value),
               max(m.value)
        FROM {MENTIONS_SQL} m JOIN sec s ON s.section_id = m.sid
        WHERE m.type IN ({types}) AND m.value IS NOT NULL AND NOT isnan(m.value)
        GROUP BY ALL""")
    rows = [{"theme": t, "type": k, "unit": u, "mentions": int(n), "total": rounded(total), "median": rounded(median),
             "min": rounded(low), "max": rounded(high)} for t, k, u, n, total, median, low, high in sorted(found)]
    return result_frame("quantities", rows)


def first_activities(source: TableSource) -> pd.DataFrame:
    """Each group's earliest mention of each activity, and how many of its documents mention it."""
    # Earliest: the first year stated, then table order, then position in the file.
    found = source.rows(f"""
        WITH a AS (SELECT * FROM {MENTIONS_SQL} WHERE type = 'activity' AND activity IS NOT NULL),
        first AS (
            SELECT grp, activity, year, did, line FROM a
            QUALIFY row_number() OVER (PARTITION BY grp, activity
                                       ORDER BY year IS NULL, coalesce(year, 0), ord, coalesce(start, 0), line) = 1),
        n AS (SELECT grp, activity, count(DISTINCT did) AS documents FROM a GROUP BY ALL)
        SELECT first.grp, first.activity, first.year, first.did, first.line, n.documents
        FROM first JOIN n USING (grp, activity)""")
    rows = [{"group": g, "activity": a, "first_year": y, "doc_id": d, "line": line, "documents": int(n)}
            for g, a, y, d, line, n in found]
    rows.sort(key=lambda r: (r["group"], _year_key(r["first_year"]), r["activity"]))
    return result_frame("first_activities", rows)
