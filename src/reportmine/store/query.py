"""DuckDB over the stored tables, and the rules the comparison and the report both apply to them.

:class:`TableSource` opens one DuckDB connection with a view per input table
(an output folder's Parquet files or in-memory DataFrames, missing tables and
columns as NULL), so every query sees one shape.

The shared rules, each written once here:

- *clean text*: a value loses the whitespace at either end (whitespace as
  Python's :meth:`str.strip` has it, tabs and U+3000 included) and is missing
  when nothing is left: :func:`clean_text` in Python, :func:`clean_sql` in
  SQL, the same result for every character.
- *primary theme*: a section's ``section_themes`` row of lowest rank (a
  missing rank counts 1 for the primary theme, else 1,000,000), ties broken by
  theme; else the sections table's ``primary_theme``; else ``other``
  (:data:`PRIMARY_THEMES_SQL`, :func:`section_theme_sql`).
- *group*: a document's ``group_by`` column (the hospital by default) where
  known, else its file key (:func:`document_group` in Python, :func:`group_sql` in SQL).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..model import OTHER_THEME
from .schemas import PARTS_DIR

#: DuckDB buffer pool of a :class:`TableSource`; past it DuckDB spills to a temporary folder.
DUCKDB_MEMORY = "256MB"
#: Rows per Arrow batch of :meth:`TableSource.batches`.
BATCH_ROWS = 4096
#: ``group_by`` value that groups documents by their file.
FILE_GROUP = "file"

#: Columns of each view of a :class:`TableSource`, and their DuckDB types.
INPUTS: dict[str, dict[str, str]] = {
    "sections": {"section_id": "VARCHAR", "doc_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT", "start": "BIGINT",
                 "outline": "VARCHAR", "title": "VARCHAR", "body": "VARCHAR", "primary_theme": "VARCHAR"},
    "section_themes": {"section_id": "VARCHAR", "theme": "VARCHAR", "rank": "BIGINT", "is_primary": "BOOLEAN"},
    "mentions": {"doc_id": "VARCHAR", "section_id": "VARCHAR", "file": "VARCHAR", "line": "BIGINT",
                 "start": "BIGINT", "type": "VARCHAR", "text": "VARCHAR", "value": "DOUBLE", "unit": "VARCHAR",
                 "name": "VARCHAR"},
}

# --- Clean text ---------------------------------------------------------------------

#: Python's whitespace (``str.isspace``: Unicode Z* and tab to carriage return, U+001C-U+001F, U+0085) as an
#: RE2 class; tests check it character by character against :meth:`str.strip`.
_SPACE = r"[\s\pZ\x0b\x1c-\x1f\x85]"


def clean_sql(expr: str) -> str:
    """SQL for the text ``expr`` without whitespace at either end, NULL when empty (:func:`clean_text` in SQL)."""
    return f"nullif(regexp_replace({expr}, '^{_SPACE}+|{_SPACE}+$', '', 'g'), '')"


def plain_value(value: Any) -> Any:
    """A cell as a plain Python value, missing ones (NA, NaN, None) as None."""
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except (TypeError, ValueError):
        pass
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def clean_text(value: Any) -> str | None:
    """A cell as text without whitespace at either end, None when missing or empty (:func:`clean_sql` in Python)."""
    value = plain_value(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- Primary theme ------------------------------------------------------------------

#: ``(section_id, theme)``: each section's ``section_themes`` row of lowest rank (no rank: 1 if primary, else
#: 1,000,000), ties by theme; ids and themes clean (:func:`clean_sql`), rows without either left out.
PRIMARY_THEMES_SQL = f"""
        SELECT sid AS section_id, theme FROM (
            SELECT {clean_sql('section_id')} AS sid, {clean_sql('theme')} AS theme,
                   coalesce("rank", CASE WHEN is_primary THEN 1 ELSE 1000000 END) AS rk
            FROM section_themes)
        WHERE sid IS NOT NULL AND theme IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY sid ORDER BY rk, theme) = 1"""


def section_theme_sql(primary_alias: str = "p", section_alias: str = "s") -> str:
    """A section's primary theme: ``primary_alias`` (rows of :data:`PRIMARY_THEMES_SQL` joined on the section id)
    where it has one, else ``section_alias``'s ``primary_theme`` column (clean), else :data:`OTHER_THEME`."""
    return f"coalesce({primary_alias}.theme, {clean_sql(f'{section_alias}.primary_theme')}, '{OTHER_THEME}')"


