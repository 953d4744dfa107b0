"""The comparison run: the documents grouped and registered, every part computed, the tables written.

:func:`compare` opens a :class:`~reportmine.store.query.TableSource` over the
tables, registers the documents (table ``docs``: id, table order, group,
year, kind, whether counted) and the sections of counted documents (table
``sec``, with their primary theme by
:data:`~reportmine.store.query.PRIMARY_THEMES_SQL`), and hands them to the
parts: near duplicates, terms, statistics and graphs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safetext import CSV_LINE_END, spreadsheet_safe
from ..store.files import atomic_write
from ..store.query import (
    PRIMARY_THEMES_SQL,
    TableSource,
    clean_sql,
    clean_text,
    document_group,
    plain_value,
    section_theme_sql,
    stored_path,
)
from ..store.schemas import SCHEMAS
from ..taxonomy import load_taxonomy
from .core import SHARE_DEFINITION, Comparison, Doc, result_frame
from .duplicates import find_near_duplicates
from .graphs import activity_graph, centrality, theme_graph
from .statistics import (
    distinctive_terms,
    distinctive_themes,
    first_activities,
    group_theme_counts,
    plan_vs_summary,
    quantities,
    similarity,
    theme_profiles,
)
from .terms import count_terms, open_features

if TYPE_CHECKING:
    import pandas as pd


def _records(frame: Any, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain values; a missing table or column reads as None."""
    columns = list(columns)
    if frame is None or len(frame) == 0:
        return []
    data = {c: (list(frame[c]) if c in frame.columns else [None] * len(frame)) for c in columns}
    return [{c: plain_value(data[c][i]) for c in columns} for i in range(len(frame))]


def _int(value: Any) -> int | None:
    """A cell as an int, None when missing or not a number."""
    value = plain_value(value)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _documents_frame(tables: Mapping[str, Any]) -> Any:
    """The documents table (one row per report: small beside the sections), read whole."""
    paths = stored_path(tables, "documents")
    if paths is not None:
        import pandas as pd

        frames = [pd.read_parquet(p) for p in paths]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return tables.get("documents") if tables else None


def _group_documents(documents: Any, group_by: str) -> list[Doc]:
    """Each document's group: its ``group_by`` value where known, else its file (the rule of
    :func:`reportmine.store.query.document_group`); rows without a ``doc_id`` are left out."""
    rows = _records(documents, ("doc_id", "file", "year", "kind", group_by, f"{group_by}_source"))
    docs = []
    for order, row in enumerate(rows):
        grouping = document_group(row, group_by)
        if grouping is not None:
            docs.append(Doc(grouping.doc_id, order, grouping.file, grouping.group, grouping.group_source,
                            _int(row["year"]), clean_text(row["kind"])))
    return docs


def _register_documents(source: TableSource, docs: list[Doc]) -> None:
    """The documents as DuckDB table ``docs``: id, table order, group, year, kind, and whether counted."""
    import pyarrow as pa

    # A doc_id listed twice keeps its first row, as a dict keyed by doc_id would.
    first: dict[str, Doc] = {}
    for d in docs:
        first.setdefault(d.doc_id, d)
    rows = list(first.values())
    table = pa.table({
        "doc_id": pa.array([d.doc_id for d in rows], pa.string()),
        "ord": pa.array([d.order for d in rows], pa.int64()),
        "grp": pa.array([d.group for d in rows], pa.string()),
        "year": pa.array([d.year for d in rows], pa.int64()),
        "kind": pa.array([d.kind for d in rows], pa.string()),
        "kept": pa.array([d.duplicate_of is None for d in rows], pa.bool_()),
    })
    source.con.register("_docs_input", table)
    source.con.execute("CREATE OR REPLACE TABLE docs AS SELECT * FROM _docs_input")


def _register_sections(source: TableSource) -> None:
    """DuckDB table ``sec``: the sections of counted documents, with group, year, kind, primary theme and characters."""
    # Kept sections with their effective primary theme: section_themes first (lowest rank, then theme),
    # then the sections table, else "other" — the report's rule too.
    source.con.execute(f"CREATE OR REPLACE TABLE prim AS {PRIMARY_THEMES_SQL}")
    source.con.execute(f"""
        CREATE OR REPLACE TABLE sec AS
        SELECT s.sid AS section_id, d.doc_id, d.ord, d.grp, d.year, d.kind,
               {section_theme_sql("p", "s")} AS theme,
               length(replace(coalesce(s.title, ''), chr(10), '')) + length(replace(coalesce(s.body, ''), chr(10), ''))
                   AS chars
        FROM (SELECT *, {clean_sql("section_id")} AS sid, {clean_sql("doc_id")} AS did FROM sections) s
        JOIN docs d ON d.doc_id = s.did
        LEFT JOIN prim p ON p.section_id = s.sid
        WHERE d.kept AND s.sid IS NOT NULL""")


