"""The data model every stage shares.

Small frozen dataclasses, one per thing the pipeline makes. Every object that
stands for a piece of text carries the file it came from, its 1-based line
(or line span) and absolute character offsets ``start``/``end`` into the
decoded text of that file, so that ``source.text[obj.start:obj.end]`` gives
the piece back exactly. This module imports no other reportmine module.

Offsets are Python ``str`` indices (code points), end exclusive. Lines are
physical lines of the decoded text split on ``\\n`` only (a UTF-8 BOM dropped),
as the structure guide (GUIDE.md) defines them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

DocumentKind = Literal["summary", "plan", "other"]
LineRole = Literal["blank", "noise", "meta", "page_meta", "title", "content"]
MentionType = Literal[
    "quantity", "percent", "money", "date", "period", "frequency", "activity", "document"
]

#: Numbering-marker families, in the canonical rank order of GB/T 9704-2012
#: and common practice (the structure guide, GUIDE.md, "Levels"): chapter above
#: section above article, then 一、 （一） 1、 （1） ① and ordinal words.
FAMILIES: tuple[str, ...] = (
    "chapter",       # 第一章
    "section",       # 第一节
    "article",       # 第一条
    "cn",            # 一、 一. 一．
    "paren_cn",      # （一） (一) （一）、
    "arabic",        # 1、 1. 1: 4;
    "paren_arabic",  # （1） (1) 1) 1）
    "circled",       # ① ②
    "ordinal",       # 第一， 第二、
)
FAMILY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(FAMILIES)}


@dataclass(frozen=True, slots=True)
class SourceText:
    """The decoded text of one input file.

    Attributes:
        path: the file's path as given by the caller (``"<string>"`` for text
            passed in directly).
        text: the whole decoded text, newlines kept, a UTF-8 BOM dropped. For
            ``.docx`` and ``.html`` files, the text rendered from the document
            (:mod:`reportmine.readers`); offsets point into that text.
        encoding: the codec that decoded it (``utf-8``, ``gb18030``, ``utf-16`` …;
            ``docx`` for Word files, ``html/<codec>`` for web pages).
        line_starts: offset of the first character of each line; line ``n``
            (1-based) starts at ``line_starts[n - 1]``.
        normalized: the text as the parser matches it, when that differs:
            Traditional characters mapped one for one to Simplified, so it has
            the same length and offsets as ``text``. ``None``: match ``text``.
    """

    path: str
    text: str
    encoding: str = "utf-8"
    line_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    normalized: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_text(
        cls, text: str, path: str = "<string>", encoding: str = "utf-8", normalized: str | None = None
    ) -> SourceText:
        if normalized is not None and len(normalized) != len(text):
            raise ValueError("a normalized view must keep every offset (same length as the text)")
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        return cls(path=path, text=text, encoding=encoding, line_starts=tuple(starts), normalized=normalized)

    @property
    def match_text(self) -> str:
        """The text to match markers and words against (:attr:`normalized` or :attr:`text`)."""
        return self.normalized if self.normalized is not None else self.text

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_span(self, line: int) -> tuple[int, int]:
        """(start, end) offsets of line ``line`` (1-based), newline excluded."""
        start = self.line_starts[line - 1]
        if line < len(self.line_starts):
            return start, self.line_starts[line] - 1
        return start, len(self.text)

    def line_text(self, line: int) -> str:
        start, end = self.line_span(line)
        return self.text[start:end]

    def lines(self) -> Iterator[tuple[int, int, int]]:
        """Yield (line number, start, end) for every line."""
        for number in range(1, len(self.line_starts) + 1):
            start, end = self.line_span(number)
            yield number, start, end

    def line_of(self, offset: int) -> int:
        """The 1-based line holding character ``offset``."""
        return bisect.bisect_right(self.line_starts, offset)

    def column_of(self, offset: int) -> int:
        return offset - self.line_starts[self.line_of(offset) - 1]


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered heading and the text it governs, in one document.

    Attributes:
        path: file the section came from.
        line: 1-based line of the heading.
        marker: the numbering marker exactly as written (``一、``, ``（二）``, ``3.``).
        family: marker family, one of :data:`FAMILIES`.
        number: the marker's number (``（三）`` → 3), ``None`` if unreadable.
        level: depth in the document's outline, 1 for a top-level section.
        title: the heading as an outline shows it (GUIDE.md "Titles").
        inline_body: True when body text follows the title on the heading line.
        index: position of this section in ``Document.sections``.
        parent: index of the parent section in ``Document.sections``, or ``None``.
        children: indices of the child sections, in line order.
        outline: the chain of markers from the root, e.g. ``二/（三）/2``.
        start, end: offsets of the section's whole extent: from its marker to
            the end of its last non-blank line before the next section of the
            same or a higher level (subsections included).
        title_start, title_end: offsets of ``title`` in the text.
        body_start, body_end: offsets of the section's own body: the text after
            its title up to its first child (or its end).
        source_text: the file's text, for the ``text``/``body`` properties.
    """

    path: str
    line: int
    marker: str
    family: str
    number: int | None
    level: int
    title: str
    inline_body: bool
    index: int
    parent: int | None
    children: tuple[int, ...]
    outline: str
    start: int
    end: int
    title_start: int
    title_end: int
    body_start: int
    body_end: int
    end_line: int
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def text(self) -> str:
        """The section's whole extent, subsections included."""
        return self.source_text[self.start:self.end]

    @property
    def body(self) -> str:
        """The section's own body text, without its subsections."""
        return self.source_text[self.body_start:self.body_end]

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "end_line": self.end_line,
            "marker": self.marker,
            "family": self.family,
            "number": self.number,
            "level": self.level,
            "title": self.title,
            "inline_body": self.inline_body,
            "outline": self.outline,
            "start": self.start,
            "end": self.end,
            "title_start": self.title_start,
            "title_end": self.title_end,
            "body_start": self.body_start,
            "body_end": self.body_end,
        }


