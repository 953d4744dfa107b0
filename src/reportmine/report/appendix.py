"""The page's appendix: the sections (or mentions) behind every figure, and the documents linked.

Written last, once the figures have registered every block they link to:
:func:`appendix` fills them (:func:`~reportmine.report.data.fill_blocks`)
and lists them by group and theme, then by kind; :func:`documents_list`
lists the documents any row of the page links to.
"""

from __future__ import annotations

from typing import Any

from .anchors import Anchors
from .data import SECTION_CAP, Block, ReportData, fill_blocks
from .markup import esc, fmt_int, fmt_year, html_table, lit, natural, nothing, slug
from .svg import cut


def _section_rows(links: Anchors, block: Block) -> str:
    body = [[links.doc_link(s.get("doc_id")), esc(s.get("outline")), esc(s.get("file")), fmt_int(s.get("line")),
             esc(cut(str(s.get("title") or "")[:200], 600))] for s in block.rows]
    return html_table(["document", "section", "file", "line", "title"], body, numeric=(3,)) + _block_more(block)


def _mention_rows(links: Anchors, block: Block) -> str:
    body = []
    for m in block.rows:
        section = m.get("section") or {}
        body.append([links.doc_link(m.get("doc_id")), esc(section.get("outline")), esc(m.get("file")),
                     fmt_int(m.get("line")), esc(cut(str(section.get("title") or "")[:200], 300)), esc(m.get("text"))])
    return (html_table(["document", "section", "file", "line", "section title", "mention"], body, numeric=(3,))
            + _block_more(block))


def _block_more(block: Block) -> str:
    if block.total <= len(block.rows):
        return ""
    return (f'<p class="note">First {len(block.rows)} of {fmt_int(block.total)} by document and line; all of them in '
            f"<code>OUT/reportmine.duckdb</code> (or the Parquet tables): <code>{esc(block.query)}</code></p>")


def _block_html(links: Anchors, block: Block, level: str = "h4") -> str:
    if not block.rows:
        listing = nothing(block.note or "no sections")
    elif block.mentions:
        listing = _mention_rows(links, block)
    else:
        listing = _section_rows(links, block)
    note = f' <span class="id">{fmt_int(block.total)} · {esc(block.note)}</span>' if block.note else ""
    return f'<div class="block" id="{block.anchor}"><{level}>{esc(block.heading)}{note}</{level}>{listing}</div>'


def appendix(data: ReportData, links: Anchors) -> str:
    """Every registered block, filled: by group and primary theme, then by kind; then the documents list."""
    blocks = links.blocks.by_anchor
    # Every theme of a group shown or linked to gets a block, not only those a figure links to.
    for group in data.groups:
        if data.is_shown(group) or f"sec-{data.group_key[group]}" in blocks:
            links.group_anchor(group)
            for theme in data.themes_of(group):
                links.group_theme_anchor(group, theme)
    fill_blocks(data, links.blocks)
    out = ['<p class="note">Each figure\'s bars, cells and nodes link here. Rows give the document, the section\'s '
           f"outline path, file and line of its heading; a block lists its first {SECTION_CAP} by document and "
           "line, with the total and the SQL query listing all of them.</p>"]

    out.append("<h3>By group and primary theme</h3>")
    linked = [g for g in data.groups if f"sec-{data.group_key[g]}" in blocks]
    for group in linked:
        anchor = f"sec-{data.group_key[group]}"
        themes = data.themes_of(group)
        index = ", ".join(f'<a href="#{links.group_theme_anchor(group, t)}">{data.theme_html(t)}</a> '
                          f"({fmt_int(data.group_theme_n[(group, t)])})" for t in themes)
        out.append(f'<div id="{anchor}"><h3>{esc(group)} <span class="id">{fmt_int(data.sections_of(group))} sections'
                   f"</span></h3><p>{index or nothing('no sections')}</p>")
        prefix = anchor + "-"
        for key in sorted((a for a in blocks if a.startswith(prefix)),
                          key=lambda a: data.theme_sort(_theme_of(data, a, prefix))):
            out.append(_block_html(links, blocks[key]))
        out.append("</div>")
    # Blocks for groups a figure names but no document holds (a comparison built elsewhere).
    gkeys = {f"sec-{data.group_key[g]}" for g in linked}
    known = gkeys | {a for a in blocks for g in gkeys if a.startswith(g + "-")}
    orphans = sorted(a for a in blocks if a.startswith("sec-g") and a not in known)
    for key in orphans:
        out.append(_block_html(links, blocks[key]))

    groups_of = [("By theme (all groups)", "sec-t-"), ("Plans and summaries", "sec-k-"),
                 ("Distinctive terms", "sec-w-"), ("Keywords", "sec-kw-"), ("Quantities", "sec-q-"),
                 ("Activities", "sec-act-"), ("Mentions by type", "sec-m-")]
    for heading, prefix in groups_of:
        keys = [a for a in blocks if a.startswith(prefix)]
        if not keys:
            continue
        out.append(f"<h3>{esc(heading)}</h3>")
        for key in sorted(keys, key=natural):
            out.append(_block_html(links, blocks[key]))
    out.append(documents_list(data, links))
    return "\n".join(out)


def _theme_of(data: ReportData, anchor: str, prefix: str) -> str:
    tail = anchor[len(prefix):]
    for theme in data.theme_names:
        if slug(theme) == tail:
            return theme
    return tail


def documents_list(data: ReportData, links: Anchors) -> str:
    """The documents the page links to, by kind, with every kind's count (the documents table has them all)."""
    out = ['<h3 id="documents">Documents</h3>']
    kinds: dict[str, list[dict[str, Any]]] = {}
    for d in data.documents:
        kinds.setdefault(str(d.get("kind") or "unknown"), []).append(d)
    if not kinds:
        out.append(nothing("no documents"))
    # Documents a listed duplicate copies are linked too: take them before listing.
    for d in data.documents:
        if str(d["doc_id"]) in links.linked_docs and d.get("duplicate_of"):
            links.doc_link(d["duplicate_of"])
    for kind in sorted(kinds):
        listed = [d for d in kinds[kind] if str(d["doc_id"]) in links.linked_docs]
        out.append(f'<h4 id="docs-{slug(kind)}">{esc(kind)} <span class="id">{fmt_int(len(kinds[kind]))} documents, '
                   f"{fmt_int(len(listed))} linked from this page</span></h4>")
        rows = []
        for d in listed:
            did = str(d["doc_id"])
            lines = f"{fmt_int(d.get('start_line'))}–{fmt_int(d.get('end_line'))}"
            rows.append([f'<span id="{data.doc_anchor[did]}">{esc(did)}</span>', esc(d.get("file")), esc(lines),
                         esc(d.get("title")), esc(d.get("group")), esc(d.get("group_source")), fmt_year(d.get("year")),
                         fmt_int(d.get("sections")),
                         links.doc_link(d["duplicate_of"]) if d.get("duplicate_of") else ""])
        out.append(html_table(["document", "file", "lines", "title", "group", "group source", "year", "sections",
                               "duplicate of"], rows, numeric=(6, 7)))
        if len(listed) < len(kinds[kind]):
            out.append(f'<p class="note">Every {esc(kind)} document is in <code>OUT/documents.csv</code> '
                       f"(<code>SELECT * FROM documents WHERE kind = {esc(lit(kind))}</code>).</p>")
    return "\n".join(out)
