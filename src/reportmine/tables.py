"""Stage 8, tabulate: per-file results -> tidy tables, and tables -> files.

In: :class:`~reportmine.pipeline.FileResult` objects (and the document
metadata of :mod:`reportmine.metadata`). Out: pandas DataFrames, one row per
thing, with provenance columns (``file``, line numbers, offsets) on every
row, written as Parquet, CSV and one DuckDB database.

Files are written in parts: each partition of a corpus run (or a set of
tables in memory) becomes ``OUT/tables/<name>/part-NNNNN.parquet`` (a
partition too big for one part, such as one huge file, becomes
``part-NNNNN-0000.parquet``, ``-0001`` …: see :func:`write_rows`), and the
flat ``OUT/<name>.parquet``/``.csv`` and ``OUT/reportmine.duckdb`` are
assembled from the parts one at a time, so no step holds a whole corpus,
nor all the rows of one file.
Every file is written under a temporary name and renamed into place.

Tables and their keys (see :data:`SCHEMAS` for every column):

- ``files``: the run's manifest, every input with ``status`` ok/failed and its error;
- ``documents``: one row per report (``doc_id``), with hospital/region/year and their sources;
- ``sections``: one row per section (``section_id``), with its outline path and text;
- ``mentions``: one row per extracted mention (``mention_id``);
- ``section_themes``: long form, section × theme × score × is_primary.

Ids are unique in a run and stable across runs of the same inputs: they
are built on each input's key, its path below the folder named on the
command line (``hospitalA/2016.txt``) or, for a file named directly, its
name (see :class:`reportmine.reading.InputFile`); the ``file`` columns hold
it. ``doc_id`` is ``<key>#<document index>``, ``section_id`` is
``<doc_id>@L<line>``, ``mention_id`` is ``<doc_id or key>:<start>``.
Rows are ordered by input order, then position in the file, and no table
holds a time, so the same input gives byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .safetext import CSV_LINE_END, spreadsheet_safe, storable

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .metadata import DocumentMeta, Manifest
    from .pipeline import FileResult

#: Columns of every table, in order, with what each holds.
SCHEMAS: dict[str, dict[str, str]] = {
    "files": {
        "file": "the file's key: its path below the folder named (POSIX), or its name",
        "path": "path as given",
        "status": "ok or failed",
        "error": "why it failed, naming the file; empty when ok",
        "stage": "stage that failed (parse, extract, classify)",
        "sha256": "hash of the file's bytes",
        "bytes": "size on disk",
        "encoding": "codec that decoded it (``/replaced``: a few damaged bytes read as U+FFFD)",
        "lines": "physical lines",
        "documents": "reports found",
        "sections": "sections found",
        "mentions": "mentions extracted",
    },
    "documents": {
        "doc_id": "<file key>#<index>",
        "file": "the file's key: its path below the folder named (POSIX), or its name",
        "path": "path as given",
        "doc_index": "position of the report in its file",
        "title": "report title, where the file gives one",
        "title_line": "line of the title",
        "start_line": "first line",
        "end_line": "last line",
        "start": "character offset of the first line",
        "end": "character offset where the last line ends",
        "kind": "summary, plan or other",
        "scope": "hospital, department, individual, authority or off_domain (theme stage)",
        "primary_theme": "the document's dominant theme (theme stage)",
        "themes": "dominant themes, most important first, joined by ';'",
        "hospital": "issuing hospital or authority",
        "hospital_source": "manifest, signature, meta, title, body or unknown",
        "region": "region of the issuer",
        "region_source": "where the region came from",
        "hospital_level": "hospital level (三级, 二甲 …)",
        "hospital_level_source": "where the hospital level came from",
        "year": "the report's year",
        "year_source": "where the year came from",
        "sections": "number of sections",
        "chars": "characters in the document",
        "meta_lines": "metadata lines, joined by ';'",
    },
    "sections": {
        "section_id": "<doc_id>@L<line>",
        "doc_id": "document of the section",
        "file": "the file's key (see files.file)",
        "line": "line of the heading",
        "end_line": "last line of the section's extent",
        "start": "character offset of the marker",
        "end": "character offset where the extent ends",
        "marker": "numbering marker as written",
        "family": "marker family (cn, paren_cn, arabic …)",
        "number": "the marker's number",
        "level": "depth in the document's outline",
        "outline": "chain of markers from the root, e.g. 二/（三）/2",
        "parent_id": "section_id of the parent, empty at level 1",
        "title": "heading as an outline shows it",
        "inline_body": "body text runs on after the title on the heading line",
        "primary_theme": "the section's primary theme (theme stage)",
        "chars": "characters in the section's extent",
        "body": "the section's own body text (without subsections)",
    },
    "mentions": {
        "mention_id": "<doc_id or file>:<start>",
        "doc_id": "document of the mention",
        "section_id": "innermost section holding it, empty outside sections",
        "file": "the file's key (see files.file)",
        "line": "1-based line",
        "col_start": "offset within the line",
        "col_end": "end offset within the line",
        "start": "character offset in the file",
        "end": "end offset in the file",
        "type": "quantity, percent, money, date, period, frequency, activity or document",
        "text": "the mention as written",
        "value": "normalised value (base units; percent on a 0-100 scale)",
        "low": "low end of a range",
        "high": "high end of a range",
        "unit": "unit as written",
        "qualifier": "approx, at_least, at_most, less_than, more_than",
        "masked": "a part is hidden (20xx, __, ××)",
        "year": "date: year", "month": "date: month", "day": "date: day",
        "hour": "date: hour", "minute": "date: minute", "second": "date: second",
        "end_year": "date span: end year", "end_month": "date span: end month", "end_day": "date span: end day",
        "period": "named relative period (this_year, first_half …)",
        "resolved_year": "calendar year a yearless date or period refers to",
        "per": "frequency: per day, week, month …",
        "count": "frequency: times per period",
        "name": "activity or document name",
    },
    "section_themes": {
        "section_id": "section",
        "doc_id": "document",
        "file": "the file's key (see files.file)",
        "line": "line of the section's heading",
        "theme": "theme id",
        "score": "classifier score",
        "rank": "1 for the primary theme, then 2, 3 …",
        "is_primary": "theme is the section's primary theme",
    },
}
TABLE_NAMES = tuple(SCHEMAS)


def doc_id(key: str, index: int) -> str:
    """``<key>#<index>``: ``key`` is the file's key in its run (see :class:`reportmine.reading.InputFile`)."""
    return f"{key}#{index}"


