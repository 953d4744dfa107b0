"""Terms of the section text: the bounded vocabulary, its counts per group, and keyword co-occurrence.

The comparison's passes over the section text (MinHash signatures, vocabulary
matches) would run once, serially, after every worker is done; they were most
of its time on a large corpus. A streamed run (:mod:`reportmine.pipeline`)
has each worker compute them for its own partition instead, beside its table
parts (:func:`write_features`), and the comparison only combines them
(:func:`stored_features`): the same numbers, in parallel.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..segmentation import domain_words, normalize
from ..store.files import atomic_write
from ..store.query import TableSource, clean_sql, parts_root, stored_path
from ..store.schemas import part_name
from ..taxonomy import normalize_term
from .core import id_table, joined
from .duplicates import EMPTY_HASH, HASHES, MINHASH_BANDS, MINHASH_ROWS, SHINGLE_CHARS, minhash_into, normalised
from .graphs import keyword_graph

if TYPE_CHECKING:
    import pandas as pd

#: Shortest token counted as a term: single characters (的, 和, 年) are function words;
#: tokens with digits (2016, 20xx) are dates and figures, not vocabulary.
MIN_TERM_CHARS = 2

_DIGITS = re.compile(r"\d+")
_TERM = re.compile(r"[a-z\u3400-\u9fff]")

#: Folder of ``OUT/tables`` holding the workers' precomputed parts (``signatures/``, ``words/``): not user tables.
FEATURES_DIR = "_compare"
#: What a signature part's numbers depend on besides the text: a part made otherwise is not used.
_SIGNATURE_RECIPE = f"minhash/{SHINGLE_CHARS}/{MINHASH_BANDS}x{MINHASH_ROWS}/20240607/v1"


def _vocabulary(keywords: Iterable[str]) -> list[str]:
    """The words counted in the text: the domain dictionary and ``keywords``, normalised, sorted."""
    keywords = list(keywords)
    return sorted(set(domain_words(keywords)) | {normalize_term(k) for k in keywords if normalize_term(k)})


def _digest(vocabulary: list[str]) -> str:
    """A short fingerprint of ``vocabulary``: the workers' word parts are used only for the same one."""
    import hashlib

    return hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:16]


@lru_cache(maxsize=4)
def _automaton(vocabulary: tuple[str, ...]) -> Any:
    """An Aho-Corasick automaton matching ``vocabulary`` leftmost-longest, built once per vocabulary."""
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
    Both are what :func:`~reportmine.compare.compare` would compute from the same rows; it uses
    them only when the vocabulary's digest and the signature recipe match.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    vocabulary = _vocabulary(keywords)
    ids = pa.array(sections["section_id"], pa.string()).to_pylist()
    doc_ids = pa.array(sections["doc_id"], pa.string()).to_pylist()
    titles = pa.array(sections["title"], pa.string()).to_pylist()
    bodies = pa.array(sections["body"], pa.string()).to_pylist()
    # As the comparison's SQL has it: sections with an id and a document only.
    usable = [k for k in range(len(ids)) if (ids[k] or "").strip() and (doc_ids[k] or "").strip()]
    order = list(dict.fromkeys(doc_ids[k] for k in usable))
    position = {did: i for i, did in enumerate(order)}
    signatures = np.full((len(order), HASHES), EMPTY_HASH, dtype=np.uint64)
    chars = np.zeros(len(order), dtype=np.int64)
    rows = [position[doc_ids[k]] for k in usable]
    # Both passes start with NFKC: done once here, it is a quick check (no work) in each of them.
    texts = [unicodedata.normalize("NFKC", joined(titles[k], bodies[k])) for k in range(len(ids))]
    normals = [normalised(texts[k]) for k in usable]
    if usable:
        np.add.at(chars, np.asarray(rows, dtype=np.int64), [len(n) for n in normals])
        # A batch of texts at a time: hashing takes about 50 bytes per character. Minima: any batching, same result.
        first = 0
        while first < len(normals):
            last, size = first + 1, len(normals[first])
            while last < len(normals) and size + len(normals[last]) <= _FEATURE_BATCH_CHARS:
                size += len(normals[last])
                last += 1
            minhash_into(signatures, rows[first:last], normals[first:last])
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
        with atomic_write(folder / f"{part_name(index) if isinstance(index, int) else index}.parquet") as tmp:
            pq.write_table(table, tmp)


@dataclass(frozen=True)
class Features:
    """The workers' parts for a stored run: one of each kind per sections part, all of one vocabulary."""

    signatures: list[Path]
    words: list[Path]
    vocabulary: str


def stored_features(tables: Any) -> Features | None:
    """The precomputed parts beside an output folder's unchanged sections table, if complete and current."""
    import pyarrow.parquet as pq

    if stored_path(tables, "sections") is None:
        return None
    root = parts_root(tables)
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
    return Features(kinds["signatures"], kinds["words"], digests.pop().decode())


