"""Stage 9, compare: what health-policy papers publish about many hospitals.

In: the tidy tables of :mod:`reportmine.tables` (``documents``, ``sections``,
``mentions``, ``section_themes``), as DataFrames or as the Parquet files of an
output folder (:class:`~reportmine.tables.StoredTables`). Out: a
:class:`Comparison` of DataFrames and networkx graphs, :func:`export_graphs`
to write the graphs as GEXF and GraphML, and :func:`write_comparison` to write
the tables as CSV and Parquet.

The unit compared is the *group*: a document's hospital where it is known,
else its file (``group`` column, with ``group_source`` saying which), so that
a corpus without a manifest still compares its sources without pretending to
know hospitals it does not. A file is named by its key, its path below the
folder named (``hospitalA/2016.txt``), never by its bare name, so that two
folders' ``2016.txt`` stay two groups.

Near-duplicate documents (template text copied across sites, or one report
filed twice) are found first and left out of every count below, so that a
copied report does not count twice; the documents table marks them in
``duplicate_of``. Every output is sorted with stable tie-breaks, so the same
tables give the same comparison, byte for byte once written.

Memory does not grow with the sections: only the columns needed are read,
section rows are aggregated by DuckDB (which spills to disk past
:data:`DUCKDB_MEMORY`) or streamed in Arrow batches into per-group counters,
near duplicates are found by MinHash with banding, terms are counted over a
bounded vocabulary, and outputs per group are bounded (top terms, top similar
groups). What is kept per document is a few numbers and a MinHash signature.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
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
#: MinHash signature of a document: MINHASH_BANDS bands of MINHASH_ROWS hashes.
#: Two documents become candidates when one band agrees entirely, with
#: probability 1 - (1 - J^3)^42: 0.996 at the threshold J = 0.5, 0.29 at J = 0.2,
#: 0.04 at J = 0.1. Candidates are then checked on their exact shingle sets.
MINHASH_BANDS, MINHASH_ROWS = 42, 3
#: Candidates whose signatures agree on fewer than this share of hashes are not
#: checked: 0.15 below the threshold is 3.4 standard errors of a 126-hash estimate at J = 0.5.
CANDIDATE_JACCARD = DUPLICATE_JACCARD - 0.15
#: Keywords drawn in the keyword co-occurrence graph (most frequent first).
TOP_KEYWORDS = 40
#: Distinctive terms kept per group (highest z first): the report shows 10.
TOP_TERMS = 30
#: Up to this many groups, similarity lists every pair; past it, the
#: SIMILAR_GROUPS most similar groups of each group (a full matrix of 3,000 file
#: groups would be 9 million rows).
SIMILARITY_ALL_PAIRS = 300
SIMILAR_GROUPS = 10
#: Graphs with more nodes get betweenness estimated from this many seeded
#: source nodes (networkx's ``k``) instead of all of them: exact betweenness is
#: O(nodes × edges), minutes in Python on the activity graph of a few thousand groups.
BETWEENNESS_SAMPLE = 500
#: Betweenness is exact up to this many nodes (:func:`_betweenness`, in numpy:
#: under a second at this size with ten edges a node); larger graphs are sampled.
BETWEENNESS_EXACT = 2000
#: Shortest token counted as a term: single characters (的, 和, 年) are function words;
#: tokens with digits (2016, 20xx) are dates and figures, not vocabulary.
MIN_TERM_CHARS = 2
#: Mention types summed per theme.
QUANTITY_TYPES = ("quantity", "money", "percent")
#: Digits kept in computed floats: enough for any figure, few enough that the
#: last-bit noise of a different summation order never changes an output.
DIGITS = 6
#: DuckDB buffer pool for the aggregations; past it DuckDB spills to a temporary folder.
DUCKDB_MEMORY = "256MB"
#: Section rows per Arrow batch of the text passes.
BATCH_ROWS = 4096

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
        distinctive_terms: the same for domain-dictionary terms of section
            text (``group, term, count, log_odds, z``), the :data:`TOP_TERMS`
            highest z of each group.
        similarity: ``group_a, group_b, cosine`` of theme profiles: all pairs
            (a != b) up to :data:`SIMILARITY_ALL_PAIRS` groups, else each
            group's :data:`SIMILAR_GROUPS` most similar.
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
        """The comparison tables by name (:data:`COLUMNS` order), as :func:`write_comparison` writes them."""
        out = {}
        for name in COLUMNS:
            frame = getattr(self, name)
            out[name] = frame if frame is not None else _frame(name, [])
        return out


# --- Reading the tables ---------------------------------------------------------

#: Columns read from each input table, and their DuckDB types.
_INPUTS: dict[str, dict[str, str]] = {
    "sections": {"section_id": "VARCHAR", "doc_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT", "start": "BIGINT",
                 "outline": "VARCHAR", "title": "VARCHAR", "body": "VARCHAR", "primary_theme": "VARCHAR"},
    "section_themes": {"section_id": "VARCHAR", "theme": "VARCHAR", "rank": "BIGINT", "is_primary": "BOOLEAN"},
    "mentions": {"doc_id": "VARCHAR", "section_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT",
                 "start": "BIGINT", "type": "VARCHAR", "text": "VARCHAR", "value": "DOUBLE", "unit": "VARCHAR",
                 "name": "VARCHAR"},
}


def _stored_path(tables: Any, name: str) -> list[Path] | None:
    """The Parquet files ``tables[name]`` would be read from, in order, when ``tables`` is an output folder's and
    unchanged: ``OUT/<name>.parquet``, or the parts of a run whose flat files are still being written.

    Reading the files ourselves (only the columns needed, batch by batch) is
    what keeps a big table out of memory; a table assigned in memory is used as it is.
    """
    directory = getattr(tables, "directory", None)
    if directory is None or name in getattr(tables, "_frames", {}):
        return None
    parts_dir = getattr(tables, "parts_dir", None)
    if parts_dir is not None:
        return sorted((Path(parts_dir) / name).glob("part-*.parquet")) or None
    path = Path(directory) / f"{name}.parquet"
    return [path] if path.is_file() else None


def _parts_root(tables: Any) -> Path:
    """The folder holding the table parts of ``tables`` (the staging folder while a run finishes)."""
    from .tables import PARTS_DIR

    parts_dir = getattr(tables, "parts_dir", None)
    return Path(parts_dir) if parts_dir is not None else Path(tables.directory) / PARTS_DIR


def _arrow(frame: Any, columns: Iterable[str]) -> Any:
    """Columns of a DataFrame as an Arrow table; a column of mixed Python values becomes text."""
    import pyarrow as pa

    arrays, names = [], []
    for column in columns:
        values = frame[column]
        try:
            arrays.append(pa.array(values, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if _value(v) is None else str(v) for v in values], type=pa.string()))
        names.append(column)
    return pa.table(arrays, names=names) if names else pa.table({})


class _Source:
    """A DuckDB connection with one view per input table, of exactly the columns of :data:`_INPUTS`.

    A view reads an output folder's Parquet file, or an in-memory DataFrame,
    with missing tables and columns as NULL, so every query below sees one
    shape. The connection's buffer pool is :data:`DUCKDB_MEMORY`, spilling to
    a temporary folder removed by :meth:`close`.
    """

    def __init__(self, tables: Mapping[str, Any], *, features: bool = False) -> None:
        import duckdb

        self._spill = tempfile.mkdtemp(prefix="reportmine-compare-")
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        self.con.execute(f"SET temp_directory = '{self._spill}'")
        self.con.execute("SET preserve_insertion_order = true")  # text passes read in table order
        for name, columns in _INPUTS.items():
            self._view(tables, name, columns)
        # The workers' precomputed passes (features_signatures, features_words), for compare only.
        self.features = _stored_features(tables) if features else None
        if self.features is not None:
            for kind in ("signatures", "words"):
                files = ", ".join(f"'{_quote(str(p))}'" for p in getattr(self.features, kind))
                self.con.execute(
                    f"CREATE VIEW features_{kind} AS SELECT * FROM read_parquet([{files}], filename = true)")

    def _view(self, tables: Mapping[str, Any], name: str, columns: dict[str, str]) -> None:
        path = _stored_path(tables, name)
        present: set[str] = set()
        source = None
        if path is not None:
            import pyarrow.parquet as pq

            present = set(pq.read_schema(path[0]).names)  # every part has the table's schema
            source = "read_parquet([" + ", ".join(f"'{_quote(str(p))}'" for p in path) + "])"
        else:
            frame = tables.get(name) if tables else None
            present = set(frame.columns) & set(columns) if frame is not None else set()
            if present:
                self.con.register(f"_{name}_input", _arrow(frame, [c for c in columns if c in present]))
                source = f"_{name}_input"
        select = ", ".join(f'TRY_CAST("{c}" AS {t}) AS "{c}"' if c in present else f'NULL::{t} AS "{c}"'
                           for c, t in columns.items())
        where = "" if source else " WHERE false"
        self.con.execute(f'CREATE VIEW "{name}" AS SELECT {select} FROM {source or "(SELECT 1)"}{where}')

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def batches(self, sql: str) -> Iterator[dict[str, list[Any]]]:
        """Result rows of ``sql`` as column lists, :data:`BATCH_ROWS` at a time."""
        relation = self.con.sql(sql)
        # DuckDB 2 renamed fetch_record_batch (deprecated there) to to_arrow_reader.
        reader = (relation.to_arrow_reader(BATCH_ROWS) if hasattr(relation, "to_arrow_reader")
                  else relation.fetch_record_batch(BATCH_ROWS))
        for batch in reader:
            yield {name: batch.column(i).to_pylist() for i, name in enumerate(batch.schema.names)}

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)


def _quote(text: str) -> str:
    return text.replace("'", "''")


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


def _documents_frame(tables: Mapping[str, Any]) -> Any:
    """The documents table (one row per report: small beside the sections), read whole."""
    paths = _stored_path(tables, "documents")
    if paths is not None:
        import pandas as pd

        frames = [pd.read_parquet(p) for p in paths]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return tables.get("documents") if tables else None


def _group_documents(documents: Any, group_by: str) -> list[_Doc]:
    """Each document's group: its ``group_by`` value where known, else its file."""
    source_column = f"{group_by}_source"
    rows = _records(documents, ("doc_id", "file", "year", "kind", group_by, source_column))
    docs = []
    for order, row in enumerate(rows):
        did = _text(row["doc_id"])
        if did is None:
            continue
        # The file's key (its path below the folder named), so two folders' 2016.txt are two groups.
        file = _text(row["file"]) or did.rsplit("#", 1)[0]
        value = _text(row[group_by]) if group_by != _FILE else None
        if value is not None:
            group, source = value, _text(row[source_column]) or group_by
        else:
            group, source = file, _FILE
        docs.append(_Doc(did, order, file, group, source, _int(row["year"]), _text(row["kind"])))
    return docs


