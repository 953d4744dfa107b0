"""The tables' schemas: one registry of every table's columns, their meaning and their type.

Tables and their keys:

- ``files``: the run's manifest, every input with ``status`` ok/failed and its error;
- ``documents``: one row per report (``doc_id``), with hospital/region/year and their sources;
- ``sections``: one row per section (``section_id``), with its outline path and text;
- ``mentions``: one row per extracted mention (``mention_id``);
- ``section_themes``: long form, section × theme × score × is_primary.

Ids are unique in a run and stable across runs of the same inputs: they
are built on each input's key, its path below the folder named on the
command line (``hospitalA/2016.txt``) or, for a file named directly, its
name (see :class:`reportmine.inputs.InputFile`); the ``file`` columns hold
it. ``doc_id`` is ``<key>#<document index>``, ``section_id`` is
``<doc_id>@L<line>``, ``mention_id`` is ``<doc_id or key>:<start>``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: Folder of OUT holding every table as a partitioned Parquet dataset, ``tables/<name>/part-NNNNN.parquet``.
PARTS_DIR = "tables"

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
    """``<key>#<index>``: ``key`` is the file's key in its run (see :class:`reportmine.inputs.InputFile`)."""
    return f"{key}#{index}"


def section_id(key: str, index: int, line: int) -> str:
    return f"{doc_id(key, index)}@L{line}"


def part_name(index: int, sub: int | None = None) -> str:
    """``part-<index>``, or ``part-<index>-<sub>`` for a partition written in several parts.

    Sorted by name, parts come in index order and a partition's sub-parts in
    their order between its neighbours (``-`` sorts before ``.`` and digits).
    """
    return f"part-{index:05d}" if sub is None else f"part-{index:05d}-{sub:04d}"


#: The type of every column that is not text, by column name (a name means the same in every table):
#: pandas' nullable dtypes, so empty cells stay empty (not NaN floats) in every format.
COLUMN_TYPES: dict[str, str] = {
    **dict.fromkeys(("lines", "documents", "sections", "mentions", "bytes", "doc_index", "title_line",
                     "start_line", "end_line", "start", "end", "year", "chars", "line", "number", "level",
                     "col_start", "col_end", "month", "day", "hour", "minute", "second", "end_year", "end_month",
                     "end_day", "resolved_year", "count", "rank"), "Int64"),
    **dict.fromkeys(("value", "low", "high", "score"), "Float64"),
    **dict.fromkeys(("inline_body", "masked", "is_primary"), "boolean"),
}


def column_type(column: str) -> str:
    """The pandas dtype of ``column`` in every table: :data:`COLUMN_TYPES`, else ``string``."""
    return COLUMN_TYPES.get(column, "string")


def typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` (rows of table ``name``) with the dtypes of :func:`column_type`."""
    for column in frame.columns:
        frame[column] = frame[column].astype(column_type(column))
    return frame


@cache
def arrow_schema(name: str) -> pa.Schema:
    """One Arrow schema per table, so every part, whatever rows it holds, has the same types and metadata."""
    import pandas as pd
    import pyarrow as pa

    empty = typed(pd.DataFrame({column: [] for column in SCHEMAS[name]}), name)
    return pa.Schema.from_pandas(empty, preserve_index=False)
