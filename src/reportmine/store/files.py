"""Files of a run: atomic writes, table parts, the flat tables and the DuckDB database, and reading them back.

Files are written in parts: each partition of a corpus run (or a set of
tables in memory) becomes ``OUT/tables/<name>/part-NNNNN.parquet`` (a
partition too big for one part, such as one huge file, becomes
``part-NNNNN-0000.parquet``, ``-0001`` …: see :func:`reportmine.store.rows.write_rows`), and the
flat ``OUT/<name>.parquet``/``.csv`` and ``OUT/reportmine.duckdb`` are
assembled from the parts one at a time, so no step holds a whole corpus,
nor all the rows of one file.
Every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..outputs import OutputRun, current_run
from ..safetext import CSV_LINE_END, spreadsheet_safe
from .query import rule_views
from .schemas import PARTS_DIR, SCHEMAS, arrow_schema, part_name

if TYPE_CHECKING:
    import pandas as pd

#: A run's parts while it goes on; renamed to PARTS_DIR only when every part is written.
_STAGING = ".tables.partial"
#: The previous run's parts, for the moment the new ones move in.
_RETIRED = ".tables.old"
#: Folder of the staging folder holding each part's rows as CSV, ``.csv/<name>/part-NNNNN.csv``.
CSV_PARTS = ".csv"
#: Key of the flat Parquet files' metadata holding the versions of the rules that made the rows (JSON).
VERSIONS_KEY = "reportmine"
#: Buffer pool of the DuckDB build, so its memory stays flat past it (on a 100 MB corpus: +170 MB at 128 MB,
#: +290 MB at 512 MB, +320 MB at DuckDB's default of 80% of RAM; 2.7-3.0 s either way).
_DUCKDB_MEMORY = "128MB"


def atomic_path(target: Path) -> Path:
    """A temporary file beside ``target``, renamed over it only once fully written."""
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    # mkstemp makes 0600 files; give the table the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


@contextmanager
def atomic_write(target: Path) -> Iterator[Path]:
    """Write to the yielded temporary path; it replaces ``target`` only if the block completes."""
    tmp = atomic_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def start_parts(out_dir: str | Path) -> Path:
    """A fresh staging folder ``<out_dir>/.tables.partial`` for the parts of a run.

    ``out_dir`` is a run's private folder (:class:`reportmine.outputs.OutputRun`), so what a killed run
    left there is discarded with the whole folder; only a staging folder of its own name is replaced.
    """
    staging = Path(out_dir) / _STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def write_part(tables: Mapping[str, pd.DataFrame], parts_dir: str | Path, index: int | str) -> None:
    """Write one partition's tables as ``<parts_dir>/<name>/part-<index>.parquet``.

    Part names come from the partition's index, never from the process that
    wrote it, so a retried or resumed partition overwrites its own part and
    any engine gives the same files. Each part is written atomically.
    ``index`` may also be a whole part name (:func:`part_name`: one of the
    parts of a partition :func:`write_rows` cut).

    The part's rows are also written as CSV (no header) under
    ``<parts_dir>/.csv/``: formatting CSV is the slowest part of writing the
    flat tables, and here it runs in the workers, in parallel;
    :func:`finish_tables` only joins the bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    stem = part_name(index) if isinstance(index, int) else index
    for name, frame in tables.items():
        if name not in SCHEMAS:
            raise ValueError(f"unknown table {name!r}: tables are {', '.join(SCHEMAS)}")
        schema = arrow_schema(name)
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False).replace_schema_metadata(
            schema.metadata)
        folder = Path(parts_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(folder / f"{stem}.parquet") as tmp:
            pq.write_table(table, tmp)
        csv_folder = Path(parts_dir) / CSV_PARTS / name
        csv_folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(csv_folder / f"{stem}.csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
            # Formatted from the Parquet round trip, as a reader of the part would see it.
            spreadsheet_safe(table.to_pandas()).to_csv(out, index=False, header=False, lineterminator=CSV_LINE_END)


def finish_tables(
    parts_dir: str | Path,
    out_dir: str | Path,
    formats: tuple[str, ...] = ("parquet", "csv", "duckdb"),
    *,
    publish: bool = True,
    group_by: str = "hospital",
    versions: Mapping[str, str] | None = None,
) -> dict[str, list[Path]]:
    """Assemble ``OUT/<name>.parquet``/``.csv`` and ``OUT/reportmine.duckdb`` from the parts, then publish the parts.

    Parts are read one at a time in index order, so memory depends on the
    size of a part, not of the corpus. Every file is first written under a
    temporary name; only when all are complete are they renamed into place,
    one after the other, and the staged parts replace ``OUT/tables``. A run
    killed before then leaves the previous tables as they were.

    The database also holds the views of :func:`reportmine.store.query.rule_views`
    (each document's group by ``group_by``, each section's primary theme).
    ``versions`` (the rule sets and taxonomy that made the rows, see
    :func:`reportmine.pipeline.rule_versions`) go into each flat Parquet file's
    metadata (key ``reportmine``, JSON) and the database's table ``reportmine_versions``.

    With ``publish=False`` the parts stay in ``parts_dir`` (readers such as
    :func:`reportmine.compare.compare` may still be reading them) until
    :func:`publish_parts` moves them.
    """
    out = Path(out_dir)
    parts = {name: sorted((Path(parts_dir) / name).glob("part-*.parquet"))
             for name in SCHEMAS if (Path(parts_dir) / name).is_dir()}
    written: dict[str, list[Path]] = {name: [] for name in parts}
    pending: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        pending.append((atomic_path(target), target))
        return pending[-1][0]

    # DuckDB and pyarrow release the GIL: a second thread builds the database and the Parquet files while this
    # one writes the CSV files (pandas, which holds it), so on two cores they cost no wall time. Each file is
    # written by one thread, from the parts in order, so the bytes are the same as written one after another.
    pool = ThreadPoolExecutor(1)
    try:
        jobs = []
        if "duckdb" in formats:
            jobs.append(pool.submit(_write_duckdb, parts, stage(out / "reportmine.duckdb"), group_by, versions))
        if "parquet" in formats:
            jobs += [pool.submit(_concat_parquet, name, files, stage(out / f"{name}.parquet"), versions)
                     for name, files in parts.items()]
        if "csv" in formats:
            for name, files in parts.items():
                _concat_csv(name, [(f, _csv_part(Path(parts_dir), name, f)) for f in files], stage(out / f"{name}.csv"))
        for job in jobs:
            job.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # the other thread may still be writing a temporary file
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        pool.shutdown(wait=True)
    for tmp, target in pending:
        os.replace(tmp, target)
    for name in parts:
        written[name] += [out / f"{name}.{suffix}" for suffix in ("parquet", "csv") if suffix in formats]
        written[name] += [out / "reportmine.duckdb"] if "duckdb" in formats else []
    if publish:
        publish_parts(Path(parts_dir), out)
    for name in parts:
        written[name].append(out / PARTS_DIR / name)
    return written


def _concat_parquet(name: str, parts: list[Path], tmp: Path, versions: Mapping[str, str] | None = None) -> None:
    import pyarrow.parquet as pq

    schema = arrow_schema(name)
    written = schema
    if versions:
        written = schema.with_metadata({**schema.metadata, VERSIONS_KEY: json.dumps(dict(versions), sort_keys=True)})
    with pq.ParquetWriter(tmp, written) as writer:
        for part in parts:  # one row group per part
            writer.write_table(pq.read_table(part, schema=schema))


def _csv_part(parts_dir: Path, name: str, parquet_part: Path) -> Path:
    return parts_dir / CSV_PARTS / name / f"{parquet_part.stem}.csv"


def _concat_csv(name: str, parts: list[tuple[Path, Path]], tmp: Path) -> None:
    """The header, then each part's CSV rows (``(parquet, csv)`` pairs), byte for byte."""
    import pandas as pd

    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        pd.DataFrame(columns=list(SCHEMAS[name])).to_csv(handle, index=False, lineterminator=CSV_LINE_END)
        for parquet_part, csv_part in parts:
            handle.flush()
            _append_rows(parquet_part, csv_part, handle)


def _append_rows(parquet_part: Path, csv_part: Path, handle: Any) -> None:
    try:
        rows = open(csv_part, "rb")
    except FileNotFoundError:  # a part staged without its CSV: formatted here instead
        import pyarrow.parquet as pq

        spreadsheet_safe(pq.read_table(parquet_part).to_pandas()).to_csv(handle, index=False, header=False,
                                                                          lineterminator=CSV_LINE_END)
        return
    with rows:
        shutil.copyfileobj(rows, handle.buffer, 1 << 20)


def _write_duckdb(parts: dict[str, list[Path]], tmp: Path, group_by: str,
                  versions: Mapping[str, str] | None = None) -> None:
    import duckdb

    tmp.unlink()  # duckdb creates the file itself
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET preserve_insertion_order = true")  # rows in part order, as in the other files
        # DuckDB's default buffer pool (80% of RAM) would grow with the corpus; it spills past this instead.
        con.execute(f"SET memory_limit = '{_DUCKDB_MEMORY}'")
        con.execute(f"SET temp_directory = '{tmp.parent / (tmp.name + '.spill')}'")
        for name, files in parts.items():
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(?)', [[str(f) for f in files]])
        if {"documents", "sections", "section_themes"} <= parts.keys():
            for view in rule_views(group_by):
                con.execute(view)
        if versions:
            con.execute("CREATE TABLE reportmine_versions (component VARCHAR, version VARCHAR)")
            con.executemany("INSERT INTO reportmine_versions VALUES (?, ?)", sorted(versions.items()))


def publish_parts(staging: str | Path, out: str | Path) -> None:
    """Move a run's staged parts to ``OUT/tables`` in one rename (the previous run's are removed)."""
    staging, out = Path(staging), Path(out)
    shutil.rmtree(staging / CSV_PARTS, ignore_errors=True)  # joined into OUT/<name>.csv: not published
    final, retired = out / PARTS_DIR, out / _RETIRED
    shutil.rmtree(retired, ignore_errors=True)
    if final.exists():
        os.replace(final, retired)
    os.replace(staging, final)  # a directory rename: the new parts appear all at once
    shutil.rmtree(retired, ignore_errors=True)


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    formats: tuple[str, ...] = ("parquet", "csv", "duckdb"),
    *,
    overwrite: bool = False,
) -> dict[str, list[Path]]:
    """Write every table as ``OUT/<name>.parquet``/``.csv``, all into ``OUT/reportmine.duckdb``, and as ``OUT/tables/``.

    The tables in memory become one part each (``OUT/tables/<name>/part-00000.parquet``);
    a streamed corpus run (:func:`reportmine.pipeline.tabulate`) writes the
    same layout with one part per partition (or sub-parts, see :func:`write_rows`). The tables are written into a
    private run folder and published as a whole (see :mod:`reportmine.outputs`),
    so a killed run never leaves a half-written table, and no file reportmine
    did not write is replaced (unless ``overwrite``).
    """
    with OutputRun.start(out_dir, overwrite=overwrite) as run:
        written = write_tables_into(tables, run.path, formats)
        run.publish()
    out = Path(out_dir)
    return {name: [out / path.relative_to(run.path) for path in paths] for name, paths in written.items()}


def write_tables_into(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    formats: tuple[str, ...] = ("parquet", "csv", "duckdb"),
    *,
    group_by: str = "hospital",
    versions: Mapping[str, str] | None = None,
) -> dict[str, list[Path]]:
    """:func:`write_tables` into a run's private folder, unpublished (for ``Analysis.write``)."""
    staging = start_parts(folder)
    write_part(tables, staging, 0)
    return finish_tables(staging, folder, formats, group_by=group_by, versions=versions)


def copy_tables(src_dir: str | Path, out_dir: str | Path) -> dict[str, list[Path]]:
    """Copy the tables a run wrote in ``src_dir`` (flat files, database, parts) to ``out_dir``, each atomically.

    Returns the tables' files in ``out_dir``, as :func:`write_tables` does
    (nothing is copied when both are the same folder).
    """
    src, out = Path(src_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    same = src.resolve() == out.resolve()
    written: dict[str, list[Path]] = {}
    for name in SCHEMAS:
        for suffix in ("parquet", "csv"):
            if (src / f"{name}.{suffix}").is_file():
                if not same:
                    with atomic_write(out / f"{name}.{suffix}") as tmp:
                        shutil.copyfile(src / f"{name}.{suffix}", tmp)
                written.setdefault(name, []).append(out / f"{name}.{suffix}")
    if (src / "reportmine.duckdb").is_file():
        if not same:
            with atomic_write(out / "reportmine.duckdb") as tmp:
                shutil.copyfile(src / "reportmine.duckdb", tmp)
        for paths in written.values():
            paths.append(out / "reportmine.duckdb")
    if (src / PARTS_DIR).is_dir():
        if not same:
            staging = start_parts(out)
            staging.rmdir()
            shutil.copytree(src / PARTS_DIR, staging)
            publish_parts(staging, out)
        for name, paths in written.items():
            paths.append(out / PARTS_DIR / name)
    return written


class StoredTables(Mapping):
    """The tables of an output folder, each read from ``OUT/<name>.parquet`` when first asked for.

    A corpus run streams its tables to disk; this lets :class:`~reportmine.pipeline.Analysis`
    still offer them as pandas DataFrames without holding the ones nobody
    asks for. Assigning a table (``tables["sections"] = frame``) keeps it in
    memory and sets ``modified``, so that writing the analysis writes the
    frames rather than copying the files.

    Attributes:
        directory: the output folder read from.
        modified: a table was assigned after loading.
    """

    def __init__(self, directory: str | Path, *, temporary: bool = False, parts_dir: str | Path | None = None) -> None:
        self.directory = Path(directory)
        # Set while a run's flat files are still being written: tables are read from its staged parts.
        self.parts_dir = Path(parts_dir) if parts_dir is not None else None
        self.modified = False
        self.temporary = temporary
        self._frames: dict[str, pd.DataFrame] = {}
        if temporary:  # the folder lives as long as the tables do
            weakref.finalize(self, shutil.rmtree, str(self.directory), True)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            if name not in SCHEMAS:
                raise KeyError(name)
            import pandas as pd

            if self.parts_dir is not None:
                frames = [pd.read_parquet(p) for p in sorted((self.parts_dir / name).glob("part-*.parquet"))]
                self._frames[name] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            else:
                self._frames[name] = pd.read_parquet(self.directory / f"{name}.parquet")
        return self._frames[name]

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        self._frames[name] = frame
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        yield from SCHEMAS
        yield from (name for name in self._frames if name not in SCHEMAS)

    def __len__(self) -> int:
        return len(SCHEMAS) + sum(name not in SCHEMAS for name in self._frames)

    def is_loaded(self, name: str) -> bool:
        """Table ``name`` is held in memory (read once already, or assigned), not only on disk."""
        return name in self._frames

    def copy(self) -> dict[str, pd.DataFrame]:
        """Every table, loaded, as a plain dict."""
        return {name: self[name] for name in self}


def load_tables(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read back the tables a run wrote (``OUT/<name>.parquet``), for notebooks and scripts.

    >>> tables = load_tables("reportmine-out")  # doctest: +SKIP
    >>> tables["sections"].groupby("primary_theme").size()  # doctest: +SKIP
    """
    import pandas as pd

    # The run the folder shows now, resolved once: a run published while these are read cannot mix in.
    out = current_run(out_dir) or Path(out_dir)
    missing = [name for name in SCHEMAS if not (out / f"{name}.parquet").is_file()]
    if missing:
        raise InputError(str(out_dir), f"not a reportmine output folder (missing {', '.join(missing)}.parquet)")
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in SCHEMAS}
