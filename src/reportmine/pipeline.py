"""Stages 1-7 on one file at a time, each input accounted for.

The stages, in order (one module each; they meet here and in
:mod:`reportmine.runner` / :mod:`reportmine.analysis`, not in each other):

1. read       ``reading.read_file``          bytes -> SourceText
2. clean      ``cleaning.classify_lines``    what each line looks like
3. split      ``documents.split_documents``  reports, line roles, kinds
4. sections   ``sections.build_sections``    section trees (2-4: ``parsing.parse_source``)
5. extract    ``mentions.extract_parsed``    numbers, dates, activities … with spans
6. classify   ``themes.classify_parsed``     themes per section, scope and themes per document
7. describe   ``metadata.describe_file``     hospital, region, level, year from the text
8. tabulate   ``store``                      tidy tables, Parquet/CSV/DuckDB (``runner.tabulate``)
9. compare    ``compare``                    profiles, distinctive themes, networks
10. report    ``report``                     one self-contained HTML page (9-10: ``analysis.analyze``)

:func:`process_file` runs stages 1-7 and never raises for a bad input; it
returns a :class:`~reportmine.model.FileResult` whose status and error go
into the run's manifest. :func:`run_files` maps it over many files, in a
process pool when ``jobs > 1``, always returning results in input order so
that any ``jobs`` gives identical output.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from importlib import resources
from pathlib import Path, PurePath

import tomllib

from . import __version__
from .errors import ReportmineError
from .inputs import InputFile, keyed_inputs
from .mentions import extract_parsed
from .metadata import describe_file
from .model import FileResult, Mention
from .outputs import close_inherited_locks
from .parsing import parse_file
from .reading import read_bytes
from .segmentation import SEGMENTER_VERSION
from .settings import Settings
from .taxonomy import Taxonomy, load_taxonomy
from .themes import CODER_VERSION, classify_parsed

# Files per task sent to a worker: large enough to amortise pickling, small
# enough to keep both cores busy on a corpus of a few dozen files.
_CHUNK_FILES = 4


def _hash_file(path: Path) -> tuple[str | None, int | None]:
    try:
        data = read_bytes(path)  # a FIFO or a device is refused, never read (it could block forever)
    except ReportmineError:
        return None, None
    return hashlib.sha256(data).hexdigest(), len(data)


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A hash of the package's code and data files.

    The version alone would let a development checkout resume from results
    that older code made (and a changed data model would fail to unpickle).
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml", ".txt") and "corpus" not in path.parts and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(sha256: str, settings: Settings) -> str:
    """Results depend on the bytes, the code and the settings: all three name a cache entry."""
    taxonomy = ""
    if settings.taxonomy:
        taxonomy = _taxonomy_digest(settings.taxonomy) or settings.taxonomy
    recipe = f"{__version__}|{_code_fingerprint()}|{','.join(settings.stages)}|{taxonomy}|{settings.tokenizer}"
    return f"{sha256[:32]}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"


def _load_cached(cache_dir: Path, key: str, name: str) -> FileResult | None:
    import pickle

    entry = cache_dir / f"{key}.pickle"
    try:
        with open(entry, "rb") as handle:
            cached = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
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
    settings: Settings | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    key: str | None = None,
) -> FileResult:
    """Run the per-file stages on one input. Never raises for a bad input.

    A :class:`~reportmine.errors.ReportmineError` (unreadable, empty, binary,
    undecodable file) and any unexpected failure inside a stage both come back
    as a ``failed`` result naming the file, the stage and the problem, so a
    corpus run goes on with the next file.

    With ``cache_dir``, a result already computed for the same bytes, code
    version and settings is loaded instead of recomputed, and new ``ok``
    results are stored there as soon as they are done: a crashed run resumes
    where it stopped.

    ``name`` is the input as the user gave it, when ``path`` is where it is
    read from (a cluster worker reads a relative input under the client's
    folder); results, errors and tables say ``name``. Default: ``path``.
    ``key`` is the input's key in the run (see :class:`reportmine.inputs.InputFile`),
    which its ids are built on. Default: the file's name.
    """
    settings = settings or Settings()
    started = time.perf_counter()
    source = str(path)
    name = source if name is None else name
    key = PurePath(name).name if key is None else key
    sha256, size = _hash_file(Path(path))
    entry = _cache_key(sha256, settings) if cache_dir is not None and sha256 else None
    if entry is not None:
        cached = _load_cached(Path(cache_dir), entry, name)
        if cached is not None:
            return cached if cached.key == key else replace(cached, key=key)
    result = replace(_run_stages(path, name, settings, sha256, size, started), key=key)
    if result.error and source != name:
        result = replace(result, error=result.error.replace(source, name))
    if entry is not None and result.ok:
        _store_cached(Path(cache_dir), entry, result)
    return result


def process_input(item: InputFile, settings: Settings, cache_dir: str | None, base: str | None = None) -> FileResult:
    """:func:`process_file` on one input of a run; one whose listing found a problem fails at once, unread."""
    if item.problem is not None:
        return FileResult(item.path, "failed", f"{item.path}: {item.problem}", "parse", key=item.key)
    source = os.path.join(base, item.path) if base else item.path
    return process_file(source, settings, cache_dir, name=item.path, key=item.key)


def _run_stages(path, name, settings: Settings, sha256, size, started) -> FileResult:
    stage = "parse"
    try:
        parsed = parse_file(path)
        mentions: tuple[Mention, ...] = ()
        themes = None
        if "extract" in settings.stages:
            stage = "extract"
            mentions = tuple(extract_parsed(parsed))
        if "classify" in settings.stages:
            stage = "classify"
            themes = classify_parsed(parsed, run_taxonomy(settings.taxonomy), tokenizer=settings.tokenizer)
        stage = "describe"
        metadata = describe_file(parsed)
    except ReportmineError as exc:
        return FileResult(name, "failed", str(exc), stage, sha256, size, seconds=time.perf_counter() - started)
    except Exception as exc:
        error = f"{name}: internal error in {stage}: {type(exc).__name__}: {exc}"
        return FileResult(name, "failed", error, stage, sha256, size, seconds=time.perf_counter() - started)
    return FileResult(name, "ok", None, None, sha256, size, parsed, mentions, themes,
                      time.perf_counter() - started, metadata=metadata)


def run_taxonomy(path: str | None) -> Taxonomy:
    """The run's taxonomy, a user's file read and validated once per process, again only when it changes.

    Loading it for every input cost about as much as classifying a small report.
    """
    if path is None:
        return load_taxonomy(None)  # the shipped one, cached by themes
    try:
        stat = os.stat(path)
    except OSError:
        return load_taxonomy(path)  # raises the error that names the file
    return _taxonomy_file(path, stat.st_mtime_ns, stat.st_size)


def _taxonomy_digest(path: str) -> str | None:
    """The hash of a user's taxonomy file for cache keys, read again only when the file changes."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest_of(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _digest_of(path: str, mtime_ns: int, size: int) -> str | None:
    return _hash_file(Path(path))[0]