@dataclass(frozen=True, slots=True)
class Document:
    """One report: a whole file, or one report of a compilation page.

    Attributes:
        path: file the document came from.
        index: 0-based position of the document in its file.
        title: the report's title where the file gives one, else ``None``.
        title_line: line of that title (may be a noise teaser line), else ``None``.
        start_line, end_line: first and last line, title and meta lines
            included, noise lines at the edges excluded.
        start, end: character offsets of that line span (end excludes the
            last newline).
        kind: ``summary``, ``plan`` or ``other`` (GUIDE.md "Document fields").
        meta_lines: lines carrying metadata of this report (source, dates,
            signature block).
        sections: every section, in line order, flat; the tree is in
            ``Section.parent``/``Section.children``.
        source_text: the file's text, for the ``text`` property.
    """

    path: str
    index: int
    title: str | None
    title_line: int | None
    start_line: int
    end_line: int
    start: int
    end: int
    kind: DocumentKind
    meta_lines: tuple[int, ...]
    sections: tuple[Section, ...]
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.source_text[self.start:self.end]

    @property
    def roots(self) -> tuple[Section, ...]:
        """Top-level sections (those without a parent)."""
        return tuple(s for s in self.sections if s.parent is None)

    def parent_of(self, section: Section) -> Section | None:
        return None if section.parent is None else self.sections[section.parent]

    def children_of(self, section: Section) -> tuple[Section, ...]:
        return tuple(self.sections[i] for i in section.children)

    def section_at(self, line: int) -> Section | None:
        """The innermost section whose extent holds ``line``, if any."""
        lines = [s.line for s in self.sections]  # sections are in line order
        at = bisect.bisect_right(lines, line) - 1
        section = self.sections[at] if at >= 0 else None
        while section is not None and section.end_line < line:
            section = self.parent_of(section)
        return section

    def to_dict(self, nested: bool = False) -> dict[str, Any]:
        if nested:
            def build(section: Section) -> dict[str, Any]:
                item = section.to_dict()
                item["children"] = [build(self.sections[i]) for i in section.children]
                return item
            sections = [build(s) for s in self.roots]
        else:
            sections = [s.to_dict() for s in self.sections]
        return {
            "index": self.index,
            "title": self.title,
            "title_line": self.title_line,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "meta_lines": list(self.meta_lines),
            "sections": sections,
        }


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A parsed input file: its documents and the lines that belong to none.

    Attributes:
        source: the decoded text and where it came from.
        documents: the reports found in the file, in line order.
        noise_lines: page furniture, site blurbs, collection titles, teasers.
        page_meta_lines: metadata of a whole compilation page.
        line_roles: the role of every line (index 0 is line 1).
    """

    source: SourceText
    documents: tuple[Document, ...]
    noise_lines: tuple[int, ...]
    page_meta_lines: tuple[int, ...]
    line_roles: tuple[LineRole, ...] = field(default=(), repr=False, compare=False)

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def text(self) -> str:
        return self.source.text

    def to_dict(self, nested: bool = False) -> dict[str, Any]:
        """The gold-file form of the structure guide (GUIDE.md), plus provenance fields."""
        from pathlib import PurePath

        return {
            "file": PurePath(self.source.path).name,
            "path": self.source.path,
            "encoding": self.source.encoding,
            "noise_lines": list(self.noise_lines),
            "page_meta_lines": list(self.page_meta_lines),
            "documents": [d.to_dict(nested=nested) for d in self.documents],
        }


@dataclass(frozen=True, slots=True)
class Mention:
    """A typed fact found in text (the mentions guide, GUIDE_mentions.md).

    Attributes:
        type: one of quantity, percent, money, date, period, frequency,
            activity, document.
        text: the mention exactly as written; ``text == source[start:end]``.
        start, end: absolute offsets in the text the extractor was given.
        line, col_start, col_end: 1-based line and offsets within that line.
        value/low/high: normalised number (base units: yuan, persons, 0–100
            for percent); ``low``/``high`` for a range.
        unit: unit or classifier as written, magnitude included (``万元``).
        qualifier: approx, at_least, at_most, less_than or more_than.
        masked: True when a part is hidden (``20xx``, ``__``, ``××``).
        year … second, end_year/end_month/end_day: calendar fields of a date.
        period: named relative span (this_year, first_half, q1 …).
        resolved_year: the calendar year a yearless date or a period refers
            to, resolved against the document's year where it states one.
        per, count: a frequency (``每周2次`` → week, 2).
        name: an activity's or document's name without quotes or 《》.
        path: file the mention came from; doc_index and section_outline
            locate it in the parse (``None`` outside any).
    """

    type: MentionType
    text: str
    start: int
    end: int
    line: int
    col_start: int
    col_end: int
    value: float | int | None = None
    low: float | int | None = None
    high: float | int | None = None
    unit: str | None = None
    qualifier: str | None = None
    masked: bool | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    end_year: int | None = None
    end_month: int | None = None
    end_day: int | None = None
    period: str | None = None
    resolved_year: int | None = None
    per: str | None = None
    count: int | None = None
    name: str | None = None
    path: str | None = None
    doc_index: int | None = None
    section_outline: str | None = None
    section_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The mention as a JSON-ready dict; fields that do not apply are left out."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class ThemeScore:
    """A theme's score for a section or document; primary theme first in lists."""

    id: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 4)}


