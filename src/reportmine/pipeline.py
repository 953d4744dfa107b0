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


def process_file(path: str | os.PathLike[str], options: RunOptions | None = None) -> FileResult:
    """Run the per-file stages on one input. Never raises for a bad input.

    A :class:`~reportmine.errors.ReportmineError` (unreadable, empty, binary,
    undecodable file) and any unexpected failure inside a stage both come back
    as a ``failed`` result naming the file, the stage and the problem, so a
    corpus run goes on with the next file.
    """
    from .parsing import parse_file

    options = options or RunOptions()
    started = time.perf_counter()
    name = str(path)
    sha256, size = _hash_file(Path(path))
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


def _process_chunk(args: tuple[Sequence[str], RunOptions]) -> list[FileResult]:
    paths, options = args
    return [process_file(p, options) for p in paths]


def run_files(
    paths: Iterable[str | os.PathLike[str]],
    options: RunOptions | None = None,
    jobs: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
) -> Iterator[FileResult]:
    """Process files in input order, in ``jobs`` processes (0 or less: all cores).

    Results stream back in the order of ``paths`` whatever ``jobs`` is, so a
    run with ``--jobs 2`` writes the same tables as one with ``--jobs 1``.
    ``on_result`` is called with each result as it arrives (progress bars).
    """
    options = options or RunOptions()
    items = [str(p) for p in paths]
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    jobs = min(jobs, max(1, len(items)))
    if jobs == 1:
        for path in items:
            result = process_file(path, options)
            if on_result:
                on_result(result)
            yield result
        return
    chunks = [(items[i:i + _CHUNK_FILES], options) for i in range(0, len(items), _CHUNK_FILES)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch in pool.map(_process_chunk, chunks):
            for result in batch:
                if on_result:
                    on_result(result)
                yield result