def _register_documents(source: _Source, docs: list[_Doc]) -> None:
    """The documents as DuckDB table ``docs``: id, table order, group, year, kind, and whether counted."""
    import pyarrow as pa

    # A doc_id listed twice keeps its first row, as a dict keyed by doc_id would.
    first: dict[str, _Doc] = {}
    for d in docs:
        first.setdefault(d.doc_id, d)
    rows = list(first.values())
    table = pa.table({
        "doc_id": pa.array([d.doc_id for d in rows], pa.string()),
        "ord": pa.array([d.order for d in rows], pa.int64()),
        "grp": pa.array([d.group for d in rows], pa.string()),
        "year": pa.array([d.year for d in rows], pa.int64()),
        "kind": pa.array([d.kind for d in rows], pa.string()),
        "kept": pa.array([d.duplicate_of is None for d in rows], pa.bool_()),
    })
    source.con.register("_docs_input", table)
    source.con.execute("CREATE OR REPLACE TABLE docs AS SELECT * FROM _docs_input")


def _register_sections(source: _Source) -> None:
    """DuckDB table ``sec``: the sections of counted documents, with group, year, kind, primary theme and characters."""
    # Kept sections with their effective primary theme: section_themes first (lowest rank, then theme),
    # then the sections table, else "other" — the report's rule too.
    source.con.execute("""
        CREATE OR REPLACE TABLE prim AS
        SELECT sid AS section_id, theme FROM (
            SELECT nullif(trim(section_id), '') AS sid, nullif(trim(theme), '') AS theme,
                   coalesce("rank", CASE WHEN is_primary THEN 1 ELSE 1000000 END) AS rk
            FROM section_themes)
        WHERE sid IS NOT NULL AND theme IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY sid ORDER BY rk, theme) = 1""")
    source.con.execute("""
        CREATE OR REPLACE TABLE sec AS
        SELECT s.sid AS section_id, d.doc_id, d.ord, d.grp, d.year, d.kind,
               coalesce(p.theme, nullif(trim(s.primary_theme), ''), 'other') AS theme,
               length(replace(coalesce(s.title, ''), chr(10), '')) + length(replace(coalesce(s.body, ''), chr(10), ''))
                   AS chars
        FROM (SELECT *, nullif(trim(section_id), '') AS sid, nullif(trim(doc_id), '') AS did FROM sections) s
        JOIN docs d ON d.doc_id = s.did
        LEFT JOIN prim p ON p.section_id = s.sid
        WHERE d.kept AND s.sid IS NOT NULL""")


