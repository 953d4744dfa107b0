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

A corpus run streams (:func:`tabulate`, used by :func:`analyze`): stages 1-8
run per partition of consecutive files, in a process pool or on a Dask
cluster, each partition writing its own table parts; only counts come back.
Memory is bounded by the partition size, and the tables depend on the inputs
only, never on ``jobs`` or the engine.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

from .errors import ReportmineError
from .model import Mention, ParsedFile

if TYPE_CHECKING:
    from .reading import InputFile

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
        key: the input's key in its run, which its ids are built on and the
            tables' ``file`` column holds (see :class:`reportmine.reading.InputFile`);
            ``None``: the file's name.
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
    key: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _hash_file(path: Path) -> tuple[str | None, int | None]:
    from .reading import read_bytes

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


def _cache_key(sha256: str, options: RunOptions) -> str:
    """Results depend on the bytes, the code and the options: all three name a cache entry."""
    from . import __version__

    taxonomy = ""
    if options.taxonomy:
        taxonomy = _taxonomy_digest(options.taxonomy) or options.taxonomy
    recipe = f"{__version__}|{_code_fingerprint()}|{','.join(options.stages)}|{taxonomy}"
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
    options: RunOptions | None = None,
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
    version and options is loaded instead of recomputed, and new ``ok``
    results are stored there as soon as they are done: a crashed run resumes
    where it stopped.

    ``name`` is the input as the user gave it, when ``path`` is where it is
    read from (a cluster worker reads a relative input under the client's
    folder); results, errors and tables say ``name``. Default: ``path``.
    ``key`` is the input's key in the run (see :class:`reportmine.reading.InputFile`),
    which its ids are built on. Default: the file's name.
    """
    from .parsing import parse_file

    options = options or RunOptions()
    started = time.perf_counter()
    source = str(path)
    name = source if name is None else name
    key = PurePath(name).name if key is None else key
    sha256, size = _hash_file(Path(path))
    entry = _cache_key(sha256, options) if cache_dir is not None and sha256 else None
    if entry is not None:
        cached = _load_cached(Path(cache_dir), entry, name)
        if cached is not None:
            return cached if cached.key == key else replace(cached, key=key)
    result = replace(_run_stages(path, name, options, sha256, size, started, parse_file), key=key)
    if result.error and source != name:
        result = replace(result, error=result.error.replace(source, name))
    if entry is not None and result.ok:
        _store_cached(Path(cache_dir), entry, result)
    return result


def _process_input(item: InputFile, options: RunOptions, cache_dir: str | None, base: str | None = None) -> FileResult:
    """:func:`process_file` on one input of a run; one whose listing found a problem fails at once, unread."""
    if item.problem is not None:
        return FileResult(item.path, "failed", f"{item.path}: {item.problem}", "parse", key=item.key)
    source = os.path.join(base, item.path) if base else item.path
    return process_file(source, options, cache_dir, name=item.path, key=item.key)


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
            from .themes import classify_parsed

            themes = classify_parsed(parsed, _taxonomy(options.taxonomy))
    except ReportmineError as exc:
        return FileResult(name, "failed", str(exc), stage, sha256, size, seconds=time.perf_counter() - started)
    except Exception as exc:
        error = f"{name}: internal error in {stage}: {type(exc).__name__}: {exc}"
        return FileResult(name, "failed", error, stage, sha256, size, seconds=time.perf_counter() - started)
    return FileResult(name, "ok", None, None, sha256, size, parsed, mentions, themes,
                      time.perf_counter() - started)


def _taxonomy(path: str | None) -> Any:
    """The run's taxonomy, a user's file read and validated once per process, again only when it changes.

    Loading it for every input cost about as much as classifying a small report.
    """
    from .themes import load_taxonomy

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
def _taxonomy_file(path: str, mtime_ns: int, size: int) -> Any:
    from .themes import load_taxonomy

    return load_taxonomy(path)


def _process_chunk(args: tuple[Sequence[InputFile], RunOptions, str | None]) -> list[FileResult]:
    items, options, cache_dir = args
    return [_process_input(item, options, cache_dir) for item in items]


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

    ``paths`` are files (none is expanded): paths, or the
    :class:`~reportmine.reading.InputFile` items of
    :func:`~reportmine.reading.list_inputs`, whose keys the results keep.
    Each result's ``key`` is unique among them (file names, or paths where
    names clash; see :func:`~reportmine.reading.keyed_inputs`).
    """
    from .reading import keyed_inputs

    cache = str(cache_dir) if cache_dir is not None else None
    options = options or RunOptions()
    items = keyed_inputs(paths)
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    jobs = min(jobs, max(1, len(items)))
    if jobs == 1:
        for item in items:
            result = _process_input(item, options, cache)
            if on_result:
                on_result(result)
            yield result
        return
    chunks = [(items[i:i + _CHUNK_FILES], options, cache) for i in range(0, len(items), _CHUNK_FILES)]
    with worker_pool(jobs) as pool:
        for batch in pool.map(_process_chunk, chunks):
            for result in batch:
                if on_result:
                    on_result(result)
                yield result


