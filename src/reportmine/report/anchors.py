"""The registry of the page's links: every anchor a figure links to, and the appendix block behind it.

A figure asks :class:`Anchors` for the anchor of what it shows (a group, a
group's theme, a keyword, a mention type, a document); the first call
registers the block the appendix will list there, so the appendix holds
exactly the blocks the page links to.
"""

from __future__ import annotations

import zlib
from typing import Any

from .data import GROUP_SQL, THEME_SQL, Block, Blocks, ReportData, mention_query, section_query
from .markup import esc, lit, slug


class Anchors:
    """The blocks registered so far (:attr:`blocks`) and the documents linked (:attr:`linked_docs`)."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.blocks = Blocks()
        self.linked_docs: set[str] = set()

    def group_anchor(self, group: str) -> str:
        """The group's header block in the appendix (its themes follow it)."""
        anchor = f"sec-{self.data.group_key.get(group) or 'g-' + slug(group)}"
        if anchor not in self.blocks.by_anchor:
            self.blocks.by_anchor[anchor] = Block(anchor, group)   # a header block: the themes follow it
        return anchor

    def group_theme_anchor(self, group: str, theme: str) -> str:
        """The sections of ``group`` whose primary theme is ``theme``."""
        gkey = self.data.group_key.get(group) or "g-" + slug(group)
        anchor = f"sec-{gkey}-{slug(theme)}"
        if anchor not in self.blocks.by_anchor:
            block = Block(anchor, f"{group} · {self.data.name(theme)} ({theme})",
                          note="sections of the group with this primary theme",
                          query=section_query(f"{GROUP_SQL} = {lit(group)} AND {THEME_SQL} = {lit(theme)}"))
            self.blocks.by_anchor[anchor] = self.blocks.by_group_theme[(group, theme)] = block
        return anchor

    def theme_anchor(self, theme: str) -> str:
        """The sections of every group whose primary theme is ``theme``."""
        anchor = f"sec-t-{slug(theme)}"
        if anchor not in self.blocks.by_anchor:
            block = Block(anchor, f"{self.data.name(theme)} ({theme}), all groups",
                          note="sections with this primary theme",
                          query=section_query(f"{THEME_SQL} = {lit(theme)}"))
            self.blocks.by_anchor[anchor] = self.blocks.by_theme[theme] = block
        return anchor

    def kind_theme_anchor(self, kind: str, theme: str) -> str:
        """The sections of ``kind`` documents (plan, summary) whose primary theme is ``theme``."""
        anchor = f"sec-k-{slug(kind)}-{slug(theme)}"
        if anchor not in self.blocks.by_anchor:
            block = Block(anchor, f"{kind} · {self.data.name(theme)} ({theme})",
                          note=f"sections of {kind} documents with this primary theme",
                          query=section_query(f"d.kind = {lit(kind)} AND {THEME_SQL} = {lit(theme)}"))
            self.blocks.by_anchor[anchor] = self.blocks.by_kind_theme[(kind, theme)] = block
        return anchor

    def text_anchor(self, prefix: str, key: str, heading: str, needle: str, group: str | None = None) -> str:
        """Sections whose title or body contains ``needle`` (in ``group`` when given)."""
        anchor = f"sec-{prefix}-{key}"
        if anchor not in self.blocks.by_anchor:
            where = f" in {group}" if group else ""
            condition = f"lower(s.title || chr(10) || coalesce(s.body, '')) LIKE {lit('%' + needle + '%')}"
            if group:
                condition = f"{GROUP_SQL} = {lit(group)} AND {condition}"
            block = Block(anchor, heading, note=f"sections{where} containing “{needle}”",
                          query=section_query(condition))
            self.blocks.by_anchor[anchor] = block
            if needle:
                self.blocks.by_text.append((needle, group, block))
        return anchor

    def mention_anchor(self, key: str, heading: str, match: tuple[str, Any], note: str) -> str:
        """Mentions of ``match``: ``("type", t)``, ``("quantity", (type, unit, theme))`` or ``("activity", name)``."""
        anchor = f"sec-{key}"
        if anchor not in self.blocks.by_anchor:
            block = Block(anchor, heading, note=note, mentions=True, query=mention_query(match))
            self.blocks.by_anchor[anchor] = self.blocks.by_mention.setdefault(match, block)
        return anchor

    def activity_anchor(self, activity: str) -> str:
        """The mentions of an activity."""
        return self.mention_anchor(f"act-{crc(activity):08x}", f"activity “{activity}”", ("activity", activity),
                                   "activity mentions")

    def doc_link(self, doc_id: Any) -> str:
        """A link to the document's entry in the documents list (which then lists it), else its escaped id."""
        anchor = self.data.doc_anchor.get(str(doc_id))
        if anchor:
            self.linked_docs.add(str(doc_id))
        return f'<a href="#{anchor}">{esc(doc_id)}</a>' if anchor else esc(doc_id)


def crc(text: str) -> int:
    """A stable (unsalted) hash for anchor names; Python's hash() changes per process."""
    return zlib.crc32(text.encode("utf-8"))