#: The theme of a section no theme of the taxonomy fits.
OTHER_THEME = "other"


# --- Theme results ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionThemes:
    """The themes of one section.

    Attributes:
        line: the section's heading line.
        index: its position in ``Document.sections``.
        themes: 1 to 3 themes, primary first (``other`` when none fits).
        basis: what decided the primary: ``text`` (its own heading, body or
            subsections), ``context`` (no evidence of its own: its parent's or
            the document's theme) or ``off_domain``.
    """

    line: int
    index: int
    themes: tuple[ThemeScore, ...]
    basis: str = "text"

    @property
    def primary(self) -> str:
        return self.themes[0].id if self.themes else OTHER_THEME


@dataclass(frozen=True, slots=True)
class DocumentThemes:
    """The themes, scope and kind of one document, and its sections' themes."""

    index: int
    start_line: int
    kind: str
    scope: str
    themes: tuple[ThemeScore, ...]
    sections: tuple[SectionThemes, ...]

    @property
    def primary(self) -> str:
        return self.themes[0].id if self.themes else OTHER_THEME


@dataclass(frozen=True, slots=True)
class ClassifiedFile:
    """A parsed file with its theme classification.

    Attributes:
        parsed: the structural parse that was classified.
        documents: one :class:`DocumentThemes` per document, in order.
        taxonomy: ``name/version`` of the taxonomy used.
        coder: name/version of the coder (``reportmine.themes.CODER_VERSION``).
    """

    parsed: ParsedFile
    documents: tuple[DocumentThemes, ...]
    taxonomy: str = ""
    coder: str = ""

    @property
    def path(self) -> str:
        return self.parsed.path

    def to_dict(self, nested: bool = False) -> dict[str, Any]:
        """The parse JSON with ``themes`` on every section and ``scope`` and
        ``themes`` on every document (``[{"id", "score"}]``, primary first)."""
        out = self.parsed.to_dict(nested=nested)
        out["taxonomy"] = self.taxonomy
        out["coder"] = self.coder
        for doc_out, doc in zip(out["documents"], self.documents, strict=True):
            doc_out["scope"] = doc.scope
            doc_out["themes"] = [t.to_dict() for t in doc.themes]
            by_line = {s.line: s for s in doc.sections}
            stack = list(doc_out["sections"])
            while stack:
                section = stack.pop()
                found = by_line.get(section["line"])
                section["themes"] = [t.to_dict() for t in found.themes] if found else []
                stack.extend(section.get("children") or [])
        return out


# --- Metadata ----------------------------------------------------------------------

#: Manifest columns with a meaning; any other column is kept as an extra.
MANIFEST_FIELDS = ("hospital", "region", "level", "year")


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """Who, where and when, each with its source (``unknown`` when not stated)."""

    hospital: str | None = None
    hospital_source: str = "unknown"
    region: str | None = None
    region_source: str = "unknown"
    level: str | None = None
    level_source: str = "unknown"
    year: int | None = None
    year_source: str = "unknown"
    extra: dict[str, str] = field(default_factory=dict)


# --- One input's outcome -------------------------------------------------------------


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
            tables' ``file`` column holds (see :class:`reportmine.inputs.InputFile`);
            ``None``: the file's name.
        metadata: one :class:`DocumentMeta` per document of ``parsed``, in order (stage 7).
    """

    path: str
    status: Literal["ok", "failed"]
    error: str | None = None
    stage: str | None = None
    sha256: str | None = None
    size: int | None = None
    parsed: ParsedFile | None = None
    mentions: tuple[Mention, ...] = ()
    themes: ClassifiedFile | None = field(default=None, compare=False)
    seconds: float = field(default=0.0, compare=False)
    key: str | None = None
    metadata: tuple[DocumentMeta, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def file_key(self) -> str:
        """The key the result's rows are built on: its run's key, else (a result made without one) its file name."""
        return self.key or PurePath(self.path).name
