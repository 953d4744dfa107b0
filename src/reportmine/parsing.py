"""One file through the structural stages: read, clean, split, sections.

In: a path, raw bytes' decoded text or a :class:`~reportmine.model.SourceText`.
Out: a :class:`~reportmine.model.ParsedFile` with its documents, their section
trees, and the noise and page-metadata lines, as the structure guide
(GUIDE.md) defines a correct parse.

Text with a normalised view (Traditional Chinese, see
:func:`reportmine.reading.simplified_view`) is matched on that view, which
has the same offsets, and every string of the result (titles, markers,
outlines) is then sliced from the original text.
"""

from __future__ import annotations

import dataclasses
import os

from .cleaning import CleaningRules, classify_lines
from .documents import split_documents
from .model import Document, ParsedFile, Section, SourceText
from .reading import read_file, read_text
from .sections import build_sections


def parse_source(source: SourceText, rules: CleaningRules | None = None) -> ParsedFile:
    """Parse decoded text into documents and section trees."""
    # The stages match on the normalised view; offsets are the same in both.
    view = source if source.normalized is None else dataclasses.replace(source, text=source.normalized)
    infos = classify_lines(view, rules)
    layout = split_documents(view, infos, rules)
    documents = []
    for index, span in enumerate(layout.documents):
        start = source.line_span(span.start_line)[0]
        end = source.line_span(span.end_line)[1]
        sections = build_sections(view, span.content_lines, end)
        title = span.title
        if view is not source:
            sections = _restore_sections(sections, source.text)
            title = _restore(title, span.title_line, view, source)
        documents.append(
            Document(
                path=source.path,
                index=index,
                title=title,
                title_line=span.title_line,
                start_line=span.start_line,
                end_line=span.end_line,
                start=start,
                end=end,
                kind=span.kind,
                meta_lines=span.meta_lines,
                sections=sections,
                source_text=source.text,
            )
        )
    return ParsedFile(
        source=source,
        documents=tuple(documents),
        noise_lines=layout.noise_lines,
        page_meta_lines=layout.page_meta_lines,
        line_roles=layout.roles,
    )


def _restore(piece: str | None, line: int | None, view: SourceText, source: SourceText) -> str | None:
    """The original text of ``piece``, found in line ``line`` of the view."""
    if piece is None or line is None:
        return piece
    start, end = view.line_span(line)
    at = view.text.find(piece, start, end)
    return source.text[at:at + len(piece)] if at != -1 else piece


def _restore_sections(sections: tuple[Section, ...], text: str) -> tuple[Section, ...]:
    """Sections whose marker, title and outline are sliced from the original ``text``."""
    restored: list[Section] = []
    for section in sections:
        marker = text[section.start:section.start + len(section.marker)]
        # The outline's last part is the marker's number, inside the marker.
        label = section.outline.rsplit("/", 1)[-1]
        at = section.marker.find(label)
        label = marker[at:at + len(label)] if at != -1 else label
        outline = label if section.parent is None else f"{restored[section.parent].outline}/{label}"
        restored.append(dataclasses.replace(
            section,
            marker=marker,
            title=text[section.title_start:section.title_end],
            outline=outline,
            source_text=text,
        ))
    return tuple(restored)


def parse_text(text: str, path: str = "<string>") -> ParsedFile:
    """Parse a report page held in a string.

    >>> parsed = parse_text("2016年工作总结\\n一、加强管理\\n1、建立制度。\\n")
    >>> [(s.marker, s.level, s.title) for s in parsed.documents[0].sections]
    [('一、', 1, '加强管理'), ('1、', 2, '建立制度')]
    """
    return parse_source(read_text(text, path))


def parse_file(path: str | os.PathLike[str]) -> ParsedFile:
    """Read and parse one report file (raises :class:`~reportmine.errors.InputError`)."""
    return parse_source(read_file(path))
