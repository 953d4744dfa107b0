"""Text renderings of a parse for people: an indented outline and Markdown.

JSON forms live on the model (``ParsedFile.to_dict``); this module makes the
views a person reads in a terminal or a notebook.
"""

from __future__ import annotations

from .model import ParsedFile

_TREE_TITLE_CHARS = 60


def _short(text: str, limit: int = _TREE_TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_tree(parsed: ParsedFile) -> str:
    """An indented outline: documents, then sections by level, with line numbers."""
    out = [f"{parsed.path}  ({parsed.source.encoding}, {parsed.source.line_count} lines, "
           f"{len(parsed.documents)} documents, {len(parsed.noise_lines)} noise lines)"]
    for doc in parsed.documents:
        title = doc.title or "(untitled)"
        out.append(f"├─ [{doc.index}] {title}  <{doc.kind}> lines {doc.start_line}-{doc.end_line}"
                   + (f"  meta {list(doc.meta_lines)}" if doc.meta_lines else ""))
        for section in doc.sections:
            pad = "│  " + "   " * (section.level - 1)
            body = " …" if section.inline_body else ""
            out.append(f"{pad}├─ {section.marker} {_short(section.title)}{body}  (L{section.line})")
    return "\n".join(out)


def render_markdown(parsed: ParsedFile) -> str:
    """Markdown outline: a heading per document, nested list items per section."""
    out = [f"# {parsed.path}", ""]
    for doc in parsed.documents:
        out.append(f"## {doc.title or '(untitled report)'}")
        out.append("")
        out.append(f"*{doc.kind}*, lines {doc.start_line}–{doc.end_line}")
        out.append("")
        for section in doc.sections:
            indent = "  " * (section.level - 1)
            title = section.title.replace("\n", " ")
            out.append(f"{indent}- **{section.marker}** {title} (line {section.line})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