# --- Public API -------------------------------------------------------------------


def compare(
    tables: Mapping[str, pd.DataFrame],
    *,
    group_by: str = "hospital",
    keywords: Iterable[str] | None = None,
) -> Comparison:
    """Compare the groups of a corpus: profiles, distinctive themes and terms, networks.

    Args:
        tables: the tidy tables of :func:`reportmine.build_tables`, or the
            :class:`~reportmine.tables.StoredTables` of an output folder (read
            column by column from its Parquet files, never whole). Missing or
            empty tables give empty results, never an error.
        group_by: the documents column naming a document's group (``hospital``,
            ``region`` …; ``file`` compares files). Where it is empty the group
            is the file; ``group_source`` takes the column's ``<name>_source``.
        keywords: the vocabulary of the keyword co-occurrence graph, added to
            the domain dictionary whose words are the distinctive terms'
            vocabulary (default: the shipped taxonomy's keywords).

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
    tables = tables if tables is not None else {}
    documents = _documents_frame(tables)
    doc_list = _group_documents(documents, group_by)
    docs = {}
    for d in doc_list:
        docs.setdefault(d.doc_id, d)
    source = _Source(tables, features=True)
    try:
        _register_documents(source, doc_list)
        pairs = _find_near_duplicates(source, doc_list)
        _register_documents(source, doc_list)   # again, with the copies marked
        _register_sections(source)
        kept_docs = {did: d for did, d in docs.items() if d.duplicate_of is None}
        terms, keyword_graph = _count_terms(source, kept_docs, keywords)
        group_theme = _group_theme_counts(source)
        graphs = {
            "activity_group": _activity_graph(source),
            "keyword_cooccurrence": keyword_graph,
            "theme_cooccurrence": _theme_graph(source),
        }
        comparison = Comparison(
            theme_profiles=_theme_profiles(source),
            share_definition=SHARE_DEFINITION,
            distinctive_themes=_distinctive_themes(group_theme),
            distinctive_terms=_distinctive_terms(terms),
            similarity=_similarity(group_theme),
            plan_vs_summary=_plan_vs_summary(source),
            quantities=_quantities(source),
            first_activities=_first_activities(source),
            near_duplicates=_frame("near_duplicates", pairs),
            documents=_documents_table(documents, docs, pd),
            graphs=graphs,
        )
    finally:
        source.close()
    comparison.centrality = centrality(graphs)
    return comparison


def write_comparison(comparison: Comparison, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each comparison table as ``OUT/<name>.csv`` and ``OUT/<name>.parquet`` (:data:`COLUMNS` order).

    Each file is written under a temporary name and renamed into place; the
    same comparison gives the same bytes.

    Returns:
        The paths written, in name order.

    >>> write_comparison(analysis.comparison, "reportmine-out/comparison")  # doctest: +SKIP
    [PosixPath('reportmine-out/comparison/centrality.csv'), ...]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .safetext import CSV_LINE_END, spreadsheet_safe
    from .tables import _atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sorted(comparison.tables().items()):
        with _atomic(out / f"{name}.csv") as tmp:
            # Formula-like text is neutralised in CSV only (see safetext.spreadsheet_safe); Parquet keeps it raw.
            spreadsheet_safe(frame).to_csv(tmp, index=False, lineterminator=CSV_LINE_END, encoding="utf-8")
        written.append(out / f"{name}.csv")
        with _atomic(out / f"{name}.parquet") as tmp:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        written.append(out / f"{name}.parquet")
    return written


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


def _joined(title: Any, body: Any) -> str:
    return "\n".join(t for t in (title, body) if t)


_HASHES = MINHASH_BANDS * MINHASH_ROWS
_EMPTY = (1 << 32) - 1   # a signature entry no shingle reached


@lru_cache(maxsize=1)
def _hash_params() -> tuple[Any, Any]:
    """Fixed multipliers (odd) and offsets of the multiply-shift hash family: the same signatures on every run."""
    import numpy as np

    rng = np.random.default_rng(20240607)
    a = rng.integers(1, 2**63, size=_HASHES, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=_HASHES, dtype=np.uint64)
    return a[:, None], b[:, None]


#: Shingles hashed at once by :func:`_minhash_into`: its hash matrix, :data:`_HASHES` times this in uint64
#: (4 MB), stays in the CPU cache; 4096 took half the time of 32768 on a 10 MB corpus.
_MINHASH_CHUNK = 4096


def _minhash_into(signatures: Any, rows: list[int], normals: list[str]) -> None:
    """Lower ``signatures[rows[k]]`` to the MinHash of ``normals[k]``'s shingles, for every k (texts of a batch).

    The texts are hashed together, a few numpy calls per chunk rather than
    per text: a text's shingles are the windows of the joined texts that lie
    inside it, so every signature equals the one of the text alone.
    """
    import numpy as np

    counts = np.array([max(len(t) - SHINGLE_CHARS + 1, 0) for t in normals], dtype=np.int64)
    if not counts.any():
        return
    lengths = np.array([len(t) for t in normals], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    codes = np.frombuffer("".join(normals).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE_CHARS + 1
    shingle = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE_CHARS):  # polynomial hash of each shingle; uint64 arithmetic wraps, deterministically
        shingle = shingle * np.uint64(1_000_003) + codes[k:k + n]
    has = np.flatnonzero(counts)
    # Each text's windows, text after text: the windows crossing from one text into the next are left out.
    starts = np.repeat(offsets[has] - np.cumsum(np.r_[0, counts[has]])[:-1], counts[has])
    shingle = shingle[starts + np.arange(int(counts[has].sum()))]
    bounds = np.cumsum(np.r_[0, counts[has]])
    a, b = _hash_params()
    target = np.asarray(rows, dtype=np.int64)[has]
    first = 0
    while first < len(has):  # whole texts per chunk, so each text's minimum is taken in one piece
        last = max(int(np.searchsorted(bounds, bounds[first] + _MINHASH_CHUNK, side="right")) - 1, first + 1)
        last = min(last, len(has))
        piece = shingle[bounds[first]:bounds[last]]
        with np.errstate(over="ignore"):
            hashed = a * piece[None, :]
            hashed += b
        # The shift keeps the order (x <= y gives x >> 32 <= y >> 32), so it is taken of the minima alone.
        minima = np.minimum.reduceat(hashed, bounds[first:last] - bounds[first], axis=1) >> np.uint64(32)
        np.minimum.at(signatures, target[first:last], minima.T)
        first = last


def _find_near_duplicates(source: _Source, docs: list[_Doc]) -> list[dict[str, Any]]:
    """Pairs of documents whose shingle sets have a Jaccard similarity >= :data:`DUPLICATE_JACCARD`.

    One pass over the section text gives each document a MinHash signature
    (the minimum over its sections' shingles); documents agreeing on a whole
    band of it are candidates (locality-sensitive hashing: near-linear, not
    all pairs), those whose signatures agree on at least
    :data:`CANDIDATE_JACCARD` are checked on their exact shingle sets, read
    again for them alone. Sets each later document's ``duplicate_of`` to the
    earliest document (in table order) it copies that is not itself a copy,
    and returns the pairs (``doc_a`` the earlier) in table order.
    """
    import numpy as np

    index = {}
    for i, d in enumerate(docs):
        index.setdefault(d.doc_id, i)
    if len(index) < 2:
        return []
    signatures = np.full((len(docs), _HASHES), _EMPTY, dtype=np.uint64)
    chars = np.zeros(len(docs), dtype=np.int64)
    if source.features is not None:  # the workers' signatures of their partitions' documents
        query = ("SELECT nullif(trim(doc_id), '') AS did, chars, signature FROM features_signatures "
                 "WHERE nullif(trim(doc_id), '') IN (SELECT doc_id FROM docs)")
        for batch in source.batches(query):
            rows = np.asarray([index[did] for did in batch["did"]], dtype=np.int64)
            np.add.at(chars, rows, batch["chars"])
            np.minimum.at(signatures, rows, np.frombuffer(b"".join(batch["signature"]), dtype="<u8").reshape(
                len(rows), _HASHES))
    else:
        query = ("SELECT nullif(trim(doc_id), '') AS did, title, body FROM sections WHERE nullif(trim(section_id), "
                 "'') IS NOT NULL AND nullif(trim(doc_id), '') IN (SELECT doc_id FROM docs)")
        for batch in source.batches(query):
            rows = [index[did] for did in batch["did"]]
            normals = [_normalised(_joined(title, body))
                       for title, body in zip(batch["title"], batch["body"], strict=True)]
            np.add.at(chars, np.asarray(rows, dtype=np.int64), [len(normal) for normal in normals])
            _minhash_into(signatures, rows, normals)
    # A document needs MIN_SHINGLES distinct shingles, so at least this many characters.
    eligible = np.flatnonzero(chars >= MIN_SHINGLES + SHINGLE_CHARS - 1)
    candidates = _lsh_candidates(signatures, eligible)
    if not candidates:
        return []
    # Read the candidates' text once more, in table order, for their exact shingle sets.
    involved = sorted({i for pair in candidates for i in pair})
    texts: dict[int, list[tuple[bool, int, int, int, str]]] = defaultdict(list)
    source.con.register("_involved", _id_table([docs[i].doc_id for i in involved]))
    query = ("SELECT nullif(trim(doc_id), '') AS did, start, line, title, body FROM sections WHERE "
             "nullif(trim(section_id), '') IS NOT NULL AND nullif(trim(doc_id), '') IN (SELECT doc_id FROM _involved)")
    for batch in source.batches(query):
        for did, start, line, title, body in zip(batch["did"], batch["start"], batch["line"], batch["title"],
                                                 batch["body"], strict=True):
            texts[index[did]].append((start is None, start or 0, line or 0, len(texts[index[did]]),
                                      _joined(title, body)))
    # A join does not keep the table's order across row groups, and a big file's document spans several
    # (one per part of its partition): each document's sections are put back in text order.
    pairs = _exact_jaccard(sorted(candidates), {i: _normalised("\n".join(t[-1] for t in sorted(texts.get(i, []))))
                                                for i in involved})
    for i, j, _ in pairs:
        doc, original = docs[j], docs[i]
        if doc.duplicate_of is None:
            doc.duplicate_of = original.duplicate_of or original.doc_id
    return [{"doc_a": docs[i].doc_id, "doc_b": docs[j].doc_id, "similarity": _round(s),
             "group_a": docs[i].group, "group_b": docs[j].group} for i, j, s in pairs]


_SHINGLE_HASH_BASE = 1_000_003


def _exact_jaccard(candidates: list[tuple[int, int]], normals: dict[int, str]) -> list[tuple[int, int, float]]:
    """The pairs whose exact shingle sets have a Jaccard similarity >= :data:`DUPLICATE_JACCARD`, sorted.

    A document's shingles are the distinct windows of :data:`SHINGLE_CHARS`
    characters of its normalised text. In numpy: every distinct shingle gets
    an integer id (by a 64-bit hash of its characters, checked against the
    characters themselves, so two shingles never share an id), each document
    the sorted array of its ids, a pair the size of their intersection.
    Documents with fewer than :data:`MIN_SHINGLES` shingles pair with none.
    """
    import numpy as np

    docs = sorted(normals)
    texts = [normals[d] for d in docs]
    counts = np.array([max(len(t) - SHINGLE_CHARS + 1, 0) for t in texts], dtype=np.int64)
    if not candidates or not counts.any():
        return []
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(t) for t in texts])[:-1])).astype(np.int64)
    has = np.flatnonzero(counts)
    # Each document's windows, document after document (none crossing into the next).
    starts = np.repeat(offsets[has] - np.cumsum(np.r_[0, counts[has]])[:-1], counts[has]) + np.arange(counts.sum())
    windows = np.lib.stride_tricks.sliding_window_view(codes, SHINGLE_CHARS)[starts]
    hashed = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE_CHARS):
            hashed = hashed * np.uint64(_SHINGLE_HASH_BASE) + windows[:, k]
    # np.unique's hashing took seconds on millions of shingles; a sort takes a tenth of that.
    order = np.argsort(hashed, kind="stable")
    ranked = hashed[order]
    new_value = np.r_[True, ranked[1:] != ranked[:-1]]
    ids = np.empty(len(hashed), dtype=np.int64)
    ids[order] = np.cumsum(new_value) - 1
    first = order[new_value]
    if not (windows == windows[first[ids]]).all():  # a collision: ids by the characters themselves
        _, ids = np.unique(np.ascontiguousarray(windows).view(f"V{4 * SHINGLE_CHARS}").ravel(), return_inverse=True)
        ids = ids.ravel()
    # Each document's distinct ids, sorted: one sort of (document, id) keys, then cut by document.
    width = np.uint64(int(ids.max()) + 1)
    keys = np.sort(np.repeat(has.astype(np.uint64), counts[has]) * width + ids.astype(np.uint64))
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
    cuts = np.searchsorted(keys, np.arange(len(docs) + 1, dtype=np.uint64) * width)
    sets = [keys[cuts[k]:cuts[k + 1]] - np.uint64(k) * width for k in range(len(docs))]
    row_of = {d: k for k, d in enumerate(docs)}
    pairs = []
    for x, y in candidates:
        a, b = sets[row_of[x]], sets[row_of[y]]
        if len(a) < MIN_SHINGLES or len(b) < MIN_SHINGLES:
            continue
        common = len(np.intersect1d(a, b, assume_unique=True))
        jaccard = common / (len(a) + len(b) - common)  # |x ∪ y| without building the union
        if jaccard >= DUPLICATE_JACCARD:
            pairs.append((x, y, jaccard))
    return sorted(pairs)


def _id_table(ids: list[str]) -> Any:
    import pyarrow as pa

    return pa.table({"doc_id": pa.array(ids, pa.string())})


def _lsh_candidates(signatures: Any, eligible: Any) -> set[tuple[int, int]]:
    """Pairs (i < j) of eligible documents agreeing on a whole band, whose signatures agree on
    :data:`CANDIDATE_JACCARD` of their hashes or more."""
    import numpy as np

    if len(eligible) < 2:
        return set()
    found = []
    sig = signatures[eligible]
    for band in range(MINHASH_BANDS):
        rows = sig[:, band * MINHASH_ROWS:(band + 1) * MINHASH_ROWS]
        key = np.zeros(len(eligible), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for r in range(MINHASH_ROWS):
                key = key * np.uint64(0x9E3779B97F4A7C15) + rows[:, r]
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        ends = np.r_[starts[1:], len(ranked)]
        sizes = ends - starts
        # All buckets of one size at once: a matrix of their members, every pair of its columns.
        for size in np.unique(sizes[sizes > 1]).tolist():
            firsts = starts[sizes == size]
            members = np.sort(eligible[order[firsts[:, None] + np.arange(size)]], axis=1).astype(np.int64)
            a, b = np.triu_indices(size, 1)
            found.append((members[:, a] * len(signatures) + members[:, b]).ravel())
    if not found:
        return set()
    codes = np.sort(np.concatenate(found))
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]]
    if not len(codes):
        return set()
    first, second = codes // len(signatures), codes % len(signatures)
    checked: set[tuple[int, int]] = set()
    for at in range(0, len(codes), 100_000):   # agreement of the signatures, a chunk of pairs at a time
        a, b = first[at:at + 100_000], second[at:at + 100_000]
        agree = (signatures[a] == signatures[b]).mean(axis=1)
        keep = agree >= CANDIDATE_JACCARD
        checked.update(zip(a[keep].tolist(), b[keep].tolist(), strict=True))
    return checked


# --- Precomputed in the workers ----------------------------------------------------------
#
# The comparison's passes over the section text (MinHash signatures, vocabulary
# matches) would run once, serially, after every worker is done; they were most
# of its time on a large corpus. A streamed run (reportmine.pipeline.tabulate)
# has each worker compute them for its own partition instead, beside its table
# parts, and the comparison only combines them: the same numbers, in parallel.

#: Folder of ``OUT/tables`` holding the workers' precomputed parts (``signatures/``, ``words/``): not user tables.
FEATURES_DIR = "_compare"
#: What a signature part's numbers depend on besides the text: a part made otherwise is not used.
_SIGNATURE_RECIPE = f"minhash/{SHINGLE_CHARS}/{MINHASH_BANDS}x{MINHASH_ROWS}/20240607/v1"


def _vocabulary(keywords: Iterable[str]) -> list[str]:
    """The words counted in the text: the domain dictionary and ``keywords``, normalised, sorted."""
    from .segmentation import domain_words, normalize_term

    keywords = list(keywords)
    return sorted(set(domain_words(keywords)) | {normalize_term(k) for k in keywords if normalize_term(k)})


def _digest(vocabulary: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:16]


@lru_cache(maxsize=4)
def _automaton(vocabulary: tuple[str, ...]) -> Any:
    import ahocorasick_rs

    return ahocorasick_rs.AhoCorasick(list(vocabulary), matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)


#: Characters of section text :func:`write_features` hashes at once.
_FEATURE_BATCH_CHARS = 50_000


def write_features(sections: pd.DataFrame, parts_dir: str | os.PathLike[str], index: int | str,
                   keywords: Iterable[str]) -> None:
    """A partition's share of the comparison's text passes, as ``<parts_dir>/_compare/<kind>/part-<index>.parquet``.

    ``signatures``: per document (raw ``doc_id``), the characters and the
    MinHash signature of its sections' shingles (the minimum over sections, so
    documents split over partitions combine). ``words``: per section row
    (``row`` within the partition), each vocabulary word found and its count.
    Both are what :func:`compare` would compute from the same rows; it uses
    them only when the vocabulary's digest and the signature recipe match.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .segmentation import normalize
    from .tables import _atomic, part_name

    vocabulary = _vocabulary(keywords)
    ids = pa.array(sections["section_id"], pa.string()).to_pylist()
    doc_ids = pa.array(sections["doc_id"], pa.string()).to_pylist()
    titles = pa.array(sections["title"], pa.string()).to_pylist()
    bodies = pa.array(sections["body"], pa.string()).to_pylist()
    # As the comparison's SQL has it: sections with an id and a document only.
    usable = [k for k in range(len(ids)) if (ids[k] or "").strip() and (doc_ids[k] or "").strip()]
    order = list(dict.fromkeys(doc_ids[k] for k in usable))
    position = {did: i for i, did in enumerate(order)}
    signatures = np.full((len(order), _HASHES), _EMPTY, dtype=np.uint64)
    chars = np.zeros(len(order), dtype=np.int64)
    rows = [position[doc_ids[k]] for k in usable]
    # Both passes start with NFKC: done once here, it is a quick check (no work) in each of them.
    texts = [unicodedata.normalize("NFKC", _joined(titles[k], bodies[k])) for k in range(len(ids))]
    normals = [_normalised(texts[k]) for k in usable]
    if usable:
        np.add.at(chars, np.asarray(rows, dtype=np.int64), [len(n) for n in normals])
        # A batch of texts at a time: hashing takes about 50 bytes per character. Minima: any batching, same result.
        first = 0
        while first < len(normals):
            last, size = first + 1, len(normals[first])
            while last < len(normals) and size + len(normals[last]) <= _FEATURE_BATCH_CHARS:
                size += len(normals[last])
                last += 1
            _minhash_into(signatures, rows[first:last], normals[first:last])
            first = last
    signature_table = pa.table({
        "doc_id": pa.array(order, pa.string()),
        "chars": pa.array(chars, pa.int64()),
        "signature": pa.array([row.astype("<u8").tobytes() for row in signatures], pa.binary()),
    }).replace_schema_metadata({"recipe": _SIGNATURE_RECIPE})
    word_rows: dict[str, list[Any]] = {"section_id": [], "row": [], "word": [], "n": []}
    if vocabulary:
        automaton = _automaton(tuple(vocabulary))
        for k in range(len(ids)):
            found = automaton.find_matches_as_strings(normalize(texts[k]))
            for word, n in Counter(found).items():
                word_rows["section_id"].append(ids[k])
                word_rows["row"].append(k)
                word_rows["word"].append(word)
                word_rows["n"].append(n)
    word_table = pa.table({
        "section_id": pa.array(word_rows["section_id"], pa.string()),
        "row": pa.array(word_rows["row"], pa.int64()),
        "word": pa.array(word_rows["word"], pa.string()),
        "n": pa.array(word_rows["n"], pa.int64()),
    }).replace_schema_metadata({"vocabulary": _digest(vocabulary)})
    for kind, table in (("signatures", signature_table), ("words", word_table)):
        folder = Path(parts_dir) / FEATURES_DIR / kind
        folder.mkdir(parents=True, exist_ok=True)
        # Named as the sections part they come from (``index``: a partition's, or a part name of it).
        with _atomic(folder / f"{part_name(index) if isinstance(index, int) else index}.parquet") as tmp:
            pq.write_table(table, tmp)