Engine = Literal["local", "dask"]
ENGINES: tuple[Engine, ...] = ("local", "dask")

#: Input bytes per partition of a streamed run (:func:`tabulate`): a worker
#: holds one file's result and one part's rows at a time (a partition past
#: tables.PART_ROWS rows is written in several parts), so this, not the
#: corpus, sets its memory (about 25 MB per MB of input with every stage,
#: measured on 1 MB of benchmarks/corpus_gen.py reports, on top of the ~400 MB
#: a worker's models take). Small corpora get smaller partitions, at least
#: _MIN_PARTITIONS of them down to _MIN_PARTITION_BYTES, so every core has work.
PARTITION_BYTES = 1_000_000
_MIN_PARTITION_BYTES = 32_000
_MIN_PARTITIONS = 16


@dataclass(frozen=True, slots=True)
class _Partition:
    """A run's unit of work: consecutive inputs whose tables become part ``index``."""

    index: int
    inputs: tuple[InputFile, ...]
    options: RunOptions
    parts_dir: str
    cache_dir: str | None = None
    base: str | None = None  # folder relative inputs are read from (the client's, on a cluster)


@dataclass(frozen=True, slots=True)
class _PartitionDone:
    """What a worker sends back: manifest fields of each file and row counts, never the rows."""

    index: int
    files: tuple[FileResult, ...]
    documents: int
    sections: int
    mentions: int


def _manifest_row(result: FileResult) -> FileResult:
    return replace(result, parsed=None, mentions=(), themes=None)


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # it will fail with a named error when processed


def _inputs(paths: Iterable[Any]) -> list[InputFile]:
    """A run's files as :class:`~reportmine.reading.InputFile` items whose keys are unique (see ``keyed_inputs``)."""
    from .reading import keyed_inputs

    return keyed_inputs(paths)


