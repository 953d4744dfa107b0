"""A corpus run streamed to disk (stages 1-8): partitions of files, worker pools, table parts.

The inputs are cut into partitions of consecutive files. Stages 1-8 run per
partition, in a process pool or on a Dask cluster, each partition writing its
own table parts; only counts come back. Memory is bounded by the partition
size, and the tables depend on the inputs only, never on ``jobs`` or the
engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .compare import write_features
from .errors import ReportmineError, SettingsError
from .inputs import InputFile, keyed_inputs
from .metadata import Manifest
from .model import FileResult
from .outputs import OutputRun
from .pipeline import process_input, rule_versions, run_taxonomy, worker_pool
from .settings import PARTITION_BYTES, Settings
from .store.files import finish_tables, start_parts
from .store.rows import write_rows

#: A small corpus gets smaller partitions than :data:`~reportmine.settings.PARTITION_BYTES`, at least
#: this many of them down to _MIN_PARTITION_BYTES, so that every core has work.
_MIN_PARTITIONS = 16
_MIN_PARTITION_BYTES = 32_000


@dataclass(frozen=True, slots=True)
class Partition:
    """A run's unit of work: consecutive inputs whose tables become part ``index``."""

    index: int
    inputs: tuple[InputFile, ...]
    settings: Settings
    parts_dir: str
    cache_dir: str | None = None
    base: str | None = None  # folder relative inputs are read from (the client's, on a cluster)


@dataclass(frozen=True, slots=True)
class PartitionDone:
    """What a worker sends back: manifest fields of each file and row counts, never the rows."""

    index: int
    files: tuple[FileResult, ...]
    documents: int
    sections: int
    mentions: int


def _manifest_row(result: FileResult) -> FileResult:
    return replace(result, parsed=None, mentions=(), themes=None, metadata=())


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # it will fail with a named error when processed


def partition(files: Sequence[Any], partition_bytes: int | None,
              size_of: Callable[[str], int] | None = None) -> list[tuple[Any, ...]]:
    """Consecutive runs of inputs of about ``partition_bytes`` each; depends on the inputs only, never on jobs.

    ``files`` are paths or :class:`~reportmine.inputs.InputFile` items; the chunks hold them as they are.
    ``size_of(path)`` gives an input's bytes (default: its size on disk, 0 if it cannot be read).
    """
    sizes = [(size_of or _file_size)(os.fspath(f)) for f in files]
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