def compare(
    tables: Mapping[str, pd.DataFrame],
    *,
    group_by: str = "hospital",
    keywords: Iterable[str] | None = None,
) -> Comparison:
    """Compare the groups of a corpus: profiles, distinctive themes and terms, networks.

    Args:
        tables: the tidy tables of :func:`reportmine.build_tables`, or the
            :class:`~reportmine.store.files.StoredTables` of an output folder (read
            column by column from its Parquet files, never whole). Missing or
            empty tables give empty results, never an error.
        group_by: the documents column naming a document's group (``hospital``,
            ``region`` …; ``file`` compares files). Where it is empty the group
            is the file; ``group_source`` takes the column's ``<name>_source``.
        keywords: the vocabulary of the keyword co-occurrence graph, added to
            the domain dictionary whose words are the distinctive terms'
            vocabulary (default: the shipped taxonomy's keywords).

    Returns:
        A :class:`Comparison`; every table is sorted, so the same tables give
        the same comparison.

    >>> analysis = reportmine.analyze()  # doctest: +SKIP
    >>> comparison = compare(analysis.tables)  # doctest: +SKIP
    >>> comparison.distinctive_themes.query("z > 2")  # doctest: +SKIP
    """
    import pandas as pd

    if keywords is None:
        keywords = load_taxonomy().keywords()
    keywords = list(keywords)
    tables = tables if tables is not None else {}
    documents = _documents_frame(tables)
    doc_list = _group_documents(documents, group_by)
    docs = {}
    for d in doc_list:
        docs.setdefault(d.doc_id, d)
    with TableSource(tables) as source:
        features = open_features(source, tables)  # the workers' text passes, when usable
        _register_documents(source, doc_list)
        pairs = find_near_duplicates(source, doc_list, precomputed=features is not None)
        _register_documents(source, doc_list)   # again, with the copies marked
        _register_sections(source)
        terms, keyword_graph = count_terms(source, keywords, features)
        group_theme = group_theme_counts(source)
        graphs = {
            "activity_group": activity_graph(source),
            "keyword_cooccurrence": keyword_graph,
            "theme_cooccurrence": theme_graph(source),
        }
        comparison = Comparison(
            theme_profiles=theme_profiles(source),
            share_definition=SHARE_DEFINITION,
            distinctive_themes=distinctive_themes(group_theme),
            distinctive_terms=distinctive_terms(terms),
            similarity=similarity(group_theme),
            plan_vs_summary=plan_vs_summary(source),
            quantities=quantities(source),
            first_activities=first_activities(source),
            near_duplicates=result_frame("near_duplicates", pairs),
            documents=_documents_table(documents, docs, pd),
            graphs=graphs,
        )
    comparison.centrality = centrality(graphs)
    return comparison


def write_comparison(comparison: Comparison, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each comparison table as ``OUT/<name>.csv`` and ``OUT/<name>.parquet`` (:data:`COLUMNS` order).

    Each file is written under a temporary name and renamed into place; the
    same comparison gives the same bytes.

    Returns:
        The paths written, in name order.

    >>> write_comparison(analysis.comparison, "reportmine-out/comparison")  # doctest: +SKIP
    [PosixPath('reportmine-out/comparison/centrality.csv'), ...]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sorted(comparison.tables().items()):
        with atomic_write(out / f"{name}.csv") as tmp:
            # Formula-like text is neutralised in CSV only (see safetext.spreadsheet_safe); Parquet keeps it raw.
            spreadsheet_safe(frame).to_csv(tmp, index=False, lineterminator=CSV_LINE_END, encoding="utf-8")
        written.append(out / f"{name}.csv")
        with atomic_write(out / f"{name}.parquet") as tmp:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        written.append(out / f"{name}.parquet")
    return written


def _documents_table(documents: Any, docs: dict[str, Doc], pd: Any) -> pd.DataFrame:
    """The documents table with each row's ``group``, ``group_source`` and ``duplicate_of`` (None if not counted)."""
    frame = documents.copy() if documents is not None else pd.DataFrame(columns=list(SCHEMAS["documents"]))
    by_row = {d.order: d for d in docs.values()}
    values = {"group": [], "group_source": [], "duplicate_of": []}
    for i in range(len(frame)):
        doc = by_row.get(i)
        values["group"].append(doc.group if doc else None)
        values["group_source"].append(doc.group_source if doc else None)
        values["duplicate_of"].append(doc.duplicate_of if doc else None)
    for column, column_values in values.items():
        frame[column] = pd.array(column_values, dtype="string")
    return frame.reset_index(drop=True)