def _partition(files: Sequence[Any], partition_bytes: int | None) -> list[tuple[Any, ...]]:
    """Consecutive runs of inputs of about ``partition_bytes`` each; depends on the inputs only, never on jobs.

    ``files`` are paths or :class:`~reportmine.reading.InputFile` items; the chunks hold them as they are.
    """
    sizes = [_file_size(os.fspath(f)) for f in files]
    target = partition_bytes or min(PARTITION_BYTES, max(_MIN_PARTITION_BYTES, sum(sizes) // _MIN_PARTITIONS))
    chunks: list[tuple[str, ...]] = []
    current: list[str] = []
    filled = 0
    for path, size in zip(files, sizes, strict=True):
        current.append(path)
        filled += size
        if filled >= target:
            chunks.append(tuple(current))
            current, filled = [], 0
    if current or not chunks:  # an empty corpus still gets (empty) tables
        chunks.append(tuple(current))
    return chunks


def _tabulate_partition(
    part: _Partition,
    manifest: Any = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> _PartitionDone:
    """Stages 1-8 on one partition, in whichever process or cluster worker runs it; writes its table parts.

    Memory is bounded by the partition, not by its largest file: each file's
    result is dropped once its rows are built, and rows are written out in
    parts of :data:`~reportmine.tables.PART_ROWS` rows or :data:`~reportmine.tables.PART_CHARS`
    characters of section text (one part unless the partition is huge).
    """
    from . import tables
    from .compare import write_features

    # The comparison's passes over this partition's text, done here in parallel rather than after the run.
    # A taxonomy this worker cannot read has already failed every file by name; the comparison then makes
    # the passes itself (it uses the parts only when every partition wrote them).
    try:
        keywords = _taxonomy(part.options.taxonomy).keywords()
    except ReportmineError:
        keywords = None
    files: list[FileResult] = []

    def results() -> Iterator[FileResult]:  # one file's full result alive at a time
        for item in part.inputs:
            result = _process_input(item, part.options, part.cache_dir, part.base)
            files.append(_manifest_row(result))
            if on_result:
                on_result(files[-1])
            yield result

    def features(frames: Mapping[str, Any], name: str) -> None:  # keyed by the part's name, as its sections
        if keywords is not None:
            write_features(frames["sections"], part.parts_dir, name, keywords)

    counts = tables.write_rows(results(), part.parts_dir, part.index, manifest, part_rows=tables.PART_ROWS,
                               part_chars=tables.PART_CHARS, on_part=features)
    return _PartitionDone(part.index, tuple(files), counts["documents"], counts["sections"], counts["mentions"])


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

    from .outputs import close_inherited_locks

    close_inherited_locks()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="reportmine-parent-watch", daemon=True).start()


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with the run that started them (see :func:`_watch_parent`)."""
    return ProcessPoolExecutor(max_workers=jobs, initializer=_watch_parent, initargs=(os.getpid(),))


def _run_local(parts, manifest, jobs, on_result, collect) -> None:
    if jobs == 1 or len(parts) == 1:
        for part in parts:
            collect(_tabulate_partition(part, manifest, on_result))
        return
    from concurrent.futures import as_completed

    with worker_pool(min(jobs, len(parts))) as pool:
        futures = [pool.submit(_tabulate_partition, part, manifest) for part in parts]
        try:
            for future in as_completed(futures):
                done = future.result()
                for row in done.files if on_result else ():
                    on_result(row)
                collect(done)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _run_dask(parts, manifest, jobs, scheduler, on_result, collect) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ReportmineError("engine 'dask' needs dask.distributed: pip install 'reportmine[dask]'") from None
    import logging
    from contextlib import ExitStack

    with ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler))
            except (OSError, TimeoutError) as exc:
                raise ReportmineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0", silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        if manifest is not None:
            manifest = client.scatter(manifest, broadcast=True)  # once per worker, not once per task
        futures = client.map(_tabulate_partition, parts, manifest=manifest, pure=False)
        for future in as_completed(futures):
            done = future.result()
            future.release()
            for row in done.files if on_result else ():
                on_result(row)
            collect(done)


def tabulate(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    options: RunOptions | None = None,
    manifest: Any = None,
    jobs: int = 1,
    engine: Engine = "local",
    scheduler: str | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    partition_bytes: int | None = None,
) -> dict[str, Any]:
    """Stages 1-8 over a corpus, streamed: the tables go to ``out_dir`` part by part, never all in memory.

    The inputs are cut into partitions of consecutive files (about
    :data:`PARTITION_BYTES` of input each). A worker runs the per-file stages
    on one partition, builds its tables and writes them as
    ``OUT/tables/<name>/part-<index>.parquet`` (a partition too big for one
    part, such as one huge file, as ``part-<index>-0000`` …, see
    :func:`reportmine.tables.write_rows`); only each file's manifest
    fields and row counts come back. The flat files (``OUT/<name>.parquet``,
    ``.csv``, ``reportmine.duckdb``) are then assembled part by part. So
    memory depends on the partition size, not on the corpus, and the output
    depends on the inputs only: any ``jobs`` and either engine give
    byte-identical tables.

    Args:
        paths: the input files, in the order the tables list them.
        out_dir: output folder (on a cluster, a folder every worker can write to).
        options: the per-file stages to run.
        manifest: a :class:`~reportmine.metadata.Manifest` of document metadata.
        jobs: processes (local) or LocalCluster workers (dask without
            ``scheduler``); 0 or less: all cores.
        engine: ``local`` (a process pool) or ``dask`` (dask.distributed).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``);
            without it, ``dask`` starts a LocalCluster of ``jobs`` workers.
        on_result: called with each file's manifest fields (``parsed`` is
            ``None``) as its partition completes (per file with ``jobs=1``).
        cache_dir: per-file result cache, for resuming after a crash (see :func:`process_file`).
        partition_bytes: input bytes per partition (default: see :data:`PARTITION_BYTES`).

    Returns:
        Counts of the run: files, ok, failed, documents, sections, mentions, partitions.

    The tables are published in ``out_dir`` as a whole when complete (see
    :mod:`reportmine.outputs`): a reader, or a run killed at any moment, sees
    the previous tables or the new ones, never a mix.

    >>> tabulate(["corpus/002_79988078600ed0aa.txt"], "out", jobs=2)  # doctest: +SKIP
    {'files': 1, 'ok': 1, 'failed': 0, 'documents': 1, 'sections': 17, 'mentions': 40, 'partitions': 1}
    """
    from .outputs import OutputRun
    from .tables import finish_tables

    with OutputRun.start(out_dir) as run:
        summary, staging = _stream_parts(paths, run.path, options=options, manifest=manifest, jobs=jobs,
                                         engine=engine, scheduler=scheduler, on_result=on_result,
                                         cache_dir=cache_dir, partition_bytes=partition_bytes)
        finish_tables(staging, run.path)
        run.publish()
    return summary


def _stream_parts(paths, out_dir, *, options, manifest, jobs, engine, scheduler, on_result, cache_dir,
                  partition_bytes=None) -> tuple[dict[str, Any], Path]:
    """:func:`tabulate` up to the staged parts: the run's counts and the staging folder, not yet finished."""
    from .tables import start_parts

    if engine not in ENGINES:
        raise ReportmineError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if scheduler and engine != "dask":
        raise ReportmineError("a scheduler address needs engine 'dask'")
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    out = Path(out_dir).absolute()  # workers may run elsewhere: every path they get is absolute
    out.mkdir(parents=True, exist_ok=True)
    staging = start_parts(out)
    cache = str(Path(cache_dir).absolute()) if cache_dir is not None else None
    base = os.getcwd() if engine == "dask" else None
    options = options or RunOptions()
    parts = [_Partition(index, chunk, options, str(staging), cache, base)
             for index, chunk in enumerate(_partition(_inputs(paths), partition_bytes))]
    summary = dict.fromkeys(("files", "ok", "failed", "documents", "sections", "mentions"), 0)

    def collect(done: _PartitionDone) -> None:  # counts only: the client holds nothing per file
        ok = sum(r.ok for r in done.files)
        for key, value in (("files", len(done.files)), ("ok", ok), ("failed", len(done.files) - ok),
                           ("documents", done.documents), ("sections", done.sections), ("mentions", done.mentions)):
            summary[key] += value

    if engine == "dask":
        _run_dask(parts, manifest, jobs, scheduler, on_result, collect)
    else:
        _run_local(parts, manifest, jobs, on_result, collect)
    return {**summary, "partitions": len(parts)}, staging


