"""Corpus runs: every input file through the stages, each accounted for.

The stages, in order (one module each; they meet here, not in each other):

1. read       ``reading.read_file``          bytes -> SourceText
2. clean      ``cleaning.classify_lines``    what each line looks like
3. split      ``documents.split_documents``  reports, line roles, kinds
4. sections   ``sections.build_sections``    section trees (2-4: ``parsing.parse_source``)
5. extract    ``mentions.extract_parsed``    numbers, dates, activities … with spans
6. classify   ``themes.classify_parsed``     themes per section, scope and themes per document
7. describe   ``metadata.describe_document`` hospital, region, year (manifest or text)
8. tabulate   ``tables``                     tidy DataFrames, Parquet/CSV/DuckDB
9. compare    ``compare``                    profiles, distinctive themes, networks
10. report    ``report``                     one self-contained HTML page

Stages 1-6 work on one file at a time: :func:`process_file` runs them and
never raises for a bad input; it returns a :class:`FileResult` whose status
and error go into the run's manifest. :func:`run_files` maps it over many
files, in a process pool when ``jobs > 1``, always returning results in input
order so that any ``jobs`` gives identical output.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ReportmineError
from .model import Mention, ParsedFile

Stage = Literal["parse", "extract", "classify"]
ALL_STAGES: tuple[Stage, ...] = ("parse", "extract", "classify")

# Files per task sent to a worker: large enough to amortise pickling, small
# enough to keep both cores busy on a corpus of a few dozen files.
_CHUNK_FILES = 4


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What a run does to each file.

    Attributes:
        stages: the per-file stages to run (parse is always run).
        taxonomy: path of a theme taxonomy TOML file, or ``None`` for the shipped one.
    """

    stages: tuple[Stage, ...] = ALL_STAGES
    taxonomy: str | None = None


@dataclass(frozen=True, slots=True)
class FileResult:
    """One input's outcome: its manifest row and what the stages made of it.

    Attributes:
        path: the input as given.
        status: ``ok`` or ``failed``.
        error: why it failed (names the file), else ``None``.
        stage: the stage that failed, else ``None``.
        sha256: hash of the file's bytes (``None`` if it could not be read).
        size: bytes on disk.
        parsed: the structural parse, for ``ok`` files.
        mentions: extracted mentions, in text order.
        themes: the theme classification of ``parsed`` (``themes`` stage), else ``None``.
        seconds: wall time spent on this file.
    """

    path: str
    status: Literal["ok", "failed"]
    error: str | None = None
    stage: str | None = None
    sha256: str | None = None
    size: int | None = None
    parsed: ParsedFile | None = None
    mentions: tuple[Mention, ...] = ()
    themes: Any = field(default=None, compare=False)
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _hash_file(path: Path) -> tuple[str | None, int | None]:
    try:
        data = path.read_bytes()
    except OSError:
        return None, None
    return hashlib.sha256(data).hexdigest(), len(data)


def _cache_key(sha256: str, options: RunOptions) -> str:
    """Results depend on the bytes, the code and the options: all three name a cache entry."""
    from . import __version__

    taxonomy = ""
    if options.taxonomy:
        taxonomy = _hash_file(Path(options.taxonomy))[0] or options.taxonomy
    recipe = f"{__version__}|{','.join(options.stages)}|{taxonomy}"
    return f"{sha256[:32]}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"


def _load_cached(cache_dir: Path, key: str, name: str) -> FileResult | None:
    import pickle

    entry = cache_dir / f"{key}.pickle"
    try:
        with open(entry, "rb") as handle:
            cached = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None  # absent or unreadable: recompute
    if not isinstance(cached, FileResult):
        return None
    # The same bytes may sit under another name; the manifest names this input.
    return cached if cached.path == name else None