def primary_theme_join(section_alias: str = "s", primary_alias: str = "p") -> str:
    """The ``LEFT JOIN`` of :data:`PRIMARY_THEMES_SQL` as ``primary_alias`` on the clean id of the sections
    ``section_alias``, for :func:`section_theme_sql` to read."""
    return (f"LEFT JOIN ({PRIMARY_THEMES_SQL}) {primary_alias} "
            f"ON {primary_alias}.section_id = {clean_sql(f'{section_alias}.section_id')}")


# --- Group --------------------------------------------------------------------------


class Grouping(NamedTuple):
    """A document's identity and group, by :func:`document_group`."""

    doc_id: str
    file: str
    group: str
    group_source: str


def file_key_sql(alias: str = "d") -> str:
    """SQL for a document's file key: its clean ``file``, else its clean ``doc_id`` up to the last ``#``."""
    return f"coalesce({clean_sql(f'{alias}.file')}, regexp_replace({clean_sql(f'{alias}.doc_id')}, '#[^#]*$', ''))"


def group_sql(group_by: str = "hospital", alias: str = "d") -> str:
    """SQL for a document's group over the documents table as ``alias``: its text column ``group_by`` where
    clean and non-empty, else its file key (:func:`file_key_sql`); :func:`document_group` in SQL."""
    if group_by == FILE_GROUP:
        return file_key_sql(alias)
    return f"coalesce({clean_sql(f'{alias}.{group_by}')}, {file_key_sql(alias)})"


def rule_views(group_by: str = "hospital") -> tuple[str, ...]:
    """SQL creating the views ``reportmine.duckdb`` holds beside the tables: the two rules, for people's queries.

    ``document_groups (doc_id, "group")``: each document's group (:func:`group_sql` by ``group_by``);
    ``section_primary_themes (section_id, theme)``: each section's primary theme (:data:`PRIMARY_THEMES_SQL`,
    else the sections table's, else ``other``). The report's appendix queries join them.
    """
    column = "" if group_by == FILE_GROUP else f", CAST({group_by} AS VARCHAR) AS {group_by}"
    return (
        f'CREATE OR REPLACE VIEW document_groups AS SELECT d.doc_id, {group_sql(group_by, "d")} AS "group" '
        f"FROM (SELECT doc_id, file{column} FROM documents) d",
        f"CREATE OR REPLACE VIEW section_primary_themes AS SELECT s.section_id, {section_theme_sql('p', 's')} AS theme "
        f"FROM sections s {primary_theme_join('s', 'p')}",
    )


def document_group(row: Mapping[str, Any], group_by: str = "hospital") -> Grouping | None:
    """A documents row's clean id, file key and group, with where the group came from; None without an id.

    The file key is the row's ``file`` (its path below the folder named, so
    two folders' ``2016.txt`` are two groups), else the id up to its last
    ``#``. The group is the ``group_by`` value where known, its source the
    row's ``<group_by>_source`` (else ``group_by``); otherwise the file key,
    source ``file``. :func:`group_sql` gives the same group in SQL.
    """
    doc_id = clean_text(row.get("doc_id"))
    if doc_id is None:
        return None
    file = clean_text(row.get("file")) or doc_id.rsplit("#", 1)[0]
    value = clean_text(row.get(group_by)) if group_by != FILE_GROUP else None
    if value is None:
        return Grouping(doc_id, file, file, FILE_GROUP)
    return Grouping(doc_id, file, value, clean_text(row.get(f"{group_by}_source")) or group_by)


# --- Reading the tables -------------------------------------------------------------


def stored_path(tables: Any, name: str) -> list[Path] | None:
    """The Parquet files ``tables[name]`` would be read from, in order, when ``tables`` is an output folder's and
    unchanged: ``OUT/<name>.parquet``, or the parts of a run whose flat files are still being written.

    Reading the files ourselves (only the columns needed, batch by batch) is
    what keeps a big table out of memory; a table assigned in memory is used as it is.
    """
    directory = getattr(tables, "directory", None)
    is_loaded = getattr(tables, "is_loaded", None)  # a StoredTables (store.files imports this module)
    if directory is None or is_loaded is None or is_loaded(name):
        return None
    parts_dir = getattr(tables, "parts_dir", None)
    if parts_dir is not None:
        return sorted((Path(parts_dir) / name).glob("part-*.parquet")) or None
    path = Path(directory) / f"{name}.parquet"
    return [path] if path.is_file() else None