@dataclass
class Analysis:
    """A corpus analysis: tables, comparisons and a summary, ready to explore or write.

    Attributes:
        tables: the tidy tables of :mod:`reportmine.tables` (``files``,
            ``documents``, ``sections``, ``mentions``, ``section_themes``) as
            pandas DataFrames; after :func:`analyze`, a
            :class:`~reportmine.tables.StoredTables` reading each from the
            folder the run streamed it to.
        comparison: the :class:`reportmine.compare.Comparison` of the corpus.
        summary: counts and timings of the run (files, ok, failed, documents,
            sections, mentions, partitions, seconds).
        run_info: versions and settings, written beside every output.
    """

    tables: Mapping[str, Any]
    comparison: Any
    summary: dict[str, Any]
    run_info: dict[str, Any]
    # The output folder claimed by analyze(out=...): its tables are there, unpublished until write().
    _run: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._run is not None:  # an analysis never written still lets go of its folder
            import weakref

            weakref.finalize(self, self._run.close)

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

    def write(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> dict[str, list[Path]]:
        """Write tables (Parquet, CSV, DuckDB), comparison tables, graphs (GEXF, GraphML), the report and run.json.

        The comparison's tables go to ``OUT/comparison/<name>.csv`` and
        ``.parquet`` and, where the tables have a DuckDB file, into it as
        ``comparison_<name>``.

        Every output is written into a private run folder and published in
        ``out_dir`` as a whole (see :mod:`reportmine.outputs`): a reader, or a
        run killed at any moment, sees the previous complete run or this one.
        Tables :func:`analyze` streamed to ``out_dir`` are published as they
        are; streamed elsewhere, they are copied; tables in memory are written.

        Args:
            out_dir: the output folder.
            overwrite: write into a non-empty folder reportmine did not write,
                replacing files at the outputs' names (nothing else is touched).

        Raises:
            reportmine.outputs.OutputError: ``out_dir`` cannot be used (it says why).
        """
        from .outputs import OutputRun
        from .tables import StoredTables

        own = self._run
        if own is not None and (own.published or own.out.resolve() != Path(out_dir).resolve()):
            own = None
        run = own or OutputRun.start(out_dir, overwrite=overwrite)
        try:
            written = self._write_run(run.path)
            run.publish()
        finally:
            run.close()
        if isinstance(self.tables, StoredTables) and not self.tables.modified and not self.tables.temporary:
            self.tables.directory = run.path  # the run this analysis read from is replaced by the one just published
        out = Path(out_dir)
        return {key: [out / Path(p).relative_to(run.path) for p in paths] for key, paths in written.items()}

    def _write_run(self, folder: Path) -> dict[str, list[Path]]:
        import json

        from .compare import export_graphs, write_comparison
        from .report import render_report, write_report
        from .tables import StoredTables, copy_tables, write_tables_into

        if isinstance(self.tables, StoredTables) and not self.tables.modified:
            written = copy_tables(self.tables.directory, folder)  # nothing to copy when streamed here
        else:
            written = write_tables_into(self.tables, folder)
        written["comparison"] = write_comparison(self.comparison, folder / "comparison")
        _add_comparison_to_duckdb(self.comparison, folder / "reportmine.duckdb")
        written["graphs"] = list(export_graphs(self.comparison.graphs, folder / "graphs"))
        # The tables themselves, not dict(tables): the report reads what it needs from their Parquet files.
        html = render_report(self.tables, self.comparison, title="reportmine report", run_info=self.run_info)
        written["report"] = [write_report(html, folder)]
        target = folder / "run.json"
        target.write_text(json.dumps({"summary": self.summary, "run_info": self.run_info}, ensure_ascii=False,
                                     indent=1, default=str) + "\n", "utf-8")
        written["run"] = [target]
        return written


def _add_comparison_to_duckdb(comparison: Any, database: Path) -> None:
    """Put the comparison tables into the run's DuckDB file as ``comparison_<name>`` (small tables: cheap)."""
    if not database.is_file():
        return
    import duckdb

    with duckdb.connect(str(database)) as con:
        for name, frame in comparison.tables().items():
            con.register("_comparison_frame", frame)
            con.execute(f'CREATE OR REPLACE TABLE "comparison_{name}" AS SELECT * FROM _comparison_frame')
            con.unregister("_comparison_frame")


def _finish_and_compare(staging: Path, folder: Path, keywords: list[str], *, overlap: bool) -> Any:
    """Write the flat tables and compare the corpus; with ``overlap``, both at once.

    The flat tables (CSV bytes joined, Parquet and DuckDB built in C, GIL
    released) and the comparison (mostly Python) need only the staged parts,
    so with more than one core they run side by side, the comparison reading
    the parts; the parts are published once both are done. The comparison is
    the same either way: the same rows in the same order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .compare import compare
    from .tables import StoredTables, finish_tables, publish_parts

    if not overlap:
        finish_tables(staging, folder)
        # The stored tables, not dict(tables): compare reads only the columns it needs, batch by batch.
        return compare(StoredTables(folder), keywords=keywords)
    with ThreadPoolExecutor(1) as pool:
        finishing = pool.submit(finish_tables, staging, folder, publish=False)
        try:
            comparison = compare(StoredTables(folder, parts_dir=staging), keywords=keywords)
        finally:
            finishing.result()  # raises what finishing raised; waits for it either way
    publish_parts(staging, folder)
    return comparison


def analyze(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    *,
    meta: str | os.PathLike[str] | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    engine: Engine = "local",
    scheduler: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> Analysis:
    """Run the whole pipeline on a corpus and compare its hospitals.

    Args:
        paths: files or folders (default: the bundled sample corpus).
        meta: optional manifest CSV (file[, document] -> hospital, region, level, year, extras).
        taxonomy: optional theme taxonomy TOML (default: the shipped one).
        jobs: worker processes for the per-file stages (0: all cores).
        on_result: called with each file's manifest fields as it is done (progress).
        cache_dir: keep each file's result here as soon as it is done, and
            reuse results already there (default with ``out``: ``OUT/.reportmine/cache``).
        out: the output folder: the run claims it at once (a second run into it
            fails, naming this one), streams the tables into a private run
            folder there, and ``analysis.write(out)`` publishes every output
            as a whole (see :mod:`reportmine.outputs`). Files under ``out``
            are never read as inputs. Default: a temporary folder removed with
            the analysis.
        engine: ``local`` (process pool) or ``dask`` (dask.distributed cluster).
        scheduler: Dask scheduler address; without it ``dask`` starts a LocalCluster of ``jobs`` workers.
        overwrite: allow a non-empty ``out`` that reportmine did not write (see :meth:`Analysis.write`).
        resume: reuse the per-file results an unfinished run into ``out`` left (``--resume``).

    Returns:
        An :class:`Analysis`; ``analysis.write(out_dir)`` writes every output.

    >>> analysis = analyze()  # doctest: +SKIP
    >>> analysis.documents[["doc_id", "kind", "hospital"]].head()  # doctest: +SKIP
    >>> analyze(["reports/"], out="out", engine="dask", scheduler="tcp://head:8786")  # doctest: +SKIP
    """
    import shutil
    import tempfile

    from . import __version__
    from .metadata import Manifest
    from .reading import list_inputs
    from .samples import sample_corpus
    from .tables import StoredTables

    started = time.perf_counter()
    if paths is None:
        paths = [sample_corpus()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    manifest = Manifest.load(meta) if meta else None
    files = list_inputs(paths, exclude=out)  # each with the key its ids are built on; never what OUT holds
    options = RunOptions(taxonomy=str(taxonomy) if taxonomy else None)
    from .themes import load_taxonomy

    # The run's own taxonomy (a bad file stops the run here, before any work): its keywords are the
    # keyword graph's vocabulary.
    keywords = load_taxonomy(options.taxonomy).keywords()
    run = None
    if out is not None:
        from .outputs import OutputRun

        run = OutputRun.start(out, overwrite=overwrite, resume=resume)
        folder = run.path
        cache_dir = run.cache if cache_dir is None else cache_dir
    else:
        folder = Path(tempfile.mkdtemp(prefix="reportmine-"))
    try:
        summary, staging = _stream_parts(files, folder, options=options, manifest=manifest, jobs=jobs,
                                         engine=engine, scheduler=scheduler, on_result=on_result, cache_dir=cache_dir)
        comparison = _finish_and_compare(staging, folder, keywords, overlap=jobs != 1)
    except BaseException:
        if run is not None:
            run.close()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    tables = StoredTables(folder, temporary=run is None)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    run_info = {
        "reportmine": __version__,
        "inputs": [str(p) for p in paths],
        "manifest": str(meta) if meta else None,
        "taxonomy": str(taxonomy) if taxonomy else "shipped",
        "jobs": jobs if jobs > 0 else os.cpu_count() or 1,   # 0 means all cores: say how many
        "engine": engine,
        "scheduler": scheduler,
    }
    return Analysis(tables, comparison, summary, run_info, run)
