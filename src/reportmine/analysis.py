"""The main job: a corpus through every stage, compared, and written as one run (stages 1-10).

:func:`analyze` streams the corpus through stages 1-8 (:mod:`reportmine.runner`),
compares its groups (:mod:`reportmine.compare`) and returns an
:class:`Analysis`, which writes tables, comparison, graphs, the report and
``run.json`` into an output folder, published as a whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .compare import Comparison, compare, export_graphs, write_comparison
from .inputs import list_inputs
from .metadata import Manifest
from .model import FileResult
from .outputs import OutputRun
from .pipeline import rule_versions
from .report import render_report, write_report
from .runner import stream_parts
from .samples import sample_corpus
from .settings import Settings
from .store.files import StoredTables, copy_tables, finish_tables, publish_parts, write_tables_into
from .taxonomy import load_taxonomy


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
        settings: how the run was done (its ``group_by`` also names the groups of ``reportmine.duckdb``).
    """

    tables: Mapping[str, Any]
    comparison: Comparison
    summary: dict[str, Any]
    run_info: dict[str, Any]
    settings: Settings = field(default_factory=Settings)
    # The output folder claimed by analyze(out=...): its tables are there, unpublished until write().
    _run: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._run is not None:  # an analysis never written still lets go of its folder
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
        if isinstance(self.tables, StoredTables) and not self.tables.modified:
            written = copy_tables(self.tables.directory, folder)  # nothing to copy when streamed here
        else:
            written = write_tables_into(self.tables, folder, group_by=self.settings.group_by,
                                        versions=self.run_info.get("versions"))
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


def _add_comparison_to_duckdb(comparison: Comparison, database: Path) -> None:
    """Put the comparison tables into the run's DuckDB file as ``comparison_<name>`` (small tables: cheap)."""
    if not database.is_file():
        return
    import duckdb

    with duckdb.connect(str(database)) as con:
        for name, frame in comparison.tables().items():
            con.register("_comparison_frame", frame)
            con.execute(f'CREATE OR REPLACE TABLE "comparison_{name}" AS SELECT * FROM _comparison_frame')
            con.unregister("_comparison_frame")


def _finish_and_compare(staging: Path, folder: Path, keywords: list[str], settings: Settings,
                        versions: dict[str, str]) -> Comparison:
    """Write the flat tables and compare the corpus; with ``overlap``, both at once.

    The flat tables (CSV bytes joined, Parquet and DuckDB built in C, GIL
    released) and the comparison (mostly Python) need only the staged parts,
    so with more than one core they run side by side, the comparison reading
    the parts; the parts are published once both are done. The comparison is
    the same either way: the same rows in the same order.
    """
    if settings.jobs == 1:
        finish_tables(staging, folder, group_by=settings.group_by, versions=versions)
        # The stored tables, not dict(tables): compare reads only the columns it needs, batch by batch.
        return compare(StoredTables(folder), group_by=settings.group_by, keywords=keywords)
    with ThreadPoolExecutor(1) as pool:
        finishing = pool.submit(finish_tables, staging, folder, publish=False, group_by=settings.group_by,
                                versions=versions)
        try:
            comparison = compare(StoredTables(folder, parts_dir=staging), group_by=settings.group_by,
                                 keywords=keywords)
        finally:
            finishing.result()  # raises what finishing raised; waits for it either way
    publish_parts(staging, folder)
    return comparison


def analyze(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    *,
    meta: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    resume: bool = False,
    **changes: Any,
) -> Analysis:
    """Run the whole pipeline on a corpus and compare its hospitals.

    Args:
        paths: files or folders (default: the bundled sample corpus).
        settings: how the run is done (:class:`~reportmine.settings.Settings`: taxonomy, tokenizer,
            group_by, jobs, engine, scheduler, partition_bytes); default: ``Settings()``.
        meta: optional manifest CSV (file[, document] -> hospital, region, level, year, extras).
        out: the output folder: the run claims it at once (a second run into it
            fails, naming this one), streams the tables into a private run
            folder there, and ``analysis.write(out)`` publishes every output
            as a whole (see :mod:`reportmine.outputs`). Files under ``out``
            are never read as inputs. Default: a temporary folder removed with
            the analysis.
        on_result: called with each file's manifest fields as it is done (progress).
        cache_dir: keep each file's result here as soon as it is done, and
            reuse results already there (default with ``out``: ``OUT/.reportmine/cache``).
        overwrite: allow a non-empty ``out`` that reportmine did not write (see :meth:`Analysis.write`).
        resume: reuse the per-file results an unfinished run into ``out`` left (``--resume``).
        changes: fields of ``settings`` to change for this run (``jobs=2``, ``taxonomy="my.toml"``).

    Returns:
        An :class:`Analysis`; ``analysis.write(out_dir)`` writes every output.

    >>> analysis = analyze()  # doctest: +SKIP
    >>> analysis.documents[["doc_id", "kind", "hospital"]].head()  # doctest: +SKIP
    >>> analyze(["reports/"], out="out", engine="dask", scheduler="tcp://head:8786")  # doctest: +SKIP
    """
    started = time.perf_counter()
    settings = (settings or Settings()).but(**changes).check()
    if paths is None:
        paths = [sample_corpus()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    manifest = Manifest.load(meta) if meta else None
    files = list_inputs(paths, exclude=out)  # each with the key its ids are built on; never what OUT holds
    # The run's own taxonomy (a bad file stops the run here, before any work): its keywords are the
    # keyword graph's vocabulary.
    taxonomy = load_taxonomy(settings.taxonomy)
    versions = rule_versions(taxonomy)
    run = OutputRun.start(out, overwrite=overwrite, resume=resume) if out is not None else None
    if run is not None:
        folder = run.path
        cache_dir = run.cache if cache_dir is None else cache_dir
    else:
        folder = Path(tempfile.mkdtemp(prefix="reportmine-"))
    try:
        summary, staging = stream_parts(files, folder, settings, manifest=manifest, on_result=on_result,
                                        cache_dir=cache_dir)
        comparison = _finish_and_compare(staging, folder, taxonomy.keywords(), settings, versions)
    except BaseException:
        if run is not None:
            run.close()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    tables = StoredTables(folder, temporary=run is None)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return Analysis(tables, comparison, summary, _run_info(paths, meta, settings, versions), settings, run)


def _run_info(paths: Sequence[Any], meta: Any, settings: Settings, versions: dict[str, str]) -> dict[str, Any]:
    """What ``run.json`` and the report's Run table say of how the run was done."""
    return {
        "reportmine": __version__,
        "inputs": [str(p) for p in paths],
        "manifest": str(meta) if meta else None,
        "taxonomy": settings.taxonomy or "shipped",
        "jobs": settings.workers,   # 0 means all cores: say how many
        "engine": settings.engine,
        "scheduler": settings.scheduler,
        "group_by": settings.group_by,
        "tokenizer": settings.tokenizer,
        "versions": versions,
    }