def section_id(key: str, index: int, line: int) -> str:
    return f"{doc_id(key, index)}@L{line}"


def file_key(result: FileResult) -> str:
    """The key a result's rows are built on: its run's key, else (a result made without one) its file name."""
    return result.key if getattr(result, "key", None) else PurePath(result.path).name


#: Rows (all tables together) a streamed run holds before writing them out as a part of their own
#: (:func:`write_rows`): a 1 MB partition of ordinary reports holds about 15,000, so it stays one part, while
#: one huge file (or a partition of dense tables) is written in parts of this size instead of all at once.
PART_ROWS = 20_000
#: Characters of section text (titles and bodies) a part holds at most (the rows, the CSV and the comparison's
#: features of a part all grow with them). A 1 MB partition of ordinary reports holds about 330,000.
PART_CHARS = 600_000


@dataclass
class _Rows:
    """Rows being built; with ``limit``, ``spill`` writes them out (and clears them) before they pass it.

    Each row held as a tuple of its columns' values, not as the dict it comes as: a mentions row as a dict
    took 1.1 KB, as a tuple 300 bytes.
    """

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {name: [] for name in SCHEMAS})
    limit: int | None = None
    spill: Callable[[_Rows], None] | None = None
    held: int = 0
    char_limit: int | None = None
    chars: int = 0

    def add(self, name: str, row: dict[str, Any]) -> None:
        chars = len(row["title"] or "") + len(row["body"] or "") if name == "sections" else 0
        if self.spill is not None and self.held and (
                (self.limit is not None and self.held >= self.limit)
                or (self.char_limit is not None and chars and self.chars + chars > self.char_limit)):
            self.spill(self)  # only when another row comes: a spilled part is never the last one
        self.rows[name].append(tuple(map(row.get, SCHEMAS[name])))
        self.held += 1
        self.chars += chars

    def frames(self) -> dict[str, pd.DataFrame]:
        import pandas as pd

        return {name: _typed(pd.DataFrame(self.rows[name], columns=list(columns)), name)
                for name, columns in SCHEMAS.items()}

    def clear(self) -> None:
        for rows in self.rows.values():
            rows.clear()
        self.held = self.chars = 0


