"""What every part of the comparison shares: the result tables' shape, rounding, and the documents counted.

:class:`Comparison` holds the tables and graphs; :func:`result_frame` builds
each table with the columns of :data:`COLUMNS`; :func:`rounded` fixes every
computed float to :data:`DIGITS` digits, so the same tables give the same
bytes. :data:`MENTIONS_SQL` is the mentions of counted documents, over the
DuckDB tables ``docs`` and ``mentions`` of :mod:`reportmine.compare.run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.query import clean_sql

if TYPE_CHECKING:
    import pandas as pd

#: Digits kept in computed floats: enough for any figure, few enough that the
#: last-bit noise of a different summation order never changes an output.
DIGITS = 6

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

#: How the shares of :attr:`Comparison.theme_profiles` are computed, as the comparison states it.
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
        distinctive_terms: the same for domain-dictionary terms of section
            text (``group, term, count, log_odds, z``), the :data:`~reportmine.compare.statistics.TOP_TERMS`
            highest z of each group.
        similarity: ``group_a, group_b, cosine`` of theme profiles: all pairs
            (a != b) up to :data:`~reportmine.compare.statistics.SIMILARITY_ALL_PAIRS` groups, else each
            group's :data:`~reportmine.compare.statistics.SIMILAR_GROUPS` most similar.
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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The comparison tables by name (:data:`COLUMNS` order), as
        :func:`~reportmine.compare.write_comparison` writes them."""
        out = {}
        for name in COLUMNS:
            frame = getattr(self, name)
            out[name] = frame if frame is not None else result_frame(name, [])
        return out


def result_frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Comparison table ``name`` of ``rows`` (dicts), with the columns of :data:`COLUMNS` and nullable dtypes."""
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


def rounded(value: float) -> float:
    """``value`` to :data:`DIGITS` digits, never -0.0: what every computed float of the comparison holds."""
    return round(float(value), DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass
class Doc:
    """A document as the comparison counts it: its id, row in the documents table, file key, group and marks."""

    doc_id: str
    order: int
    file: str
    group: str
    group_source: str
    year: int | None
    kind: str | None
    duplicate_of: str | None = None


def joined(title: Any, body: Any) -> str:
    """A section's own text: its title and body, a line apart (either may be missing)."""
    return "\n".join(t for t in (title, body) if t)


def id_table(ids: list[str]) -> Any:
    """An Arrow table of one text column ``doc_id``, to register in DuckDB as a list of ids."""
    import pyarrow as pa

    return pa.table({"doc_id": pa.array(ids, pa.string())})


#: Mentions of counted documents, with the document's group, year and table order.
MENTIONS_SQL = f"""
    (SELECT m.*, d.grp, d.ord, d.year FROM (
        SELECT {clean_sql('doc_id')} AS did, {clean_sql('section_id')} AS sid, line, start,
               {clean_sql('type')} AS type, value, {clean_sql('unit')} AS unit,
               coalesce({clean_sql('name')}, {clean_sql('text')}) AS activity
        FROM mentions) m
     JOIN docs d ON d.doc_id = m.did WHERE d.kept)"""