@functools.lru_cache(maxsize=4)
def _taxonomy_file(path: str, mtime_ns: int, size: int) -> Taxonomy:
    return load_taxonomy(path)


def _process_chunk(args: tuple[Sequence[InputFile], Settings, str | None]) -> list[FileResult]:
    items, settings, cache_dir = args
    return [process_input(item, settings, cache_dir) for item in items]


def run_files(
    paths: Iterable[str | os.PathLike[str]],
    settings: Settings | None = None,
    jobs: int | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Iterator[FileResult]:
    """Process files in input order, in ``jobs`` processes (0 or less: all cores; default: ``settings.jobs``).

    Results stream back in the order of ``paths`` whatever ``jobs`` is, so a
    run with ``--jobs 2`` writes the same tables as one with ``--jobs 1``.
    ``on_result`` is called with each result as it arrives (progress bars).
    ``cache_dir`` makes the run resumable (see :func:`process_file`).

    ``paths`` are files (none is expanded): paths, or the
    :class:`~reportmine.inputs.InputFile` items of
    :func:`~reportmine.inputs.list_inputs`, whose keys the results keep.
    Each result's ``key`` is unique among them (file names, or paths where
    names clash; see :func:`~reportmine.inputs.keyed_inputs`).
    """
    cache = str(cache_dir) if cache_dir is not None else None
    settings = settings or Settings()
    items = keyed_inputs(paths)
    jobs = settings.but(jobs=jobs).workers if jobs is not None else settings.workers
    jobs = min(jobs, max(1, len(items)))
    if jobs == 1:
        for item in items:
            result = process_input(item, settings, cache)
            if on_result:
                on_result(result)
            yield result
        return
    chunks = [(items[i:i + _CHUNK_FILES], settings, cache) for i in range(0, len(items), _CHUNK_FILES)]
    with worker_pool(jobs) as pool:
        for batch in pool.map(_process_chunk, chunks):
            for result in batch:
                if on_result:
                    on_result(result)
                yield result


#: Seconds between a worker's checks that the process that started it is still alive.
_PARENT_POLL = 0.5


def _watch_parent(parent: int) -> None:
    """A worker's initializer: exit as soon as the run that started it is gone.

    A pool's workers otherwise outlive a main process killed with SIGKILL,
    holding their memory (and the output folder's lock) forever. Polling the
    parent works on every platform; Linux's PR_SET_PDEATHSIG would fire when
    the *thread* that forked the worker ends, which in a pool is not the run.
    """
    import threading

    close_inherited_locks()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="reportmine-parent-watch", daemon=True).start()


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with the run that started them (they poll it and exit when it is gone)."""
    return ProcessPoolExecutor(max_workers=jobs, initializer=_watch_parent, initargs=(os.getpid(),))


@functools.lru_cache(maxsize=1)
def _rule_files() -> tuple[dict[str, str], str]:
    """The ``version`` of every rule file in ``reportmine/data`` and a hash of all of them.

    A version is bumped by hand when a rule changes meaning; the hash changes with any edit, so
    two runs whose hashes agree used the same rules even where a bump was forgotten.
    """
    versions: dict[str, str] = {}
    digest = hashlib.sha256()
    for entry in sorted(resources.files("reportmine.data").iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".toml", ".txt")) and entry.is_file():
            data = entry.read_bytes()
            digest.update(entry.name.encode() + b"\0" + data)
            if entry.name.endswith(".toml"):
                version = tomllib.loads(data.decode("utf-8")).get("version")
                if version is not None:
                    versions[entry.name.removesuffix(".toml")] = str(version)
    return versions, digest.hexdigest()[:16]


def rule_versions(taxonomy: Taxonomy) -> dict[str, str]:
    """The versions of the rule sets a run applies, for ``run.json`` and the tables' metadata.

    ``rules`` hashes every rule file shipped in ``reportmine/data``; the others are declared
    versions: of the code, of each rule file, of the segmenter and the theme coder, and the
    taxonomy's ``name/version``.
    """
    declared, digest = _rule_files()
    return {"reportmine": __version__, "rules": digest, **{f"rules.{name}": v for name, v in declared.items()},
            "segmenter": SEGMENTER_VERSION, "coder": CODER_VERSION, "taxonomy": taxonomy.label}