@dataclass(frozen=True)
class _Features:
    """The workers' parts for a stored run: one of each kind per sections part, all of one vocabulary."""

    signatures: list[Path]
    words: list[Path]
    vocabulary: str


def _stored_features(tables: Any) -> _Features | None:
    """The precomputed parts beside an output folder's unchanged sections table, if complete and current."""
    import pyarrow.parquet as pq

    if _stored_path(tables, "sections") is None:
        return None
    root = _parts_root(tables)
    section_parts = sorted(p.name for p in (root / "sections").glob("part-*.parquet"))
    kinds = {kind: sorted((root / FEATURES_DIR / kind).glob("part-*.parquet")) for kind in ("signatures", "words")}
    if not section_parts or any([p.name for p in paths] != section_parts for paths in kinds.values()):
        return None  # written by an older version, or not by a streamed run
    try:
        recipes = {(pq.read_schema(p).metadata or {}).get(b"recipe") for p in kinds["signatures"]}
        digests = {(pq.read_schema(p).metadata or {}).get(b"vocabulary") for p in kinds["words"]}
    except OSError:
        return None
    if recipes != {_SIGNATURE_RECIPE.encode()} or len(digests) != 1 or None in digests:
        return None
    return _Features(kinds["signatures"], kinds["words"], digests.pop().decode())


