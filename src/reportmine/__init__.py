"""reportmine: Chinese hospital work reports -> structured, comparable data.

The public API, re-exported here::

    import reportmine
    parsed = reportmine.parse_file("corpus/002_79988078600ed0aa.txt")
    for doc in parsed.documents:
        for section in doc.sections:
            print(section.outline, section.title)
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the submodule that defines it. Submodules load on first use
# (PEP 562), so `import reportmine` and `reportmine --help` import none of
# pandas, jieba, scikit-learn or networkx (tests/test_startup.py).
# ``reportmine.compare`` is the comparison's package (its ``compare()`` compares
# a corpus's tables): a function of that name here would be shadowed by it.
_EXPORTS = {
    "Comparison": "compare",
    "export_graphs": "compare",
    "write_comparison": "compare",
    "GoldError": "errors",
    "InputError": "errors",
    "OutputError": "errors",
    "SettingsError": "errors",
    "ReportmineError": "errors",
    "TaxonomyError": "errors",
    "Evaluation": "evaluate",
    "cohen_kappa": "evaluate",
    "score_mentions": "evaluate",
    "score_structure": "evaluate",
    "score_themes": "evaluate",
    "theme_agreement": "evaluate",
    "extract": "mentions",
    "extract_parsed": "mentions",
    "ClassifiedFile": "model",
    "Document": "model",
    "DocumentMeta": "model",
    "DocumentThemes": "model",
    "FAMILIES": "model",
    "FileResult": "model",
    "Mention": "model",
    "ParsedFile": "model",
    "Section": "model",
    "SectionThemes": "model",
    "SourceText": "model",
    "ThemeScore": "model",
    "parse_file": "parsing",
    "render_report": "report",
    "write_report": "report",
    "parse_source": "parsing",
    "parse_text": "parsing",
    "Analysis": "analysis",
    "analyze": "analysis",
    "process_file": "pipeline",
    "run_files": "pipeline",
    "find_cjk_font": "plotting",
    "use_cjk_font": "plotting",
    "iter_input_paths": "inputs",
    "read_file": "reading",
    "read_text": "reading",
    "sample_corpus": "samples",
    "Settings": "settings",
    "SCHEMAS": "store.schemas",
    "build_tables": "store.rows",
    "load_tables": "store.files",
    "write_tables": "store.files",
    "tabulate": "runner",
    "Taxonomy": "taxonomy",
    "Theme": "taxonomy",
    "classify_file": "themes",
    "classify_parsed": "themes",
    "classify_text": "themes",
    "codebook": "codebooks",
    "load_taxonomy": "taxonomy",
}

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "SCHEMAS",
    "Analysis",
    "ClassifiedFile",
    "Comparison",
    "Document",
    "DocumentMeta",
    "DocumentThemes",
    "Evaluation",
    "FileResult",
    "GoldError",
    "InputError",
    "Mention",
    "OutputError",
    "ParsedFile",
    "ReportmineError",
    "Section",
    "SectionThemes",
    "Settings",
    "SettingsError",
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
    "export_graphs",
    "extract",
    "extract_parsed",
    "find_cjk_font",
    "iter_input_paths",
    "load_tables",
    "load_taxonomy",
    "parse_file",
    "parse_source",
    "parse_text",
    "process_file",
    "read_file",
    "read_text",
    "render_report",
    "run_files",
    "sample_corpus",
    "score_mentions",
    "score_structure",
    "score_themes",
    "tabulate",
    "theme_agreement",
    "use_cjk_font",
    "write_comparison",
    "write_report",
    "write_tables",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reportmine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
