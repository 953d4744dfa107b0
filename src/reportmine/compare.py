"""Stage 9, compare: what health-policy papers publish about many hospitals.

In: the tidy tables of :mod:`reportmine.tables` (``documents``, ``sections``,
``mentions``, ``section_themes``). Out: a :class:`Comparison` of DataFrames
and networkx graphs, and :func:`export_graphs` to write the graphs as GEXF
and GraphML.

The unit compared is the *group*: a document's hospital where it is known,
else its file (``group`` column, with ``group_source`` saying which), so that
a corpus without a manifest still compares its sources without pretending to
know hospitals it does not.

Near-duplicate documents (template text copied across sites, or one report
filed twice) are found first and left out of every count below, so that a
copied report does not count twice; the documents table marks them in
``duplicate_of``. Every output is sorted with stable tie-breaks, so the same
tables give the same comparison, byte for byte once written.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# --- Tuned constants -------------------------------------------------------------

#: Total pseudo-count α0 of the informative Dirichlet prior (Monroe, Colaresi &
#: Quinn 2008, eq. 16): the prior is the pooled corpus's distribution scaled to
#: this many counts. 100 steadies items seen a handful of times in a corpus of a
#: few reports, and weighs little beside the thousands of sections of a real one.
PRIOR_STRENGTH = 100.0
#: Characters per shingle for near-duplicate detection: five Chinese characters
#: are about two words, rare enough that independent reports share few of them.
SHINGLE_CHARS = 5
#: Jaccard similarity of shingle sets at or above which two documents are near
#: duplicates. On the sample corpus the most similar two of its 31 reports with
#: enough text share 0.007; a template copied with another hospital's name and
#: figures (tests/test_compare.py) keeps 0.91.
DUPLICATE_JACCARD = 0.5
#: Documents with fewer distinct shingles than this (a title, a stub) are
#: never called duplicates: a short text matches another by chance.
MIN_SHINGLES = 50
#: Keywords drawn in the keyword co-occurrence graph (most frequent first).
TOP_KEYWORDS = 40
#: Shortest token counted as a term: single characters (的, 和, 年) are function words;
#: tokens with digits (2016, 20xx) are dates and figures, not vocabulary.
MIN_TERM_CHARS = 2
#: Mention types summed per theme.
QUANTITY_TYPES = ("quantity", "money", "percent")
#: Digits kept in computed floats: enough for any figure, few enough that the
#: last-bit noise of a different summation order never changes an output.
DIGITS = 6

_OTHER = "other"
_FILE = "file"
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_TERM = re.compile(r"[a-z\u3400-\u9fff]")

#: Columns of each comparison table, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "theme_profiles": ("group", "year", "theme", "sections", "chars", "documents", "share_sections",
                       "share_chars", "share_documents"),
    "distinctive_themes": ("group", "theme", "count", "log_odds", "z"),
    "distinctive_terms": ("group", "term", "count", "log_odds", "z"),
    "similarity": ("group_a", "group_b", "cosine"),
    "plan_vs_summary": ("theme", "plan_sections", "summary_sections", "plan_share", "summary_share", "difference"),
    "quantities": ("theme", "type", "unit", "mentions", "total", "median", "min", "max"),
    "first_activities": ("group", "activity", "first_year", "doc_id", "line", "documents"),
    "near_duplicates": ("doc_a", "doc_b", "similarity", "group_a", "group_b"),
    "centrality": ("graph", "node", "kind", "degree", "weighted_degree", "betweenness", "eigenvector"),
}

SHARE_DEFINITION = (
    "Within each group and year: share_sections = sections whose primary theme is the theme / all sections; "
    "share_chars = characters of those sections' own text (title and body, subsections not included) / all such "
    "characters; share_documents = documents with at least one section of the theme / documents with at least one "
    "section. Near-duplicate documents (documents.duplicate_of) are left out; a section without a theme counts as "
    "'other'."
)


@dataclass
class Comparison:
    """Every comparison table and graph of a corpus.

    Attributes (DataFrames unless said otherwise; every row keeps enough ids
    — ``doc_id``/``section_id`` lists or counts — to go back to the text):
        theme_profiles: long table ``group, year, theme, sections, chars,
            documents, share_sections, share_chars, share_documents``; shares
            are within a group (and year), per the definition in ``share_definition``.
        share_definition: a sentence stating how shares are computed.
        distinctive_themes: ``group, theme, count, log_odds, z`` — log-odds
            ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
            2008) of each group against all others.
        distinctive_terms: the same for jieba tokens of section text: ``group, term, count, log_odds, z``.
        similarity: ``group_a, group_b, cosine`` of theme profiles (all pairs, a != b).
        plan_vs_summary: ``theme, plan_sections, summary_sections, plan_share, summary_share, difference``.
        quantities: ``theme, type, unit, mentions, total, median, min, max`` of
            quantity/money/percent mentions in sections of each primary theme.
        first_activities: ``group, activity, first_year, doc_id, line, documents``.
        near_duplicates: ``doc_a, doc_b, similarity, group_a, group_b`` for
            documents sharing template text; ``duplicate_of`` column is also
            added to the documents table returned in ``documents``.
        documents: the documents table with ``group``, ``group_source`` and ``duplicate_of``.
        graphs: name -> networkx graph: ``theme_cooccurrence``,
            ``activity_group`` (bipartite), ``keyword_cooccurrence``.
        centrality: long table ``graph, node, kind, degree, weighted_degree, betweenness, eigenvector``.
    """

    theme_profiles: pd.DataFrame
    share_definition: str
    distinctive_themes: pd.DataFrame
    distinctive_terms: pd.DataFrame
    similarity: pd.DataFrame
    plan_vs_summary: pd.DataFrame
    quantities: pd.DataFrame
    first_activities: pd.DataFrame
    near_duplicates: pd.DataFrame
    documents: pd.DataFrame
    graphs: dict[str, Any] = field(default_factory=dict)
    centrality: pd.DataFrame | None = None


# --- Reading the tables ---------------------------------------------------------


def _value(value: Any) -> Any:
    """A cell as a plain Python value, missing ones (NA, NaN, None) as None."""
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except (TypeError, ValueError):
        pass
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _records(frame: Any, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain values; a missing table or column reads as None."""
    columns = list(columns)
    if frame is None or len(frame) == 0:
        return []
    data = {c: (list(frame[c]) if c in frame.columns else [None] * len(frame)) for c in columns}
    return [{c: _value(data[c][i]) for c in columns} for i in range(len(frame))]