def _count_terms_precomputed(source: _Source, terms: frozenset[str]) -> dict[str, Counter]:
    counts: dict[str, Counter] = defaultdict(Counter)
    query = ("SELECT s.grp, w.word, sum(w.n) FROM sec s JOIN features_words w "
             "ON nullif(trim(w.section_id), '') = s.section_id GROUP BY ALL")
    for group, word, n in source.rows(query):
        if word in terms:
            counts[group][word] += int(n)
    return counts


def _cooccurrence_precomputed(source: _Source, keyword_set: list[str]) -> Any:
    """Sections (joined rows, as :func:`_count_terms` counts them) holding each pair of keywords."""
    import numpy as np

    cooccur = np.zeros((len(keyword_set), len(keyword_set)), dtype=np.int64)
    if not keyword_set:
        return cooccur
    keyword_index = {k: i for i, k in enumerate(keyword_set)}
    source.con.register("_keywords", _id_table(keyword_set).rename_columns(["word"]))
    query = """
        WITH present AS (
            SELECT s.rowid AS sec_row, w.filename, w.row, w.word
            FROM sec s JOIN features_words w ON nullif(trim(w.section_id), '') = s.section_id
            WHERE w.word IN (SELECT word FROM _keywords))
        SELECT a.word, b.word, count(*) FROM present a JOIN present b
            ON a.sec_row = b.sec_row AND a.filename = b.filename AND a.row = b.row GROUP BY ALL"""
    for a, b, n in source.rows(query):
        cooccur[keyword_index[a], keyword_index[b]] = int(n)
    return cooccur


