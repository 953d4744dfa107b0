"""One big input file: bounded memory, the same tables.

A streamed run writes a file's rows in parts once they pass
``Settings.part_rows`` rows or ``Settings.part_chars`` characters of section
text, so one huge file never has all its rows (nor its comparison features)
in memory at once; the tables must be the ones an unchunked run writes. The
inputs are the sample corpus, concatenated into one long file.
"""

from __future__ import annotations

import bisect
import random
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

import reportmine
from reportmine import matching, mentions, taxonomy
from reportmine.compare import compare, stored_features
from reportmine.runner import tabulate
from reportmine.store.files import PARTS_DIR, StoredTables
from reportmine.store.schemas import SCHEMAS

CORPUS = sorted(reportmine.sample_corpus().glob("*.txt"))


def _big_file(folder: Path, copies: int, *, run_on: bool = False, name: str = "big.txt") -> Path:
    """The sample corpus ``copies`` times over in one file; ``run_on``: with every line break removed."""
    text = "\n".join([p.read_text("utf-8") for p in CORPUS] * copies)
    if run_on:
        text = text.replace("\n", "")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def _parts(out: Path, name: str) -> list[str]:
    return sorted(p.name for p in (out / PARTS_DIR / name).glob("part-*.parquet"))


def _assert_same_tables(a: Path, b: Path) -> None:
    for name in SCHEMAS:
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet"))


@pytest.fixture(scope="module")
def unchunked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One big file (and a small one after it) tabulated with no part limits: (inputs folder, output)."""
    root = tmp_path_factory.mktemp("big")
    big = _big_file(root / "in", 3)
    tabulate([big, CORPUS[2]], root / "whole", jobs=1, part_rows=None, part_chars=None)
    return root / "in", root / "whole"


@pytest.mark.slow
@pytest.mark.parametrize(("rows", "chars"), [(1500, None), (None, 60_000), (4000, 100_000)])
def test_a_big_file_is_written_in_parts_with_the_same_tables(unchunked, tmp_path, monkeypatch, rows, chars):
    inputs, whole = unchunked
    out = tmp_path / "out"
    tabulate([inputs / "big.txt", CORPUS[2]], out, jobs=1, part_rows=rows, part_chars=chars)

    parts = _parts(out, "mentions")
    # The big file's partition in several parts, in order; the small file's partition stays one part.
    assert len(parts) >= 3, parts
    assert parts[-1] == "part-00001.parquet"
    assert parts[:-1] == [f"part-00000-{k:04d}.parquet" for k in range(len(parts) - 1)]
    for name in SCHEMAS:
        assert _parts(out, name) == parts, name  # every table cut into the same parts
    sections = [pd.read_parquet(out / PARTS_DIR / "sections" / p) for p in parts[:-1]]
    if chars is not None:
        assert all(frame.title.str.len().sum() + frame.body.str.len().sum() <= chars
                   for frame in sections if len(frame) > 1)
    _assert_same_tables(whole, out)

    # The comparison's features are keyed by the same part names, used, and give the unchunked comparison.
    assert stored_features(StoredTables(out)) is not None
    keywords = taxonomy.load_taxonomy().keywords()
    chunked, reference = compare(StoredTables(out), keywords=keywords), compare(StoredTables(whole), keywords=keywords)
    for name, frame in reference.tables().items():
        pd.testing.assert_frame_equal(chunked.tables()[name], frame, obj=name)


@pytest.mark.slow
def test_parts_of_a_big_file_do_not_depend_on_jobs(unchunked, tmp_path, monkeypatch):
    inputs, _ = unchunked
    for jobs in (1, 2):
        tabulate([inputs / "big.txt", CORPUS[2]], tmp_path / f"jobs{jobs}", jobs=jobs, part_rows=2000)
    one, two = tmp_path / "jobs1", tmp_path / "jobs2"
    assert len(_parts(one, "sections")) >= 3
    for name in SCHEMAS:
        assert _parts(one, name) == _parts(two, name)
        for suffix in ("csv", "parquet"):
            assert (one / f"{name}.{suffix}").read_bytes() == (two / f"{name}.{suffix}").read_bytes(), name


def _peak(path: Path, out: Path) -> int:
    """Python's peak memory (tracemalloc) over a streamed run of ``path`` alone."""
    tracemalloc.start()
    try:
        summary = tabulate([path], out, jobs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary["ok"] == 1
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("run_on", [False, True], ids=["lines", "run-on"])
def test_memory_grows_little_with_the_size_of_one_file(tmp_path, run_on):
    """Python's peak memory for one file of 2.5 MB against one of 1 MB: bytes more per byte more.

    What a file's result keeps (its parse, mentions and themes) grows with
    it, at about 6 bytes per byte; its rows and the comparison's features must
    not (they are written in parts). Measured: 17 with line breaks and 25 run
    on before rows were written in parts (all rows as dicts, the theme JSON
    of every section, the themes' lists of matches of a whole text); 9 and
    7.5 after.
    """
    tabulate([CORPUS[2]], tmp_path / "warm", jobs=1)  # models and caches loaded before measuring
    small = _big_file(tmp_path / "small", 6, run_on=run_on)
    big = _big_file(tmp_path / "big", 15, run_on=run_on)
    growth = (_peak(big, tmp_path / "big_out") - _peak(small, tmp_path / "small_out")) / (
        big.stat().st_size - small.stat().st_size)
    assert growth < 12.5, f"{growth:.1f} bytes of memory per byte of input"


def _resolve_reference(cands: list) -> list:
    """The overlap resolution as a sorted list of taken spans (the quadratic version it replaced)."""
    cands.sort(key=lambda c: (-mentions.resolve.RANK[c.type], -(c.end - c.start), c.start))
    taken: list[tuple[int, int]] = []
    chosen = []
    for c in cands:
        if c.end <= c.start:
            continue
        i = bisect.bisect_left(taken, (c.start, c.start))
        if not ((i > 0 and taken[i - 1][1] > c.start) or (i < len(taken) and taken[i][0] < c.end)):
            bisect.insort(taken, (c.start, c.end))
            chosen.append(c)
    chosen.sort(key=lambda c: (c.start, c.end))
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_overlap_resolution_keeps_the_same_candidates(seed):
    rng = random.Random(seed)
    types = list(mentions.resolve.RANK)
    cands = []
    for _ in range(400):
        start = rng.randrange(300)
        cands.append(mentions.context.Cand(rng.choice(types), start, start + rng.choice([0, 1, 2, 3, 5, 8, 13]), {}))
    expected = [(c.type, c.start, c.end) for c in _resolve_reference(list(cands))]
    assert [(c.type, c.start, c.end) for c in mentions.resolve.resolve_overlaps(list(cands))] == expected


@pytest.mark.parametrize("chunk", [5, 64, 4096])
def test_theme_evidence_of_a_long_text_does_not_depend_on_the_chunks(monkeypatch, chunk):
    """Matcher.text_hits goes over a long text a chunk of letters at a time: the hits are those of one pass."""
    matcher = matching.get_matcher(taxonomy.load_taxonomy())
    texts = [p.read_text("utf-8") for p in CORPUS]
    texts.append("".join(texts).replace("\n", ""))  # section-less and run on: the whole text is one piece
    expected = [matcher._text_hits(text) for text in texts]
    monkeypatch.setattr(matching, "LETTERS_CHUNK", chunk)
    assert [matcher._text_hits(text) for text in texts] == expected