def tabulate_partition(
    part: Partition,
    manifest: Manifest | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> PartitionDone:
    """Stages 1-8 on one partition, in whichever process or cluster worker runs it; writes its table parts.

    Memory is bounded by the partition, not by its largest file: each file's
    result is dropped once its rows are built, and rows are written out in
    parts of ``settings.part_rows`` rows or ``settings.part_chars``
    characters of section text (one part unless the partition is huge).
    """
    # The comparison's passes over this partition's text, done here in parallel rather than after the run.
    # A taxonomy this worker cannot read has already failed every file by name; the comparison then makes
    # the passes itself (it uses the parts only when every partition wrote them).
    try:
        keywords = run_taxonomy(part.settings.taxonomy).keywords()
    except ReportmineError:
        keywords = None
    files: list[FileResult] = []

    def results() -> Iterator[FileResult]:  # one file's full result alive at a time
        for item in part.inputs:
            result = process_input(item, part.settings, part.cache_dir, part.base)
            files.append(_manifest_row(result))
            if on_result:
                on_result(files[-1])
            yield result

    def features(frames: Mapping[str, Any], name: str) -> None:  # keyed by the part's name, as its sections
        if keywords is not None:
            write_features(frames["sections"], part.parts_dir, name, keywords)

    counts = write_rows(results(), part.parts_dir, part.index, manifest, part_rows=part.settings.part_rows,
                        part_chars=part.settings.part_chars, on_part=features)
    return PartitionDone(part.index, tuple(files), counts["documents"], counts["sections"], counts["mentions"])


def _run_local(parts, manifest, jobs, on_result, collect) -> None:
    if jobs == 1 or len(parts) == 1:
        for part in parts:
            collect(tabulate_partition(part, manifest, on_result))
        return
    from concurrent.futures import as_completed

    with worker_pool(min(jobs, len(parts))) as pool:
        futures = [pool.submit(tabulate_partition, part, manifest) for part in parts]
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
        raise SettingsError("engine", "engine 'dask' needs dask.distributed: pip install 'reportmine[dask]'") from None
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
        futures = client.map(tabulate_partition, parts, manifest=manifest, pure=False)
        for future in as_completed(futures):
            done = future.result()
            future.release()
            for row in done.files if on_result else ():
                on_result(row)
            collect(done)


def tabulate(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    manifest: Manifest | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Stages 1-8 over a corpus, streamed: the tables go to ``out_dir`` part by part, never all in memory.

    The inputs are cut into partitions of consecutive files (about
    :data:`PARTITION_BYTES` of input each). A worker runs the per-file stages
    on one partition, builds its tables and writes them as
    ``OUT/tables/<name>/part-<index>.parquet`` (a partition too big for one
    part, such as one huge file, as ``part-<index>-0000`` …, see
    :func:`reportmine.store.rows.write_rows`); only each file's manifest
    fields and row counts come back. The flat files (``OUT/<name>.parquet``,
    ``.csv``, ``reportmine.duckdb``) are then assembled part by part. So
    memory depends on the partition size, not on the corpus, and the output
    depends on the inputs only: any ``jobs`` and either engine give
    byte-identical tables.

    Args:
        paths: the input files, in the order the tables list them.
        out_dir: output folder (on a cluster, a folder every worker can write to).
        settings: the per-file stages, taxonomy, tokenizer, ``jobs`` (processes, or LocalCluster
            workers for dask without a scheduler), ``engine``, ``scheduler``, ``partition_bytes``.
        manifest: a :class:`~reportmine.metadata.Manifest` of document metadata.
        on_result: called with each file's manifest fields (``parsed`` is
            ``None``) as its partition completes (per file with ``jobs=1``).
        cache_dir: per-file result cache, for resuming after a crash (see :func:`reportmine.pipeline.process_file`).
        changes: fields of ``settings`` to change for this run (``jobs=2``).

    Returns:
        Counts of the run: files, ok, failed, documents, sections, mentions, partitions.

    The tables are published in ``out_dir`` as a whole when complete (see
    :mod:`reportmine.outputs`): a reader, or a run killed at any moment, sees
    the previous tables or the new ones, never a mix.

    >>> tabulate(["corpus/002_79988078600ed0aa.txt"], "out", Settings(jobs=2))  # doctest: +SKIP
    {'files': 1, 'ok': 1, 'failed': 0, 'documents': 1, 'sections': 17, 'mentions': 40, 'partitions': 1}
    """
    with OutputRun.start(out_dir) as run:
        settings = (settings or Settings()).but(**changes)
        summary, staging = stream_parts(paths, run.path, settings, manifest=manifest,
                                        on_result=on_result, cache_dir=cache_dir)
        finish_tables(staging, run.path, group_by=settings.group_by, versions=_versions(settings))
        run.publish()
    return summary


def stream_parts(paths: Sequence[Any], out_dir: str | os.PathLike[str], settings: Settings, *,
                 manifest: Manifest | None = None, on_result: Callable[[FileResult], None] | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> tuple[dict[str, Any], Path]:
    """:func:`tabulate` up to the staged parts: the run's counts and the staging folder, not yet finished."""
    settings.check()
    jobs, engine = settings.workers, settings.engine
    out = Path(out_dir).absolute()  # workers may run elsewhere: every path they get is absolute
    out.mkdir(parents=True, exist_ok=True)
    staging = start_parts(out)
    cache = str(Path(cache_dir).absolute()) if cache_dir is not None else None
    base = os.getcwd() if engine == "dask" else None
    parts = [Partition(index, chunk, settings, str(staging), cache, base)
             for index, chunk in enumerate(partition(keyed_inputs(paths), settings.partition_bytes))]
    summary = dict.fromkeys(("files", "ok", "failed", "documents", "sections", "mentions"), 0)

    def collect(done: PartitionDone) -> None:  # counts only: the client holds nothing per file
        ok = sum(r.ok for r in done.files)
        for key, value in (("files", len(done.files)), ("ok", ok), ("failed", len(done.files) - ok),
                           ("documents", done.documents), ("sections", done.sections), ("mentions", done.mentions)):
            summary[key] += value

    if engine == "dask":
        _run_dask(parts, manifest, jobs, settings.scheduler, on_result, collect)
    else:
        _run_local(parts, manifest, jobs, on_result, collect)
    return {**summary, "partitions": len(parts)}, staging


def _versions(settings: Settings) -> dict[str, str] | None:
    """The run's rule versions; ``None`` when its taxonomy cannot be read (every file has then failed, by name)."""
    try:
        return rule_versions(run_taxonomy(settings.taxonomy))
    except ReportmineError:
        return None