# --- Profiles ------------------------------------------------------------------------


def _year_key(year: int | None) -> tuple[bool, int]:
    return (year is None, year or 0)


def _theme_profiles(source: _Source) -> pd.DataFrame:
    cells = source.rows("SELECT grp, year, theme, count(*), sum(chars), count(DISTINCT doc_id) FROM sec GROUP BY ALL")
    totals = {(g, y): (n, c, d) for g, y, n, c, d in source.rows(
        "SELECT grp, year, count(*), sum(chars), count(DISTINCT doc_id) FROM sec GROUP BY ALL")}
    rows = []
    for g, y, t, n, c, d in sorted(cells, key=lambda k: (k[0], _year_key(k[1]), k[2])):
        n_sections, n_chars, n_docs = totals[(g, y)]
        rows.append({
            "group": g, "year": y, "theme": t, "sections": int(n), "chars": int(c), "documents": int(d),
            "share_sections": _round(n / n_sections),
            "share_chars": _round(c / n_chars) if n_chars else 0.0,
            "share_documents": _round(d / n_docs),
        })
    return _frame("theme_profiles", rows)


def _group_theme_counts(source: _Source) -> dict[str, Counter]:
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
            group_rows.append({"group": group, "item": w, "count": y_i, "log_odds": _round(delta), "z": _round(z)})
        group_rows.sort(key=lambda r: (-r["z"], r["item"]))
        rows.extend(group_rows)
    return rows