def open_features(source: TableSource, tables: Any) -> Features | None:
    """The precomputed parts of stored ``tables`` (:func:`stored_features`), as views ``features_signatures``
    and ``features_words`` of ``source``; None, and no views, when there are none to use."""
    features = stored_features(tables)
    if features is not None:
        for kind in ("signatures", "words"):
            source.add_parquet_view(f"features_{kind}", getattr(features, kind))
    return features


def _count_terms_precomputed(source: TableSource, terms: frozenset[str]) -> dict[str, Counter]:
    """Per-group counts of ``terms`` from the workers' word parts."""
    counts: dict[str, Counter] = defaultdict(Counter)
    query = (f"SELECT s.grp, w.word, sum(w.n) FROM sec s JOIN features_words w "
             f"ON {clean_sql('w.section_id')} = s.section_id GROUP BY ALL")
    for group, word, n in source.rows(query):
        if word in terms:
            counts[group][word] += int(n)
    return counts


def _cooccurrence_precomputed(source: TableSource, keyword_set: list[str]) -> Any:
    """Sections (joined rows, as :func:`count_terms` counts them) holding each pair of keywords."""
    import numpy as np

    cooccur = np.zeros((len(keyword_set), len(keyword_set)), dtype=np.int64)
    if not keyword_set:
        return cooccur
    keyword_index = {k: i for i, k in enumerate(keyword_set)}
    source.con.register("_keywords", id_table(keyword_set).rename_columns(["word"]))
    query = f"""
        WITH present AS (
            SELECT s.rowid AS sec_row, w.filename, w.row, w.word
            FROM sec s JOIN features_words w ON {clean_sql('w.section_id')} = s.section_id
            WHERE w.word IN (SELECT word FROM _keywords))
        SELECT a.word, b.word, count(*) FROM present a JOIN present b
            ON a.sec_row = b.sec_row AND a.filename = b.filename AND a.row = b.row GROUP BY ALL"""
    for a, b, n in source.rows(query):
        cooccur[keyword_index[a], keyword_index[b]] = int(n)
    return cooccur


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Generic report words (``data/stopwords.txt``) that distinctive terms leave out."""
    text = resources.files("reportmine.data").joinpath("stopwords.txt").read_text("utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.split("#", 1)[0].strip()))


def _is_term(token: str) -> bool:
    """Whether a vocabulary word counts as a distinctive term: long enough, with letters, no digits, no stopword."""
    return (len(token) >= MIN_TERM_CHARS and bool(_TERM.search(token)) and not _DIGITS.search(token)
            and token not in stopwords())


def count_terms(source: TableSource, keywords: list[str],
                features: Features | None) -> tuple[dict[str, Counter], Any]:
    """Per-group counts of domain-dictionary terms, and the keyword co-occurrence graph, in one pass over the text.

    The vocabulary is bounded: the words of the domain dictionary
    (:func:`reportmine.segmentation.domain_words`, which holds every taxonomy
    keyword) and ``keywords``. Each section's normalised text is matched
    leftmost-longest without overlaps, as a dictionary segmenter would cut
    those words, by an Aho-Corasick automaton (linear in the text, whatever
    the vocabulary's size), instead of segmenting every section with jieba
    again: the per-file stages already did that, and it was most of the
    comparison's time on a large corpus. The workers' word parts (``features``) are used when their
    vocabulary is this one.
    """
    import ahocorasick_rs
    import numpy as np
    from scipy import sparse

    vocabulary = _vocabulary(keywords)
    keyword_set = sorted({normalize_term(k) for k in keywords} & set(vocabulary))
    keyword_index = {k: i for i, k in enumerate(keyword_set)}
    terms = frozenset(w for w in vocabulary if _is_term(w))
    counts: dict[str, Counter] = defaultdict(Counter)
    cooccur = np.zeros((len(keyword_set), len(keyword_set)), dtype=np.int64)
    if not vocabulary:
        return counts, keyword_graph(keyword_set, cooccur)
    if features is not None and features.vocabulary == _digest(vocabulary):
        counts = _count_terms_precomputed(source, terms)
        return counts, keyword_graph(keyword_set, _cooccurrence_precomputed(source, keyword_set))
    automaton = ahocorasick_rs.AhoCorasick(vocabulary, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    query = f"SELECT s.grp, t.title, t.body FROM sec s JOIN sections t ON {clean_sql('t.section_id')} = s.section_id"
    for batch in source.batches(query):
        rows, cols = [], []
        for k, (group, title, body) in enumerate(zip(batch["grp"], batch["title"], batch["body"], strict=True)):
            found = automaton.find_matches_as_strings(normalize(joined(title, body)))
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
    return counts, keyword_graph(keyword_set, cooccur)
