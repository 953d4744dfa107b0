"""Stage 9, compare: what health-policy papers publish about many hospitals.

In: the tidy tables of :mod:`reportmine.store` (``documents``, ``sections``,
``mentions``, ``section_themes``), as DataFrames or as the Parquet files of an
output folder (:class:`~reportmine.store.files.StoredTables`). Out: a
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
:data:`~reportmine.store.query.DUCKDB_MEMORY`) or streamed in Arrow batches into per-group counters,
near duplicates are found by MinHash with banding, terms are counted over a
bounded vocabulary, and outputs per group are bounded (top terms, top similar
groups). What is kept per document is a few numbers and a MinHash signature.

The parts: :mod:`.run` (:func:`compare`, :func:`write_comparison`),
:mod:`.core` (:class:`Comparison`, the tables' columns), :mod:`.duplicates`,
:mod:`.terms` (vocabulary, the workers' precomputed passes),
:mod:`.statistics` and :mod:`.graphs`.
"""

from ..store.query import BATCH_ROWS, DUCKDB_MEMORY
from .core import COLUMNS, DIGITS, SHARE_DEFINITION, Comparison
from .duplicates import (
    CANDIDATE_JACCARD,
    DUPLICATE_JACCARD,
    MIN_SHINGLES,
    MINHASH_BANDS,
    MINHASH_ROWS,
    SHINGLE_CHARS,
)
from .graphs import BETWEENNESS_EXACT, BETWEENNESS_SAMPLE, TOP_KEYWORDS, centrality, export_graphs
from .run import compare, write_comparison
from .statistics import (
    PRIOR_STRENGTH,
    QUANTITY_TYPES,
    SIMILAR_GROUPS,
    SIMILARITY_ALL_PAIRS,
    TOP_TERMS,
    cosine,
    log_odds_dirichlet,
)
from .terms import FEATURES_DIR, MIN_TERM_CHARS, stopwords, stored_features, write_features

__all__ = [
    "BATCH_ROWS",
    "BETWEENNESS_EXACT",
    "BETWEENNESS_SAMPLE",
    "CANDIDATE_JACCARD",
    "COLUMNS",
    "DIGITS",
    "DUCKDB_MEMORY",
    "DUPLICATE_JACCARD",
    "FEATURES_DIR",
    "MINHASH_BANDS",
    "MINHASH_ROWS",
    "MIN_SHINGLES",
    "MIN_TERM_CHARS",
    "PRIOR_STRENGTH",
    "QUANTITY_TYPES",
    "SHARE_DEFINITION",
    "SHINGLE_CHARS",
    "SIMILARITY_ALL_PAIRS",
    "SIMILAR_GROUPS",
    "TOP_KEYWORDS",
    "TOP_TERMS",
    "Comparison",
    "centrality",
    "compare",
    "cosine",
    "export_graphs",
    "log_odds_dirichlet",
    "stopwords",
    "stored_features",
    "write_comparison",
    "write_features",
]