def _distinctive_themes(counts: dict[str, Counter]) -> pd.DataFrame:
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


def _count_terms(source: _Source, docs: dict[str, _Doc], keywords: list[str]) -> tuple[dict[str, Counter], Any]:
    """Per-group counts of domain-dictionary terms, and the keyword co-occurrence graph, in one pass over the text.

    The vocabulary is bounded: the words of the domain dictionary
    (:func:`reportmine.segmentation.domain_words`, which holds every taxonomy
    keyword) and ``keywords``. Each section's normalised text is matched
    leftmost-longest without overlaps, as a dictionary segmenter would cut
    those words, by an Aho-Corasick automaton (linear in the text, whatever
    the vocabulary's size), instead of segmenting every section with jieba
    again: the per-file stages already did that, and it was most of the
    comparison's time on a large corpus.
    """
    import ahocorasick_rs
    import numpy as np
    from scipy import sparse

    from .segmentation import normalize, normalize_term

    vocabulary = _vocabulary(keywords)
    keyword_set = sorted({normalize_term(k) for k in keywords} & set(vocabulary))
    keyword_index = {k: i for i, k in enumerate(keyword_set)}
    terms = frozenset(w for w in vocabulary if _is_term(w))
    counts: dict[str, Counter] = defaultdict(Counter)
    cooccur = np.zeros((len(keyword_set), len(keyword_set)), dtype=np.int64)
    if not vocabulary:
        return counts, _keyword_graph(keyword_set, cooccur)
    if source.features is not None and source.features.vocabulary == _digest(vocabulary):
        counts = _count_terms_precomputed(source, terms)
        return counts, _keyword_graph(keyword_set, _cooccurrence_precomputed(source, keyword_set))
    automaton = ahocorasick_rs.AhoCorasick(vocabulary, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    query = "SELECT s.grp, t.title, t.body FROM sec s JOIN sections t ON nullif(trim(t.section_id), '') = s.section_id"
    for batch in source.batches(query):
        rows, cols = [], []
        for k, (group, title, body) in enumerate(zip(batch["grp"], batch["title"], batch["body"], strict=True)):
            found = automaton.find_matches_as_strings(normalize(_joined(title, body)))
            if not found:
                continue
            counts[group].update(t for t in found if t in terms)
            for word in set(found):
                if word in keyword_index:
                    rows.append(k)
                    cols.append(keyword_index[word])
        if rows:
            # Sections × keywords incidence: XᵀX counts the sections holding each pair (diagonal: each keyword).
            x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                                  shape=(len(batch["grp"]), len(keyword_set)))
            cooccur += (x.T @ x).toarray()
    return counts, _keyword_graph(keyword_set, cooccur)


