"""Near-duplicate documents: MinHash signatures, banding (LSH) for candidates, exact Jaccard to confirm.

Template text copied across sites, or one report filed twice, would count
twice in every comparison: :func:`find_near_duplicates` finds such pairs
with a pass over the section text (or the signatures the workers
precomputed), and marks each later copy's ``duplicate_of``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import Any

from ..store.query import TableSource, clean_sql
from .core import Doc, id_table, joined, rounded

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

#: A section row's clean document and section ids, in SQL.
_DID, _SID = clean_sql("doc_id"), clean_sql("section_id")

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def normalised(text: str) -> str:
    """Text for shingling: NFKC, lower case, no spaces or punctuation, every number as 0.

    Numbers go so that a template filled with another hospital's figures still matches.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _PUNCT.sub("", text))


#: Hashes in a document's MinHash signature.
HASHES = MINHASH_BANDS * MINHASH_ROWS
#: A signature entry no shingle reached.
EMPTY_HASH = (1 << 32) - 1


@lru_cache(maxsize=1)
def hash_params() -> tuple[Any, Any]:
    """Fixed multipliers (odd) and offsets of the multiply-shift hash family: the same signatures on every run."""
    import numpy as np

    rng = np.random.default_rng(20240607)
    a = rng.integers(1, 2**63, size=HASHES, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=HASHES, dtype=np.uint64)
    return a[:, None], b[:, None]


#: Shingles hashed at once by :func:`minhash_into`: its hash matrix, :data:`HASHES` times this in uint64
#: (4 MB), stays in the CPU cache; 4096 took half the time of 32768 on a 10 MB corpus.
_MINHASH_CHUNK = 4096


def minhash_into(signatures: Any, rows: list[int], normals: list[str]) -> None:
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
    a, b = hash_params()
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


def find_near_duplicates(source: TableSource, docs: list[Doc], precomputed: bool) -> list[dict[str, Any]]:
    """Pairs of documents whose shingle sets have a Jaccard similarity >= :data:`DUPLICATE_JACCARD`.

    One pass over the section text gives each document a MinHash signature
    (the minimum over its sections' shingles); documents agreeing on a whole
    band of it are candidates (locality-sensitive hashing: near-linear, not
    all pairs), those whose signatures agree on at least
    :data:`CANDIDATE_JACCARD` are checked on their exact shingle sets, read
    again for them alone. Sets each later document's ``duplicate_of`` to the
    earliest document (in table order) it copies that is not itself a copy,
    and returns the pairs (``doc_a`` the earlier) in table order. With
    ``precomputed``, the signatures are the workers' (view ``features_signatures``).
    """
    import numpy as np

    index = {}
    for i, d in enumerate(docs):
        index.setdefault(d.doc_id, i)
    if len(index) < 2:
        return []
    signatures = np.full((len(docs), HASHES), EMPTY_HASH, dtype=np.uint64)
    chars = np.zeros(len(docs), dtype=np.int64)
    if precomputed:  # the workers' signatures of their partitions' documents, view features_signatures
        query = (f"SELECT {_DID} AS did, chars, signature FROM features_signatures "
                 f"WHERE {_DID} IN (SELECT doc_id FROM docs)")
        for batch in source.batches(query):
            rows = np.asarray([index[did] for did in batch["did"]], dtype=np.int64)
            np.add.at(chars, rows, batch["chars"])
            np.minimum.at(signatures, rows, np.frombuffer(b"".join(batch["signature"]), dtype="<u8").reshape(
                len(rows), HASHES))
    else:
        query = (f"SELECT {_DID} AS did, title, body FROM sections WHERE {_SID} IS NOT NULL "
                 f"AND {_DID} IN (SELECT doc_id FROM docs)")
        for batch in source.batches(query):
            rows = [index[did] for did in batch["did"]]
            normals = [normalised(joined(title, body))
                       for title, body in zip(batch["title"], batch["body"], strict=True)]
            np.add.at(chars, np.asarray(rows, dtype=np.int64), [len(normal) for normal in normals])
            minhash_into(signatures, rows, normals)
    # A document needs MIN_SHINGLES distinct shingles, so at least this many characters.
    eligible = np.flatnonzero(chars >= MIN_SHINGLES + SHINGLE_CHARS - 1)
    candidates = _lsh_candidates(signatures, eligible)
    if not candidates:
        return []
    # Read the candidates' text once more, in table order, for their exact shingle sets.
    involved = sorted({i for pair in candidates for i in pair})
    texts: dict[int, list[tuple[bool, int, int, int, str]]] = defaultdict(list)
    source.con.register("_involved", id_table([docs[i].doc_id for i in involved]))
    query = (f"SELECT {_DID} AS did, start, line, title, body FROM sections WHERE {_SID} IS NOT NULL "
             f"AND {_DID} IN (SELECT doc_id FROM _involved)")
    for batch in source.batches(query):
        for did, start, line, title, body in zip(batch["did"], batch["start"], batch["line"], batch["title"],
                                                 batch["body"], strict=True):
            texts[index[did]].append((start is None, start or 0, line or 0, len(texts[index[did]]),
                                      joined(title, body)))
    # A join does not keep the table's order across row groups, and a big file's document spans several
    # (one per part of its partition): each document's sections are put back in text order.
    pairs = exact_jaccard(sorted(candidates), {i: normalised("\n".join(t[-1] for t in sorted(texts.get(i, []))))
                                                for i in involved})
    for i, j, _ in pairs:
        doc, original = docs[j], docs[i]
        if doc.duplicate_of is None:
            doc.duplicate_of = original.duplicate_of or original.doc_id
    return [{"doc_a": docs[i].doc_id, "doc_b": docs[j].doc_id, "similarity": rounded(s),
             "group_a": docs[i].group, "group_b": docs[j].group} for i, j, s in pairs]


SHINGLE_HASH_BASE = 1_000_003


def exact_jaccard(candidates: list[tuple[int, int]], normals: dict[int, str]) -> list[tuple[int, int, float]]:
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
            hashed = hashed * np.uint64(SHINGLE_HASH_BASE) + windows[:, k]
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
