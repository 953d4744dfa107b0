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
from .evaluate import Evaluation, cohen_kappa, score_mentions, score_structure, score_themes, theme_agreement
from .model import (
    FAMILIES,
    Document,
    Mention,
    ParsedFile,
    Section,
    SourceText,
    ThemeScore,
)
from .parsing import parse_file, parse_source, parse_text
from .pipeline import Analysis, FileResult, analyze, process_file, run_files
from .reading import iter_input_paths, read_file, read_text
from .samples import sample_corpus
from .tables import SCHEMAS, build_tables, load_tables, write_tables
from .themes import (
    ClassifiedFile,
    DocumentThemes,
    SectionThemes,
    Taxonomy,
    Theme,
    classify_file,
    classify_parsed,
    classify_text,
    codebook,
    load_taxonomy,
)

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "SCHEMAS",
    "Analysis",
    "ClassifiedFile",
    "Document",
    "DocumentThemes",
    "Evaluation",
    "FileResult",
    "InputError",
    "Mention",
    "ParsedFile",
    "ReportmineError",
    "Section",
    "SectionThemes",
    "SourceText",
    "Taxonomy",
    "TaxonomyError",
    "Theme",
    "ThemeScore",
    "__version__",
    "analyze",
    "build_tables",
    "classify_file",
    "classify_parsed",
    "classify_text",
    "codebook",
    "cohen_kappa",
    "iter_input_paths",
    "load_tables",
    "load_taxonomy",
    "parse_file",
    "parse_source",
    "parse_text",
    "process_file",
    "read_file",
    "read_text",
    "run_files",
    "sample_corpus",
    "score_mentions",
    "score_structure",
    "score_themes",
    "theme_agreement",
    "write_tables",
]