def _theme_lookup(themes: Any) -> tuple[dict[tuple[int, int], list[Any]], dict[int, tuple[str | None, list[Any]]]]:
    """Section (doc index, line) -> ThemeScores, and doc index -> (scope, ThemeScores).

    Works on the classification object of :mod:`reportmine.themes` through its
    JSON form, so that the tables do not depend on its internals.
    """
    sections: dict[tuple[int, int], list[Any]] = {}
    documents: dict[int, tuple[str | None, list[Any]]] = {}
    if themes is None:
        return sections, documents
    if not isinstance(themes, dict) and all(hasattr(doc, "sections") for doc in getattr(themes, "documents", ())):
        # The classification's own objects: its JSON form copies every section of the parse (870 bytes
        # each, 140 MB for one 50 MB report). Scores are rounded as that form rounds them.
        for index, doc in enumerate(themes.documents):
            documents[index] = (doc.scope, list(doc.themes))
            for section in doc.sections:  # a line held twice: the last, as the JSON form has it
                sections[(index, section.line)] = section.themes
        return sections, documents
    data = themes.to_dict() if hasattr(themes, "to_dict") else themes
    for index, doc in enumerate(data.get("documents", [])):
        documents[index] = (doc.get("scope"), doc.get("themes") or [])
        stack = list(doc.get("sections") or [])
        while stack:
            section = stack.pop()
            sections[(index, section["line"])] = section.get("themes") or []
            stack.extend(section.get("children") or [])
    return sections, documents


def _mention_fields(mention: Any) -> tuple[str, ...]:
    """The mentions columns ``mention`` has as attributes (asking each mention for all 31 cost a second per 300,000)."""
    from dataclasses import is_dataclass

    if is_dataclass(mention):
        return _fields_of(type(mention))
    return tuple(key for key in SCHEMAS["mentions"] if hasattr(mention, key))


@cache
def _fields_of(kind: type) -> tuple[str, ...]:
    from dataclasses import fields

    names = {f.name for f in fields(kind)}
    return tuple(key for key in SCHEMAS["mentions"] if key in names)


def _theme_id(item: Any) -> str:
    return item["id"] if isinstance(item, dict) else getattr(item, "id", item)


def _theme_score(item: Any) -> float | None:
    if isinstance(item, dict):
        return item.get("score")
    score = getattr(item, "score", None)
    return round(score, 4) if score is not None else None  # as ThemeScore.to_dict gives it


def build_tables(
    results: Iterable[FileResult],
    manifest: Manifest | None = None,
) -> dict[str, pd.DataFrame]:
    """Tidy tables from per-file results (see :data:`SCHEMAS`)."""
    from .metadata import describe_document

    acc = _Rows()
    for result in results:
        _add_file(acc, result, manifest, describe_document)
    return acc.frames()


def write_rows(
    results: Iterable[FileResult],
    parts_dir: str | Path,
    index: int,
    manifest: Manifest | None = None,
    *,
    part_rows: int | None = PART_ROWS,
    part_chars: int | None = PART_CHARS,
    on_part: Callable[[dict[str, pd.DataFrame], str], None] | None = None,
) -> dict[str, int]:
    """The tables of ``results`` written as part ``index`` of a streamed run, never all held at once.

    ``results`` is read lazily. Rows are written out every ``part_rows``
    rows (all tables together), or before the sections in hand would hold
    more than ``part_chars`` characters of text (``None``: no limit): a partition whose
    rows fit stays one part, ``part-<index>``, as :func:`write_part` writes it;
    one that does not becomes ``part-<index>-0000``, ``-0001`` … in row
    order (see :func:`part_name`), each part cut at the same row of every
    table whatever process writes it. ``on_part(frames, name)`` is called
    with each part's tables once written (the comparison's features are
    keyed by the part's name). Returns the rows written per table.
    """
    from .metadata import describe_document

    counts = dict.fromkeys(SCHEMAS, 0)
    spilled = 0

    def flush(acc: _Rows, last: bool = False) -> None:
        nonlocal spilled
        frames = acc.frames()
        acc.clear()
        name = part_name(index, None if last and not spilled else spilled)
        write_part(frames, parts_dir, name)
        if on_part is not None:
            on_part(frames, name)
        for table, frame in frames.items():
            counts[table] += len(frame)
        spilled += 1

    acc = _Rows(limit=part_rows, spill=flush, char_limit=part_chars)
    for result in results:
        _add_file(acc, result, manifest, describe_document)
    flush(acc, last=True)
    return counts


