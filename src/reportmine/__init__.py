"""reportmine: Chinese hospital work reports -> structured, comparable data.

The public API, re-exported here::

    import reportmine
    parsed = reportmine.parse_file("corpus/002_79988078600ed0aa.txt")
    for doc in parsed.documents:
        for section in doc.sections:
            print(section.outline, section.title)
"""

from __future__ import annotations

from .errors import InputError, ReportmineError, TaxonomyError
from .model import (
    FAMILIES,
    Document,
    FileFailure,
    Mention,
    ParsedFile,
    Section,
    SourceText,
    ThemeScore,
)
from .parsing import parse_file, parse_source, parse_text
from .reading import iter_input_paths, read_file, read_text
from .samples import sample_corpus

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "Document",
    "FileFailure",
    "InputError",
    "Mention",
    "ParsedFile",
    "ReportmineError",
    "Section",
    "SourceText",
    "TaxonomyError",
    "ThemeScore",
    "__version__",
    "iter_input_paths",
    "parse_file",
    "parse_source",
    "parse_text",
    "read_file",
    "read_text",
    "sample_corpus",
]
