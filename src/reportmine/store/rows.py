"""Per-file results -> rows of the tidy tables (stage 8), held compactly and written in parts.

In: :class:`~reportmine.model.FileResult` objects, each with its documents'
metadata (stage 7). Out: pandas DataFrames, one row per thing, with
provenance columns (``file``, line numbers, offsets) on every row. Rows are
ordered by input order, then position in the file, and no table holds a
time, so the same input gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..model import DocumentMeta, FileResult
from ..safetext import storable
from ..settings import PART_CHARS, PART_ROWS
from .files import write_part
from .schemas import SCHEMAS, doc_id, part_name, section_id, typed

if TYPE_CHECKING:
    import pandas as pd

#: The metadata of a document no stage described (a result made by hand).
_UNKNOWN = DocumentMeta()



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

        return {name: typed(pd.DataFrame(self.rows[name], columns=list(columns)), name)
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


class MetadataOverride(Protocol):
    """What a user's manifest (:class:`reportmine.metadata.Manifest`) does to a result: its values win."""

    def apply(self, result: FileResult) -> FileResult: ...


def build_tables(
    results: Iterable[FileResult],
    manifest: MetadataOverride | None = None,
) -> dict[str, pd.DataFrame]:
    """Tidy tables from per-file results (see :data:`SCHEMAS`); a ``manifest``'s values win over the text's."""
    acc = _Rows()
    for result in results:
        _add_file(acc, manifest.apply(result) if manifest is not None else result)
    return acc.frames()


def write_rows(
    results: Iterable[FileResult],
    parts_dir: str | Path,
    index: int,
    manifest: MetadataOverride | None = None,
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
        _add_file(acc, manifest.apply(result) if manifest is not None else result)
    flush(acc, last=True)
    return counts


def _add_file(acc: _Rows, result: FileResult) -> None:
    # The input's key (its path below the folder named, or its name), not the bare name: two folders'
    # 2016.txt must not share ids.
    # A file name that is not valid UTF-8 holds lone surrogates, which no table can store: escaped visibly.
    name = key = storable(result.file_key)
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
        meta = result.metadata[doc.index] if doc.index < len(result.metadata) else _UNKNOWN
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