def part_name(index: int, sub: int | None = None) -> str:
    """``part-<index>``, or ``part-<index>-<sub>`` for a partition written in several parts.

    Sorted by name, parts come in index order and a partition's sub-parts in
    their order between its neighbours (``-`` sorts before ``.`` and digits).
    """
    return f"part-{index:05d}" if sub is None else f"part-{index:05d}-{sub:04d}"


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Nullable dtypes, so empty cells stay empty (not NaN floats) in every format."""
    ints = {"lines", "documents", "sections", "mentions", "bytes", "doc_index", "title_line", "start_line",
            "end_line", "start", "end", "year", "chars", "line", "number", "level", "col_start", "col_end",
            "month", "day", "hour", "minute", "second", "end_year", "end_month", "end_day", "resolved_year",
            "count", "rank"}
    floats = {"value", "low", "high", "score"}
    bools = {"inline_body", "masked", "is_primary"}
    for column in frame.columns:
        if column in ints:
            frame[column] = frame[column].astype("Int64")
        elif column in floats:
            frame[column] = frame[column].astype("Float64")
        elif column in bools:
            frame[column] = frame[column].astype("boolean")
        else:
            frame[column] = frame[column].astype("string")
    return frame


def _add_file(acc: _Rows, result: FileResult, manifest: Manifest | None, describe) -> None:
    # The input's key (its path below the folder named, or its name), not the bare name: two folders'
    # 2016.txt must not share ids.
    # A file name that is not valid UTF-8 holds lone surrogates, which no table can store: escaped visibly.
    name = key = storable(file_key(result))
    path = storable(result.path)
    parsed = result.parsed
    acc.add("files", {
        "file": name, "path": path, "status": result.status, "error": storable(result.error or ""),
        "stage": result.stage or "", "sha256": result.sha256, "bytes": result.size,
        "encoding": parsed.source.encoding if parsed else None,
        "lines": parsed.source.line_count if parsed else None,
        "documents": len(parsed.documents) if parsed else None,
        "sections": sum(len(d.sections) for d in parsed.documents) if parsed else None,
        "mentions": len(result.mentions) if parsed else None,
    })
    if parsed is None:
        return
    section_themes, doc_themes = _theme_lookup(result.themes)
    for doc in parsed.documents:
        did = doc_id(key, doc.index)
        row = manifest.row_for(result.path, doc.index, key=key) if manifest else None
        meta: DocumentMeta = describe(doc, parsed.source, row)
        scope, themes = doc_themes.get(doc.index, (None, []))
        theme_ids = [_theme_id(t) for t in themes]
        acc.add("documents", {
            "doc_id": did, "file": name, "path": path, "doc_index": doc.index, "title": doc.title,
            "title_line": doc.title_line, "start_line": doc.start_line, "end_line": doc.end_line,
            "start": doc.start, "end": doc.end, "kind": doc.kind, "scope": scope,
            "primary_theme": theme_ids[0] if theme_ids else None, "themes": ";".join(theme_ids) or None,
            "hospital": meta.hospital, "hospital_source": meta.hospital_source,
            "region": meta.region, "region_source": meta.region_source,
            "hospital_level": meta.level, "hospital_level_source": meta.level_source,
            "year": meta.year, "year_source": meta.year_source,
            "sections": len(doc.sections), "chars": doc.end - doc.start,
            "meta_lines": ";".join(str(n) for n in doc.meta_lines) or None,
        })
        for section in doc.sections:
            sid = section_id(key, doc.index, section.line)
            scored = section_themes.get((doc.index, section.line), [])
            parent = doc.sections[section.parent] if section.parent is not None else None
            acc.add("sections", {
                "section_id": sid, "doc_id": did, "file": name, "line": section.line,
                "end_line": section.end_line, "start": section.start, "end": section.end,
                "marker": section.marker, "family": section.family, "number": section.number,
                "level": section.level, "outline": section.outline,
                "parent_id": section_id(key, doc.index, parent.line) if parent else None,
                "title": section.title, "inline_body": section.inline_body,
                "primary_theme": _theme_id(scored[0]) if scored else None,
                "chars": section.end - section.start, "body": section.body,
            })
            for rank, item in enumerate(scored, start=1):
                acc.add("section_themes", {
                    "section_id": sid, "doc_id": did, "file": name, "line": section.line,
                    "theme": _theme_id(item), "score": _theme_score(item), "rank": rank, "is_primary": rank == 1,
                })
    for mention in result.mentions:
        did = doc_id(key, mention.doc_index) if mention.doc_index is not None else None
        sid = (section_id(key, mention.doc_index, mention.section_line)
               if mention.doc_index is not None and mention.section_line is not None else None)
        row = {key: getattr(mention, key) for key in _mention_fields(mention)}
        row.update({"mention_id": f"{did or name}:{mention.start}", "doc_id": did, "section_id": sid, "file": name})
        acc.add("mentions", row)


#: Folder of OUT holding every table as a partitioned Parquet dataset, ``tables/<name>/part-NNNNN.parquet``.
PARTS_DIR = "tables"
#: A run's parts while it goes on; renamed to PARTS_DIR only when every part is written.
_STAGING = ".tables.partial"
#: The previous run's parts, for the moment the new ones move in.
_RETIRED = ".tables.old"
#: Folder of the staging folder holding each part's rows as CSV, ``.csv/<name>/part-NNNNN.csv``.
_CSV_PARTS = ".csv"
#: Buffer pool of the DuckDB build, so its memory stays flat past it (on a 100 MB corpus: +170 MB at 128 MB,
#: +290 MB at 512 MB, +320 MB at DuckDB's default of 80% of RAM; 2.7-3.0 s either way).
_DUCKDB_MEMORY = "128MB"


def _atomic_path(target: Path) -> Path:
    """A temporary file beside ``target``, renamed over it only once fully written."""
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    # mkstemp makes 0600 files; give the table the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


@contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    """Write to the yielded temporary path; it replaces ``target`` only if the block completes."""
    tmp = _atomic_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@cache
def _arrow_schema(name: str) -> pa.Schema:
    """One Arrow schema per table, so every part, whatever rows it holds, has the same types and metadata."""
    import pandas as pd
    import pyarrow as pa

    empty = _typed(pd.DataFrame({column: [] for column in SCHEMAS[name]}), name)
    return pa.Schema.from_pandas(empty, preserve_index=False)


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
        schema = _arrow_schema(name)
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False).replace_schema_metadata(
            schema.metadata)
        folder = Path(parts_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        with _atomic(folder / f"{stem}.parquet") as tmp:
            pq.write_table(table, tmp)
        csv_folder = Path(parts_dir) / _CSV_PARTS / name
        csv_folder.mkdir(parents=True, exist_ok=True)
        with _atomic(csv_folder / f"{stem}.csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
            # Formatted from the Parquet round trip, as a reader of the part would see it.
            spreadsheet_safe(table.to_pandas()).to_csv(out, index=False, header=False, lineterminator=CSV_LINE_END)


def finish_tables(
    parts_dir: str | Path,
    out_dir: str | Path,
    formats: tuple[str, ...] = ("parquet", "csv", "duckdb"),
    *,
    publish: bool = True,
) -> dict[str, list[Path]]:
    """Assemble ``OUT/<name>.parquet``/``.csv`` and ``OUT/reportmine.duckdb`` from the parts, then publish the parts.

    Parts are read one at a time in index order, so memory depends on the
    size of a part, not of the corpus. Every file is first written under a
    temporary name; only when all are complete are they renamed into place,
    one after the other, and the staged parts replace ``OUT/tables``. A run
    killed before then leaves the previous tables as they were.

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
        pending.append((_atomic_path(target), target))
        return pending[-1][0]

    # DuckDB and pyarrow release the GIL: a second thread builds the database and the Parquet files while this
    # one writes the CSV files (pandas, which holds it), so on two cores they cost no wall time. Each file is
    # written by one thread, from the parts in order, so the bytes are the same as written one after another.
    pool = ThreadPoolExecutor(1)
    try:
        jobs = []
        if "duckdb" in formats:
            jobs.append(pool.submit(_write_duckdb, parts, stage(out / "reportmine.duckdb")))
        if "parquet" in formats:
            jobs += [pool.submit(_concat_parquet, name, files, stage(out / f"{name}.parquet"))
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


def _concat_parquet(name: str, parts: list[Path], tmp: Path) -> None:
    import pyarrow.parquet as pq

    schema = _arrow_schema(name)
    with pq.ParquetWriter(tmp, schema) as writer:
        for part in parts:  # one row group per part
            writer.write_table(pq.read_table(part, schema=schema))


def _csv_part(parts_dir: Path, name: str, parquet_part: Path) -> Path:
    return parts_dir / _CSV_PARTS / name / f"{parquet_part.stem}.csv"


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


def _write_duckdb(parts: dict[str, list[Path]], tmp: Path) -> None:
    import duckdb

    tmp.unlink()  # duckdb creates the file itself
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET preserve_insertion_order = true")  # rows in part order, as in the other files
        # DuckDB's default buffer pool (80% of RAM) would grow with the corpus; it spills past this instead.
        con.execute(f"SET memory_limit = '{_DUCKDB_MEMORY}'")
        con.execute(f"SET temp_directory = '{tmp.parent / (tmp.name + '.spill')}'")
        for name, files in parts.items():
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(?)', [[str(f) for f in files]])


def publish_parts(staging: str | Path, out: str | Path) -> None:
    """Move a run's staged parts to ``OUT/tables`` in one rename (the previous run's are removed)."""
    staging, out = Path(staging), Path(out)
    shutil.rmtree(staging / _CSV_PARTS, ignore_errors=True)  # joined into OUT/<name>.csv: not published
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
    from .outputs import OutputRun

    with OutputRun.start(out_dir, overwrite=overwrite) as run:
        written = write_tables_into(tables, run.path, formats)
        run.publish()
    out = Path(out_dir)
    return {name: [out / path.relative_to(run.path) for path in paths] for name, paths in written.items()}


def write_tables_into(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    formats: tuple[str, ...] = ("parquet", "csv", "duckdb"),
) -> dict[str, list[Path]]:
    """:func:`write_tables` into a run's private folder, unpublished (for ``Analysis.write``)."""
    staging = start_parts(folder)
    write_part(tables, staging, 0)
    return finish_tables(staging, folder, formats)


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
                    with _atomic(out / f"{name}.{suffix}") as tmp:
                        shutil.copyfile(src / f"{name}.{suffix}", tmp)
                written.setdefault(name, []).append(out / f"{name}.{suffix}")
    if (src / "reportmine.duckdb").is_file():
        if not same:
            with _atomic(out / "reportmine.duckdb") as tmp:
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

    def copy(self) -> dict[str, pd.DataFrame]:
        """Every table, loaded, as a plain dict."""
        return {name: self[name] for name in self}


def load_tables(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read back the tables a run wrote (``OUT/<name>.parquet``), for notebooks and scripts.

    >>> tables = load_tables("reportmine-out")  # doctest: +SKIP
    >>> tables["sections"].groupby("primary_theme").size()  # doctest: +SKIP
    """
    import pandas as pd

    from .outputs import current_run

    # The run the folder shows now, resolved once: a run published while these are read cannot mix in.
    out = current_run(out_dir) or Path(out_dir)
    missing = [name for name in SCHEMAS if not (out / f"{name}.parquet").is_file()]
    if missing:
        from .errors import InputError

        raise InputError(str(out_dir), f"not a reportmine output folder (missing {', '.join(missing)}.parquet)")
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in SCHEMAS}