def _store_cached(cache_dir: Path, key: str, result: FileResult) -> None:
    import pickle
    import tempfile

    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=cache_dir)
    with os.fdopen(handle, "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cache_dir / f"{key}.pickle")  # a killed run never leaves half an entry


def process_file(
    path: str | os.PathLike[str],
    options: RunOptions | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FileResult:
    """Run the per-file stages on one input. Never raises for a bad input.

    A :class:`~reportmine.errors.ReportmineError` (unreadable, empty, binary,
    undecodable file) and any unexpected failure inside a stage both come back
    as a ``failed`` result naming the file, the stage and the problem, so a
    corpus run goes on with the next file.

    With ``cache_dir``, a result already computed for the same bytes, code
    version and options is loaded instead of recomputed, and new ``ok``
    results are stored there as soon as they are done: a crashed run resumes
    where it stopped.
    """
    from .parsing import parse_file

    options = options or RunOptions()
    started = time.perf_counter()
    name = str(path)
    sha256, size = _hash_file(Path(path))
    key = _cache_key(sha256, options) if cache_dir is not None and sha256 else None
    if key is not None:
        cached = _load_cached(Path(cache_dir), key, name)
        if cached is not None:
            return cached
    result = _run_stages(path, name, options, sha256, size, started, parse_file)
    if key is not None and result.ok:
        _store_cached(Path(cache_dir), key, result)
    return result


def _run_stages(path, name, options, sha256, size, started, parse_file) -> FileResult:
    stage = "parse"
    try:
        parsed = parse_file(path)
        mentions: tuple[Mention, ...] = ()
        themes = None
        if "extract" in options.stages:
            stage = "extract"
            from .mentions import extract_parsed

            mentions = tuple(extract_parsed(parsed))
        if "classify" in options.stages:
            stage = "classify"
            from .themes import classify_parsed, load_taxonomy

            themes = classify_parsed(parsed, load_taxonomy(options.taxonomy))
    except ReportmineError as exc:
        return FileResult(name, "failed", str(exc), stage, sha256, size, seconds=time.perf_counter() - started)
    except Exception as exc:
        error = f"{name}: internal error in {stage}: {type(exc).__name__}: {exc}"
        return FileResult(name, "failed", error, stage, sha256, size, seconds=time.perf_counter() - started)
    return FileResult(name, "ok", None, None, sha256, size, parsed, mentions, themes,
                      time.perf_counter() - started)


def _process_chunk(args: tuple[Sequence[str], RunOptions, str | None]) -> list[FileResult]:
    paths, options, cache_dir = args
    return [process_file(p, options, cache_dir) for p in paths]


def run_files(
    paths: Iterable[str | os.PathLike[str]],
    options: RunOptions | None = None,
    jobs: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Iterator[FileResult]:
    """Process files in input order, in ``jobs`` processes (0 or less: all cores).

    Results stream back in the order of ``paths`` whatever ``jobs`` is, so a
    run with ``--jobs 2`` writes the same tables as one with ``--jobs 1``.
    ``on_result`` is called with each result as it arrives (progress bars).
    ``cache_dir`` makes the run resumable (see :func:`process_file`).
    """
    cache = str(cache_dir) if cache_dir is not None else None
    options = options or RunOptions()
    items = [str(p) for p in paths]
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    jobs = min(jobs, max(1, len(items)))
    if jobs == 1:
        for path in items:
            result = process_file(path, options, cache)
            if on_result:
                on_result(result)
            yield result
        return
    chunks = [(items[i:i + _CHUNK_FILES], options, cache) for i in range(0, len(items), _CHUNK_FILES)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch in pool.map(_process_chunk, chunks):
            for result in batch:
                if on_result:
                    on_result(result)
                yield result


@dataclass
class Analysis:
    """A corpus analysis: tables, comparisons and a summary, ready to explore or write.

    Attributes:
        tables: the tidy tables of :mod:`reportmine.tables` (``files``,
            ``documents``, ``sections``, ``mentions``, ``section_themes``) as
            pandas DataFrames.
        comparison: the :class:`reportmine.compare.Comparison` of the corpus.
        summary: counts and timings of the run (files, ok, failed, documents,
            sections, mentions, seconds).
        run_info: versions and settings, written beside every output.
    """

    tables: dict[str, Any]
    comparison: Any
    summary: dict[str, Any]
    run_info: dict[str, Any]

    @property
    def failures(self) -> Any:
        """The ``files`` rows whose status is ``failed``."""
        files = self.tables["files"]
        return files[files.status == "failed"]

    def __getattr__(self, name: str) -> Any:
        # analysis.documents, analysis.sections … read the tables by name.
        tables = self.__dict__.get("tables") or {}
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, list[Path]]:
        """Write tables (Parquet, CSV, DuckDB), graphs (GEXF, GraphML), the report and run.json."""
        import json

        from .compare import export_graphs
        from .report import render_report, write_report
        from .tables import _atomic_path, write_tables

        out = Path(out_dir)
        written = write_tables(self.tables, out)
        written["graphs"] = list(export_graphs(self.comparison.graphs, out / "graphs"))
        html = render_report(self.tables, self.comparison, title="reportmine report", run_info=self.run_info)
        written["report"] = [write_report(html, out)]
        target = out / "run.json"
        tmp = _atomic_path(target)
        tmp.write_text(json.dumps({"summary": self.summary, "run_info": self.run_info}, ensure_ascii=False,
                                  indent=1, default=str) + "\n", "utf-8")
        os.replace(tmp, target)
        written["run"] = [target]
        return written


def analyze(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    *,
    meta: str | os.PathLike[str] | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Analysis:
    """Run the whole pipeline on a corpus and compare its hospitals.

    Args:
        paths: files or folders (default: the bundled sample corpus).
        meta: optional manifest CSV (file[, document] -> hospital, region, level, year, extras).
        taxonomy: optional theme taxonomy TOML (default: the shipped one).
        jobs: worker processes for the per-file stages (0: all cores).
        on_result: called with each file's result as it is done (progress).
        cache_dir: keep each file's result here as soon as it is done, and
            reuse results already there (``--resume`` after a crash).

    Returns:
        An :class:`Analysis`; ``analysis.write(out_dir)`` writes every output.

    >>> analysis = analyze()  # doctest: +SKIP
    >>> analysis.documents[["doc_id", "kind", "hospital"]].head()  # doctest: +SKIP
    """
    from . import __version__
    from .compare import compare
    from .metadata import Manifest
    from .reading import iter_input_paths
    from .samples import sample_corpus
    from .tables import build_tables

    started = time.perf_counter()
    if paths is None:
        paths = [sample_corpus()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    manifest = Manifest.load(meta) if meta else None
    files = list(iter_input_paths(paths))
    options = RunOptions(taxonomy=str(taxonomy) if taxonomy else None)
    results = list(run_files(files, options, jobs=jobs, on_result=on_result, cache_dir=cache_dir))
    tables = build_tables(results, manifest)
    comparison = compare(tables)
    summary = {
        "files": len(results),
        "ok": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "documents": len(tables["documents"]),
        "sections": len(tables["sections"]),
        "mentions": len(tables["mentions"]),
        "seconds": round(time.perf_counter() - started, 3),
    }
    run_info = {
        "reportmine": __version__,
        "inputs": [str(p) for p in paths],
        "manifest": str(meta) if meta else None,
        "taxonomy": str(taxonomy) if taxonomy else "shipped",
        "jobs": jobs,
    }
    return Analysis(tables, comparison, summary, run_info)