def _distinctive_terms(counts: dict[str, Counter]) -> pd.DataFrame:
    rows = []
    per_group: Counter = Counter()
    for r in log_odds_dirichlet(counts, all_items=False):   # by group, then z descending
        if per_group[r["group"]] < TOP_TERMS:
            per_group[r["group"]] += 1
            rows.append({"group": r["group"], "term": r["item"], "count": r["count"], "log_odds": r["log_odds"],
                         "z": r["z"]})
    return _frame("distinctive_terms", rows)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two sparse vectors (0.0 when either is all zeros).

    >>> cosine({"x": 1, "y": 1}, {"x": 1})
    0.707107
    """
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return _round(dot / norm) if norm else 0.0


def _similarity(profiles: dict[str, Counter]) -> pd.DataFrame:
    """Cosine of theme profiles: every pair up to :data:`SIMILARITY_ALL_PAIRS` groups, else each group's
    :data:`SIMILAR_GROUPS` nearest, computed a block of rows at a time."""
    import numpy as np

    groups = sorted(profiles)
    themes = sorted({t for c in profiles.values() for t in c})
    if len(groups) < 2:
        return _frame("similarity", [])
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
    return _frame("similarity", rows)


def _plan_vs_summary(source: _Source) -> pd.DataFrame:
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
            "plan_share": None if share["plan"] is None else _round(share["plan"]),
            "summary_share": None if share["summary"] is None else _round(share["summary"]),
            "difference": _round(share["plan"] - share["summary"]) if both else None,
        })
    frame = _frame("plan_vs_summary", rows)
    for column in ("plan_share", "summary_share", "difference"):
        frame[column] = frame[column].astype("Float64")
    return frame


#: Mentions of counted documents, with the document's group, year and table order.
_MENTIONS = """
    (SELECT m.*, d.grp, d.ord, d.year FROM (
        SELECT nullif(trim(doc_id), '') AS did, nullif(trim(section_id), '') AS sid, line, start,
               nullif(trim(type), '') AS type, value, nullif(trim(unit), '') AS unit,
               coalesce(nullif(trim(name), ''), nullif(trim(text), '')) AS activity
        FROM mentions) m
     JOIN docs d ON d.doc_id = m.did WHERE d.kept)"""


def _quantities(source: _Source) -> pd.DataFrame:
    # fsum: an exact sum, so that the order DuckDB's threads add in never shows.
    types = ", ".join(f"'{t}'" for t in QUANTITY_TYPES)
    found = source.rows(f"""
        SELECT s.theme, m.type, coalesce(m.unit, ''), count(*), fsum(m.value), median(m.value), min(m.value),
               max(m.value)
        FROM {_MENTIONS} m JOIN sec s ON s.section_id = m.sid
        WHERE m.type IN ({types}) AND m.value IS NOT NULL AND NOT isnan(m.value)
        GROUP BY ALL""")
    rows = [{"theme": t, "type": k, "unit": u, "mentions": int(n), "total": _round(total), "median": _round(median),
             "min": _round(low), "max": _round(high)} for t, k, u, n, total, median, low, high in sorted(found)]
    return _frame("quantities", rows)


def _first_activities(source: _Source) -> pd.DataFrame:
    # Earliest: the first year stated, then table order, then position in the file.
    found = source.rows(f"""
        WITH a AS (SELECT * FROM {_MENTIONS} WHERE type = 'activity' AND activity IS NOT NULL),
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
    return _frame("first_activities", rows)


# --- Networks -------------------------------------------------------------------------


def _theme_graph(source: _Source) -> Any:
    """Themes linked when they are themes (any rank) of the same document.

    Edge ``weight``: documents holding both; ``sections``: sections holding
    both. Node ``sections``: sections with the theme as primary.
    """
    import networkx as nx

    # Each counted section's themes: its section_themes rows, else its primary theme.
    source.con.execute("""
        CREATE OR REPLACE TABLE sth AS
        SELECT DISTINCT s.section_id, s.doc_id, t.theme FROM sec s
        JOIN (SELECT nullif(trim(section_id), '') AS sid, nullif(trim(theme), '') AS theme FROM section_themes) t
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


def _activity_graph(source: _Source) -> Any:
    """Bipartite groups (``bipartite=0``) and activities (``bipartite=1``).

    Edge ``weight``: the group's mentions of the activity; ``documents``: its documents mentioning it.
    """
    import networkx as nx

    found = sorted(source.rows(f"SELECT grp, activity, count(*), count(DISTINCT did) FROM {_MENTIONS} "
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


def _keyword_graph(keywords: list[str], cooccur: Any) -> Any:
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
_SMALL_COMPONENT = 64


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
            if len(nodes) <= _SMALL_COMPONENT:
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
    the weights and is computed per connected component (see :func:`_eigenvector`).

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
            between = _betweenness(graph)
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


def _betweenness(graph: Any) -> dict[Any, float]:
    """networkx's normalised, unweighted ``betweenness_centrality``, computed a batch of sources at a time.

    Brandes' algorithm in matrix form: breadth-first search from
    :data:`_BETWEENNESS_BATCH` sources at once, each level one product of the
    sparse adjacency with the frontier's path counts, then the dependencies
    accumulated level by level back to the sources. The same values as
    networkx (to float rounding; tests compare them), which runs the search in
    Python one source at a time and took most of the comparison's graph time.
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
    for first in range(0, n, _BETWEENNESS_BATCH):
        sources = np.arange(first, min(first + _BETWEENNESS_BATCH, n))
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


#: Sources searched at once by :func:`_betweenness`: its matrices are nodes × this (8 bytes a cell).
_BETWEENNESS_BATCH = 256


# --- Export ---------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    """An attribute value GraphML and GEXF can hold: bool, int, float or XML-valid str, never None."""
    from .safetext import visible

    value = _value(value)
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

    from .safetext import visible

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
