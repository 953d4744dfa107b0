"""One file through the structural stages: read, clean, split, sections.

In: a path, raw bytes' decoded text or a :class:`~reportmine.model.SourceText`.
Out: a :class:`~reportmine.model.ParsedFile` with its documents, their section
trees, and the noise and page-metadata lines, as ``shared/gold/GUIDE.md``
defines a correct parse.
"""

from __future__ import annotations

import os

from .cleaning import CleaningRules, classify_lines
from .documents import split_documents
from .model import Document, ParsedFile, SourceText
from .reading import read_file, read_text
from .sections import build_sections


def parse_source(source: SourceText, rules: CleaningRules | None = None) -> ParsedFile:
    """Parse decoded text into documents and section trees."""
    infos = classify_lines(source, rules)
    layout = split_documents(source, infos, rules)
    documents = []
    for index, span in enumerate(layout.documents):
        start = source.line_span(span.start_line)[0]
        end = source.line_span(span.end_line)[1]
        sections = build_sections(source, span.content_lines, end)
        documents.append(
            Document(
                path=source.path,
                index=index,
                title=span.title,
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