def _text(value: Any) -> str | None:
    value = _value(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    value = _value(value)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _round(value: float) -> float:
    return round(float(value), DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass
class _Doc:
    doc_id: str
    order: int
    file: str
    group: str
    group_source: str
    year: int | None
    kind: str | None
    duplicate_of: str | None = None


@dataclass
class _Sec:
    section_id: str
    doc: _Doc
    theme: str
    themes: tuple[str, ...]
    text: str


def _group_documents(documents: Any, group_by: str) -> list[_Doc]:
    """Each document's group: its ``group_by`` value where known, else its file."""
    source_column = f"{group_by}_source"
    rows = _records(documents, ("doc_id", "file", "year", "kind", group_by, source_column))
    docs = []
    for order, row in enumerate(rows):
        did = _text(row["doc_id"])
        if did is None:
            continue
        file = _text(row["file"]) or did.split("#")[0]
        value = _text(row[group_by]) if group_by != _FILE else None
        if value is not None:
            group, source = value, _text(row[source_column]) or group_by
        else:
            group, source = file, _FILE
        docs.append(_Doc(did, order, file, group, source, _int(row["year"]), _text(row["kind"])))
    return docs


def _section_themes(tables: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Section id -> primary theme, and -> every theme in rank order (from ``section_themes``)."""
    ranked: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    rows = _records(tables.get("section_themes"), ("section_id", "theme", "rank", "is_primary"))
    for i, row in enumerate(rows):
        sid, theme = _text(row["section_id"]), _text(row["theme"])
        if sid is None or theme is None:
            continue
        rank = _int(row["rank"])
        if rank is None:
            rank = 1 if row["is_primary"] else 1_000_000
        ranked[sid].append((rank, i, theme))
    primary, themes = {}, {}
    for sid, items in ranked.items():
        ordered = [t for _, _, t in sorted(items)]
        primary[sid] = ordered[0]
        themes[sid] = tuple(dict.fromkeys(ordered))
    return primary, themes


def _sections(tables: dict[str, Any], docs: dict[str, _Doc]) -> list[_Sec]:
    """Sections of known documents, in table order, with their themes and own text."""
    primary, ranked = _section_themes(tables)
    rows = _records(tables.get("sections"), ("section_id", "doc_id", "title", "body", "primary_theme"))
    out = []
    for row in rows:
        sid, doc = _text(row["section_id"]), docs.get(_text(row["doc_id"]) or "")
        if sid is None or doc is None:
            continue
        # Same rule as the report's: section_themes first, then the sections table, else "other".
        theme = primary.get(sid) or _text(row["primary_theme"]) or _OTHER
        themes = ranked.get(sid) or (theme,)
        text = "\n".join(t for t in (_value(row["title"]), _value(row["body"])) if t)
        out.append(_Sec(sid, doc, theme, themes, str(text)))
    return out


# --- Public API -------------------------------------------------------------------


def compare(
    tables: dict[str, pd.DataFrame],
    *,
    group_by: str = "hospital",
    keywords: Iterable[str] | None = None,
) -> Comparison:
    """Compare the groups of a corpus: profiles, distinctive themes and terms, networks.

    Args:
        tables: the tidy tables of :func:`reportmine.build_tables` (missing or
            empty tables give empty results, never an error).
        group_by: the documents column naming a document's group (``hospital``,
            ``region`` …; ``file`` compares files). Where it is empty the group
            is the file; ``group_source`` takes the column's ``<name>_source``.
        keywords: the vocabulary of the keyword co-occurrence graph and extra
            words for the tokenizer (default: the shipped taxonomy's keywords).

    Returns:
        A :class:`Comparison`; every table is sorted, so the same tables give
        the same comparison.

    >>> analysis = reportmine.analyze()  # doctest: +SKIP
    >>> comparison = compare(analysis.tables)  # doctest: +SKIP
    >>> comparison.distinctive_themes.query("z > 2")  # doctest: +SKIP
    """
    import pandas as pd

    if keywords is None:
        from .themes import load_taxonomy

        keywords = load_taxonomy().keywords()
    keywords = list(keywords)
    doc_list = _group_documents(tables.get("documents"), group_by)
    docs = {d.doc_id: d for d in doc_list}
    all_sections = _sections(tables, docs)
    pairs = _find_near_duplicates(doc_list, all_sections)
    kept = [s for s in all_sections if s.doc.duplicate_of is None]
    kept_docs = {d.doc_id: d for d in doc_list if d.duplicate_of is None}

    from .segmentation import get_segmenter, normalize_term

    segmenter = get_segmenter(keywords)
    tokens = {s.section_id: segmenter.cut(s.text) for s in kept}
    mentions = _records(tables.get("mentions"), ("doc_id", "section_id", "line", "start", "type", "text", "value",
                                                 "unit", "name"))
    mentions = [m for m in mentions if _text(m["doc_id"]) in kept_docs]

    graphs = {
        "activity_group": _activity_graph(mentions, kept_docs),
        "keyword_cooccurrence": _keyword_graph(kept, tokens, {normalize_term(k) for k in keywords}),
        "theme_cooccurrence": _theme_graph(kept),
    }
    return Comparison(
        theme_profiles=_theme_profiles(kept),
        share_definition=SHARE_DEFINITION,
        distinctive_themes=_distinctive_themes(kept),
        distinctive_terms=_distinctive_terms(kept, tokens),
        similarity=_similarity(kept),
        plan_vs_summary=_plan_vs_summary(kept),
        quantities=_quantities(mentions, {s.section_id: s.theme for s in kept}),
        first_activities=_first_activities(mentions, kept_docs),
        near_duplicates=_frame("near_duplicates", pairs),
        documents=_documents_table(tables.get("documents"), docs, pd),
        graphs=graphs,
        centrality=centrality(graphs),
    )


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS[name]))
    for column in ("year", "first_year", "line"):
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    for column in ("group", "theme", "term", "group_a", "group_b", "type", "unit", "activity", "doc_id", "doc_a",
                   "doc_b", "graph", "node", "kind"):
        if column in frame.columns:
            frame[column] = frame[column].astype("string")
    return frame


def _documents_table(documents: Any, docs: dict[str, _Doc], pd: Any) -> pd.DataFrame:
    from .tables import SCHEMAS

    frame = documents.copy() if documents is not None else pd.DataFrame(columns=list(SCHEMAS["documents"]))
    by_row = {d.order: d for d in docs.values()}
    values = {"group": [], "group_source": [], "duplicate_of": []}
    for i in range(len(frame)):
        doc = by_row.get(i)
        values["group"].append(doc.group if doc else None)
        values["group_source"].append(doc.group_source if doc else None)
        values["duplicate_of"].append(doc.duplicate_of if doc else None)
    for column, column_values in values.items():
        frame[column] = pd.array(column_values, dtype="string")
    return frame.reset_index(drop=True)


# --- Near duplicates ------------------------------------------------------------------


def _normalised(text: str) -> str:
    """Text for shingling: NFKC, lower case, no spaces or punctuation, every number as 0.

    Numbers go so that a template filled with another hospital's figures still matches.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _PUNCT.sub("", text))


def _find_near_duplicates(docs: list[_Doc], sections: list[_Sec]) -> list[dict[str, Any]]:
    """Pairs of documents whose shingle sets have a Jaccard similarity >= :data:`DUPLICATE_JACCARD`.

    Sets each later document's ``duplicate_of`` to the earliest document (in
    table order) it copies that is not itself a copy, and returns the pairs
    (``doc_a`` the earlier) in table order.
    """
    texts: dict[str, list[str]] = defaultdict(list)
    for s in sections:
        texts[s.doc.doc_id].append(s.text)
    shingles = []
    for d in docs:
        text = _normalised("\n".join(texts.get(d.doc_id, [])))
        grams = {text[i:i + SHINGLE_CHARS] for i in range(len(text) - SHINGLE_CHARS + 1)}
        shingles.append(grams if len(grams) >= MIN_SHINGLES else set())
    candidates = [i for i, grams in enumerate(shingles) if grams]
    if len(candidates) < 2:
        return []
    from sklearn.feature_extraction.text import CountVectorizer

    # Sparse binary shingle matrix: X·Xᵀ gives every pair's intersection at once,
    # instead of comparing sets pair by pair (quadratic in documents times text length).
    vectorizer = CountVectorizer(analyzer=lambda grams: sorted(grams), binary=True)
    matrix = vectorizer.fit_transform([shingles[i] for i in candidates])
    sizes = [len(shingles[i]) for i in candidates]
    overlap = (matrix @ matrix.T).tocoo()
    pairs = []
    for a, b, shared in zip(overlap.row.tolist(), overlap.col.tolist(), overlap.data.tolist(), strict=True):
        if a >= b:
            continue
        jaccard = shared / (sizes[a] + sizes[b] - shared)
        if jaccard >= DUPLICATE_JACCARD:
            pairs.append((candidates[a], candidates[b], jaccard))
    pairs.sort()
    for i, j, _ in pairs:
        doc, original = docs[j], docs[i]
        if doc.duplicate_of is None:
            doc.duplicate_of = original.duplicate_of or original.doc_id
    return [{"doc_a": docs[i].doc_id, "doc_b": docs[j].doc_id, "similarity": _round(s),
             "group_a": docs[i].group, "group_b": docs[j].group} for i, j, s in pairs]


# --- Profiles ------------------------------------------------------------------------


def _year_key(year: int | None) -> tuple[bool, int]:
    return (year is None, year or 0)


def _theme_profiles(sections: list[_Sec]) -> pd.DataFrame:
    sections_n: Counter = Counter()
    chars: Counter = Counter()
    doc_sets: dict[tuple, set[str]] = defaultdict(set)
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0, set()])
    for s in sections:
        cell = (s.doc.group, s.doc.year)
        key = (*cell, s.theme)
        size = len(s.text.replace("\n", ""))
        sections_n[key] += 1
        chars[key] += size
        doc_sets[key].add(s.doc.doc_id)
        totals[cell][0] += 1
        totals[cell][1] += size
        totals[cell][2].add(s.doc.doc_id)
    rows = []
    for key in sorted(sections_n, key=lambda k: (k[0], _year_key(k[1]), k[2])):
        n_sections, n_chars, n_docs = totals[key[:2]]
        rows.append({
            "group": key[0], "year": key[1], "theme": key[2], "sections": sections_n[key], "chars": chars[key],
            "documents": len(doc_sets[key]),
            "share_sections": _round(sections_n[key] / n_sections),
            "share_chars": _round(chars[key] / n_chars) if n_chars else 0.0,
            "share_documents": _round(len(doc_sets[key]) / len(n_docs)),
        })
    return _frame("theme_profiles", rows)


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
            group_rows.append({"group": group, "item": w, "count": y_i, "log_odds": _round(delta), "z": _round(z)})
        group_rows.sort(key=lambda r: (-r["z"], r["item"]))
        rows.extend(group_rows)
    return rows


def _distinctive_themes(sections: list[_Sec]) -> pd.DataFrame:
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in sections:
        counts[s.doc.group][s.theme] += 1
    rows = [{"group": r["group"], "theme": r["item"], "count": r["count"], "log_odds": r["log_odds"], "z": r["z"]}
            for r in log_odds_dirichlet(counts)]
    return _frame("distinctive_themes", rows)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Generic report words (``data/stopwords.txt``) that distinctive terms leave out."""
    text = resources.files("reportmine.data").joinpath("stopwords.txt").read_text("utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.split("#", 1)[0].strip()))


def _is_term(token: str) -> bool:
    return (len(token) >= MIN_TERM_CHARS and bool(_TERM.search(token)) and not _DIGITS.search(token)
            and token not in stopwords())


def _distinctive_terms(sections: list[_Sec], tokens: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in sections:
        counts[s.doc.group].update(t for t in tokens[s.section_id] if _is_term(t))
    rows = [{"group": r["group"], "term": r["item"], "count": r["count"], "log_odds": r["log_odds"], "z": r["z"]}
            for r in log_odds_dirichlet(counts, all_items=False)]
    return _frame("distinctive_terms", rows)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two sparse vectors (0.0 when either is all zeros).

    >>> cosine({"x": 1, "y": 1}, {"x": 1})
    0.707107
    """
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return _round(dot / norm) if norm else 0.0


def _similarity(sections: list[_Sec]) -> pd.DataFrame:
    profiles: dict[str, Counter] = defaultdict(Counter)
    for s in sections:
        profiles[s.doc.group][s.theme] += 1
    groups = sorted(profiles)
    rows = [{"group_a": a, "group_b": b, "cosine": cosine(profiles[a], profiles[b])}
            for a in groups for b in groups if a != b]
    return _frame("similarity", rows)


def _plan_vs_summary(sections: list[_Sec]) -> pd.DataFrame:
    counts = {"plan": Counter(s.theme for s in sections if s.doc.kind == "plan"),
              "summary": Counter(s.theme for s in sections if s.doc.kind == "summary")}
    totals = {kind: sum(c.values()) for kind, c in counts.items()}
    rows = []
    for theme in sorted(set(counts["plan"]) | set(counts["summary"])):
        share = {kind: (counts[kind][theme] / totals[kind] if totals[kind] else None) for kind in counts}
        both = share["plan"] is not None and share["summary"] is not None
        rows.append({
            "theme": theme, "plan_sections": counts["plan"][theme], "summary_sections": counts["summary"][theme],
            "plan_share": None if share["plan"] is None else _round(share["plan"]),
            "summary_share": None if share["summary"] is None else _round(share["summary"]),
            "difference": _round(share["plan"] - share["summary"]) if both else None,
        })
    frame = _frame("plan_vs_summary", rows)
    for column in ("plan_share", "summary_share", "difference"):
        frame[column] = frame[column].astype("Float64")
    return frame


def _quantities(mentions: list[dict[str, Any]], theme_of: dict[str, str]) -> pd.DataFrame:
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for m in mentions:
        kind, theme = _text(m["type"]), theme_of.get(_text(m["section_id"]) or "")
        value = _value(m["value"])
        if kind not in QUANTITY_TYPES or theme is None or value is None:
            continue
        values[(theme, kind, _text(m["unit"]) or "")].append(float(value))
    rows = []
    for key in sorted(values):
        v = sorted(values[key])
        middle = len(v) // 2
        median = v[middle] if len(v) % 2 else (v[middle - 1] + v[middle]) / 2
        rows.append({"theme": key[0], "type": key[1], "unit": key[2], "mentions": len(v), "total": _round(sum(v)),
                     "median": _round(median), "min": _round(v[0]), "max": _round(v[-1])})
    return _frame("quantities", rows)


def _activity_name(mention: dict[str, Any]) -> str | None:
    if _text(mention["type"]) != "activity":
        return None
    return _text(mention["name"]) or _text(mention["text"])


def _first_activities(mentions: list[dict[str, Any]], docs: dict[str, _Doc]) -> pd.DataFrame:
    seen: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for m in mentions:
        name, doc = _activity_name(m), docs.get(_text(m["doc_id"]) or "")
        if name is None or doc is None:
            continue
        # Earliest: the first year stated, then table order, then position in the file.
        seen[(doc.group, name)].append((_year_key(doc.year), doc.order, _int(m["start"]) or 0, doc, _int(m["line"])))
    rows = []
    for group, name in seen:
        hits = sorted(seen[(group, name)], key=lambda h: h[:3])
        _, _, _, doc, line = hits[0]
        rows.append({"group": group, "activity": name, "first_year": doc.year, "doc_id": doc.doc_id, "line": line,
                     "documents": len({h[3].doc_id for h in hits})})
    rows.sort(key=lambda r: (r["group"], _year_key(r["first_year"]), r["activity"]))
    return _frame("first_activities", rows)


# --- Networks -------------------------------------------------------------------------


def _theme_graph(sections: list[_Sec]) -> Any:
    """Themes linked when they are themes (any rank) of the same document.

    Edge ``weight``: documents holding both; ``sections``: sections holding
    both. Node ``sections``: sections with the theme as primary.
    """
    import networkx as nx

    doc_themes: dict[str, set[str]] = defaultdict(set)
    primary = Counter(s.theme for s in sections)
    in_sections: Counter = Counter()
    for s in sections:
        doc_themes[s.doc.doc_id].update(s.themes)
        for pair in combinations(sorted(set(s.themes)), 2):
            in_sections[pair] += 1
    in_docs: Counter = Counter()
    for themes in doc_themes.values():
        for pair in combinations(sorted(themes), 2):
            in_docs[pair] += 1
    graph = nx.Graph()
    for theme in sorted(set().union(*doc_themes.values()) if doc_themes else ()):
        graph.add_node(theme, kind="theme", sections=primary.get(theme, 0))
    for (a, b), n in sorted(in_docs.items()):
        graph.add_edge(a, b, weight=n, sections=in_sections.get((a, b), 0))
    return graph


def _activity_graph(mentions: list[dict[str, Any]], docs: dict[str, _Doc]) -> Any:
    """Bipartite groups (``bipartite=0``) and activities (``bipartite=1``).

    Edge ``weight``: the group's mentions of the activity; ``documents``: its documents mentioning it.
    """
    import networkx as nx

    mentions_n: Counter = Counter()
    doc_sets: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in mentions:
        name, doc = _activity_name(m), docs.get(_text(m["doc_id"]) or "")
        if name is None or doc is None:
            continue
        mentions_n[(doc.group, name)] += 1
        doc_sets[(doc.group, name)].add(doc.doc_id)
    groups = sorted({g for g, _ in mentions_n})
    # An activity named like a group would merge with it: keep them apart.
    node = {a: (f"{a} (activity)" if a in groups else a) for _, a in mentions_n}
    graph = nx.Graph()
    for g in groups:
        graph.add_node(g, kind="group", bipartite=0)
    for a in sorted(node.values()):
        graph.add_node(a, kind="activity", bipartite=1)
    for (g, a), n in sorted(mentions_n.items()):
        graph.add_edge(g, node[a], weight=n, documents=len(doc_sets[(g, a)]))
    return graph


def _keyword_graph(sections: list[_Sec], tokens: dict[str, tuple[str, ...]], vocabulary: set[str]) -> Any:
    """The :data:`TOP_KEYWORDS` taxonomy keywords in most sections, linked when in the same section.

    Edge ``weight`` and node ``sections``: sections holding both (the keyword).
    """
    import networkx as nx

    found = [sorted({t for t in tokens[s.section_id] if t in vocabulary}) for s in sections]
    frequency = Counter(k for keys in found for k in keys)
    # A keyword of one section links to nothing in general: at least two.
    ranked = sorted((k for k, n in frequency.items() if n >= 2), key=lambda k: (-frequency[k], k))
    top = set(ranked[:TOP_KEYWORDS])
    pairs: Counter = Counter()
    for keys in found:
        pairs.update(combinations([k for k in keys if k in top], 2))
    graph = nx.Graph()
    for k in sorted(top):
        graph.add_node(k, kind="keyword", sections=frequency[k])
    for (a, b), n in sorted(pairs.items()):
        graph.add_edge(a, b, weight=n)
    return graph


def _eigenvector(graph: Any) -> dict[Any, float]:
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
            scores.update(nx.eigenvector_centrality(component, max_iter=1000, tol=1e-9, weight="weight"))
        except (nx.PowerIterationFailedConvergence, nx.NetworkXException, ZeroDivisionError):
            continue
    return scores


def centrality(graphs: dict[str, Any]) -> pd.DataFrame:
    """Long table ``graph, node, kind, degree, weighted_degree, betweenness, eigenvector`` of every graph.

    Betweenness is unweighted (edge weights are counts, not distances) and
    normalised; eigenvector centrality uses the weights and is computed per
    connected component (see :func:`_eigenvector`).

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
        between = nx.betweenness_centrality(graph)
        eigen = _eigenvector(graph)
        for node in sorted(graph.nodes, key=str):
            data = graph.nodes[node]
            kind = data.get("kind")
            if kind is None and "bipartite" in data:
                kind = "group" if data["bipartite"] == 0 else "activity"
            rows.append({"graph": name, "node": str(node), "kind": kind, "degree": graph.degree(node),
                         "weighted_degree": _round(graph.degree(node, weight="weight")),
                         "betweenness": _round(between[node]), "eigenvector": _round(eigen[node])})
    return _frame("centrality", rows)


# --- Export ---------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    """An attribute value GraphML and GEXF can hold: bool, int, float or str, never None."""
    value = _value(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _exportable(graph: Any) -> Any:
    import networkx as nx

    out = nx.Graph()
    for node in sorted(graph.nodes, key=str):
        out.add_node(str(node), **{str(k): _safe(v) for k, v in sorted(graph.nodes[node].items())})
    edges = sorted(((str(u), str(v), d) for u, v, d in graph.edges(data=True)), key=lambda e: (min(e[:2]), max(e[:2])))
    for u, v, data in edges:
        a, b = sorted((u, v))
        out.add_edge(a, b, **{str(k): _safe(x) for k, x in sorted(data.items())})
    return out


def export_graphs(graphs: dict[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each graph as ``OUT/<name>.gexf`` (Gephi) and ``OUT/<name>.graphml``.

    Each file is written under a temporary name and renamed into place. Node
    ids become strings and attribute values bool/int/float/str (None becomes
    ""), so both formats load back; GEXF's modification date is left out so
    the same graph gives the same bytes.

    Returns:
        The paths written, in name order.

    >>> export_graphs(comparison.graphs, "reportmine-out/graphs")  # doctest: +SKIP
    [PosixPath('reportmine-out/graphs/activity_group.gexf'), ...]
    """
    import networkx as nx
    from networkx.readwrite.gexf import GEXFWriter

    from .tables import _atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(graphs):
        if graphs[name] is None:
            continue
        graph = _exportable(graphs[name])
        target = out / f"{name}.gexf"
        tmp = _atomic_path(target)
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
        tmp = _atomic_path(target)
        try:
            nx.write_graphml(graph, str(tmp), encoding="utf-8")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written