def parts_root(tables: Any) -> Path:
    """The folder holding the table parts of stored ``tables`` (the staging folder while a run finishes)."""
    parts_dir = getattr(tables, "parts_dir", None)
    return Path(parts_dir) if parts_dir is not None else Path(tables.directory) / PARTS_DIR


def _arrow(frame: Any, columns: Iterable[str]) -> Any:
    """Columns of a DataFrame as an Arrow table; a column of mixed Python values becomes text."""
    import pyarrow as pa

    arrays, names = [], []
    for column in columns:
        values = frame[column]
        try:
            arrays.append(pa.array(values, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if plain_value(v) is None else str(v) for v in values], type=pa.string()))
        names.append(column)
    return pa.table(arrays, names=names) if names else pa.table({})


def _quote(text: str) -> str:
    return text.replace("'", "''")


class TableSource:
    """A DuckDB connection with one view per input table, of exactly the columns of :data:`INPUTS`.

    A view reads an output folder's Parquet file, or an in-memory DataFrame,
    with missing tables and columns as NULL, so every query sees one shape.
    The connection's buffer pool is :data:`DUCKDB_MEMORY`, spilling to a
    temporary folder removed by :meth:`close` (or on leaving a ``with`` block).

    >>> with TableSource(tables) as source:  # doctest: +SKIP
    ...     source.rows("SELECT count(*) FROM sections")
    """

    def __init__(self, tables: Mapping[str, Any] | None) -> None:
        import duckdb

        self._spill = tempfile.mkdtemp(prefix="reportmine-compare-")
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        self.con.execute(f"SET temp_directory = '{self._spill}'")
        self.con.execute("SET preserve_insertion_order = true")  # text passes read in table order
        for name, columns in INPUTS.items():
            self._view(tables, name, columns)

    def _view(self, tables: Mapping[str, Any] | None, name: str, columns: dict[str, str]) -> None:
        path = stored_path(tables, name)
        present: set[str] = set()
        source = None
        if path is not None:
            import pyarrow.parquet as pq

            present = set(pq.read_schema(path[0]).names)  # every part has the table's schema
            source = "read_parquet([" + ", ".join(f"'{_quote(str(p))}'" for p in path) + "])"
        else:
            frame = tables.get(name) if tables else None
            present = set(frame.columns) & set(columns) if frame is not None else set()
            if present:
                self.con.register(f"_{name}_input", _arrow(frame, [c for c in columns if c in present]))
                source = f"_{name}_input"
        select = ", ".join(f'TRY_CAST("{c}" AS {t}) AS "{c}"' if c in present else f'NULL::{t} AS "{c}"'
                           for c, t in columns.items())
        where = "" if source else " WHERE false"
        self.con.execute(f'CREATE VIEW "{name}" AS SELECT {select} FROM {source or "(SELECT 1)"}{where}')

    def add_parquet_view(self, name: str, paths: Sequence[Path]) -> None:
        """View ``name`` over the Parquet files ``paths`` as they are, with a ``filename`` column."""
        files = ", ".join(f"'{_quote(str(p))}'" for p in paths)
        self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}], filename = true)")

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Every result row of ``sql``."""
        return self.con.execute(sql, params or []).fetchall()

    def batches(self, sql: str) -> Iterator[dict[str, list[Any]]]:
        """Result rows of ``sql`` as column lists, :data:`BATCH_ROWS` at a time."""
        relation = self.con.sql(sql)
        # DuckDB 2 renamed fetch_record_batch (deprecated there) to to_arrow_reader.
        reader = (relation.to_arrow_reader(BATCH_ROWS) if hasattr(relation, "to_arrow_reader")
                  else relation.fetch_record_batch(BATCH_ROWS))
        for batch in reader:
            yield {name: batch.column(i).to_pylist() for i, name in enumerate(batch.schema.names)}

    def close(self) -> None:
        """Close the connection and remove its spill folder."""
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> TableSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
