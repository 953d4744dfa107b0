"""Stage 4, sections: numbering markers -> a section tree per document.

In: one document's content lines (from :mod:`reportmine.documents`). Out: a
tuple of :class:`~reportmine.model.Section` in line order, with levels,
parents, children, titles and exact offsets, as the structure guide
(GUIDE.md) defines them.

How it works:

1. :func:`reportmine.markers.match_marker` reads the numbering marker at the
   start of a line (after white space, a ``- `` bullet or ``#`` marks), for
   every family of the guide, full- and half-width. Markers with their
   punctuation are *certain*; markers written without it (``六开展…``,
   ``1省、市级…``) and ``5、7月``-like starts are *candidates* that the
   numbering context must confirm (:func:`_confirm_candidates`).
2. Families rank in canonical order (:data:`reportmine.model.FAMILIES`)
   unless the document plainly uses another order throughout
   (:func:`_family_order`).
3. A stack of open sections gives each section its parent: the nearest
   earlier open section of a higher-ranked family. Depth in that tree is the
   level, so levels are compressed to the families a document uses and
   orphan items (``1、`` before the first ``一、``) sit at level 1.

Everything is a single pass over the lines with anchored, bounded regexes,
so a 20 MB line or 100,000 markers parse in linear time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from .markers import MarkerMatch, match_marker
from .model import FAMILY_RANK, Section, SourceText

# Punctuation that cuts a heading from the body running on after it (GUIDE.md "Titles").
TITLE_CUT = "。：:；;"
# Trailing characters that are not part of a title (same set as the scorer's).
TITLE_TRAIL = "。，,；;：:、.．!！?？ \t\u3000\r\xa0\u2002\u2003"


# Restarts that show a document plainly uses its own family order; one restart
# can be an orphan run (sample corpus 004 篇十四: ``1、 2、 … 1) … 5) 1、``).
_INVERSION_MIN_RESTARTS = 2


@dataclass(slots=True)
class _Head:
    line: int
    match: MarkerMatch
    line_start: int
    line_end: int


def _confirm_candidates(heads: list[_Head]) -> list[_Head]:
    """Keep certain markers, and candidates the numbering sequence confirms.

    A candidate numbered N is confirmed when the nearest earlier kept marker
    of its family is N-1, or the next marker of its family is N+1 (so
    ``1省… 2院… 3重点…`` confirm one another, while a lone ``5、7月份`` or
    ``2型糖尿病`` does not). A bare Chinese numeral with a heading opener is
    confirmed when the document uses its family with punctuation elsewhere.
    """
    certain_families = {h.match.family for h in heads if h.match.certain}
    # Next head of the same family, found in one backward pass (no rescans).
    next_same: list[_Head | None] = [None] * len(heads)
    seen: dict[str, _Head] = {}
    for i in range(len(heads) - 1, -1, -1):
        next_same[i] = seen.get(heads[i].match.family)
        seen[heads[i].match.family] = heads[i]
    kept: list[_Head] = []
    last_kept: dict[str, _Head] = {}
    for i, head in enumerate(heads):
        m = head.match
        ok = m.certain
        if not ok:
            number = m.number or 0
            prev = last_kept.get(m.family)
            nxt = next_same[i]
            ok = (prev is not None and prev.match.number == number - 1) or (
                nxt is not None and nxt.match.number == number + 1
            )
            if not ok and m.family == "cn" and m.marker[-1:] not in "、．." and m.family in certain_families:
                ok = True
        if ok:
            kept.append(head)
            last_kept[m.family] = head
    return kept


def _family_order(heads: Sequence[_Head]) -> dict[str, int]:
    """Rank of each family in this document: canonical unless plainly inverted.

    Normally a lower family restarts at 1 under each item of a higher one
    (``一、 1、 2、 二、 1、``). When a canonically *higher* family restarts at 1
    right after a lower one (twice at least: three groups) and never the other way round
    (``（一） 一、 二、 （二） 一、``), the document uses its own order and the
    two families swap ranks (GUIDE.md "Levels").
    """
    rank = dict(FAMILY_RANK)
    restarts: dict[tuple[str, str], int] = {}
    last_number: dict[str, int] = {}
    for prev, cur in itertools.pairwise(heads):
        a, b = prev.match.family, cur.match.family
        last_number[a] = prev.match.number or 0
        # A restart goes back to 1 after the family had counted past it.
        if a != b and cur.match.number == 1 and last_number.get(b, 0) > 1:
            restarts[(a, b)] = restarts.get((a, b), 0) + 1
    for (upper, lower), count in restarts.items():
        # ``lower`` restarting under ``upper`` is normal when upper ranks higher.
        if rank[upper] > rank[lower] and count >= _INVERSION_MIN_RESTARTS and not restarts.get((lower, upper)):
            rank[upper], rank[lower] = rank[lower], rank[upper]
    return rank


def split_title(line: str, start_col: int) -> tuple[int, int, bool]:
    """Title columns and inline-body flag for the heading text from ``start_col``.

    The title runs to the first ``。：:；;`` (GUIDE.md "Titles"); trailing
    punctuation and white space are not part of it. ``inline_body`` is True
    when text follows the cut.
    """
    n = len(line)
    begin = start_col
    while begin < n and line[begin].isspace():
        begin += 1
    cut = n
    for i in range(begin, n):
        if line[i] in TITLE_CUT:
            cut = i
            break
    end = cut
    while end > begin and (line[end - 1] in TITLE_TRAIL or line[end - 1].isspace()):
        end -= 1
    inline_body = cut < n and bool(line[cut + 1:].strip(TITLE_TRAIL).strip())
    return begin, end, inline_body


@dataclass(frozen=True, slots=True)
class _Tree:
    """Each head's parent (an index into the heads, None at the top), level and children."""

    parents: list[int | None]
    levels: list[int]
    children: list[list[int]]


@dataclass(frozen=True, slots=True)
class _ContentLines:
    """A document's content lines in order, each one's position among them and end offset."""

    ordered: list[int]
    position: dict[int, int]
    end: dict[int, int]

    @classmethod
    def of(cls, source: SourceText, content_lines: Sequence[int]) -> _ContentLines:
        ordered = list(content_lines)
        return cls(ordered, {n: k for k, n in enumerate(ordered)}, {n: source.line_span(n)[1] for n in content_lines})

    def last_before(self, limit_line: int | None) -> int:
        """The content line before ``limit_line`` (the last one when None)."""
        if limit_line is None:
            return self.ordered[-1]
        k = self.position[limit_line] - 1
        return self.ordered[k]


def build_sections(
    source: SourceText,
    content_lines: Sequence[int],
    doc_end: int,
) -> tuple[Section, ...]:
    """Section tree of one document.

    Args:
        source: the file's text.
        content_lines: the document's content lines (not title, meta, noise
            or blank), in order; only these can be headings.
        doc_end: offset where the document ends, which bounds the last section.

    Returns:
        The sections in line order, with parents, children and levels.
    """
    heads = _find_heads(source, content_lines)
    if not heads:
        return ()
    tree = _tree(heads, _family_order(heads))
    lines = _ContentLines.of(source, content_lines)
    extent_last_line = _extent_last_lines(heads, tree.levels, lines)
    outlines: list[str] = []
    sections: list[Section] = []
    for i, head in enumerate(heads):
        parent = tree.parents[i]
        label = head.match.marker.strip(" \t\u3000、，,.．:：;；")
        outline = f"{outlines[parent]}/{label}" if parent is not None else label
        outlines.append(outline)
        sections.append(_section(source, heads, i, tree, lines, extent_last_line[i], outline, doc_end))
    return tuple(sections)


def _find_heads(source: SourceText, content_lines: Sequence[int]) -> list[_Head]:
    """The document's markers that the numbering confirms, one per heading line."""
    text = source.text
    heads: list[_Head] = []
    for number in content_lines:
        start, end = source.line_span(number)
        # Markers sit within the first few characters; do not scan long lines.
        match = match_marker(text[start:min(end, start + 64)])
        if match is not None:
            heads.append(_Head(number, match, start, end))
    return _confirm_candidates(heads)


def _tree(heads: Sequence[_Head], rank: dict[str, int]) -> _Tree:
    """Parents from a stack of open sections: the nearest earlier one of a higher-ranked family."""
    parents: list[int | None] = []
    levels: list[int] = []
    stack: list[int] = []
    for i, head in enumerate(heads):
        r = rank[head.match.family]
        while stack and rank[heads[stack[-1]].match.family] >= r:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        levels.append(levels[stack[-1]] + 1 if stack else 1)
        stack.append(i)

    children: list[list[int]] = [[] for _ in heads]
    for i, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(i)
    return _Tree(parents, levels, children)


def _extent_last_lines(heads: Sequence[_Head], levels: Sequence[int], lines: _ContentLines) -> list[int]:
    """Each section's last content line: the one before the next head at the same or a higher level."""
    next_boundary: list[int | None] = [None] * len(heads)
    open_stack: list[int] = []
    for i, head in enumerate(heads):
        while open_stack and levels[open_stack[-1]] >= levels[i]:
            next_boundary[open_stack.pop()] = head.line
        open_stack.append(i)
    return [lines.last_before(next_boundary[i]) for i in range(len(heads))]


def _section(
    source: SourceText,
    heads: Sequence[_Head],
    i: int,
    tree: _Tree,
    lines: _ContentLines,
    end_line: int,
    outline: str,
    doc_end: int,
) -> Section:
    """The section of head ``i``, its extent ending at content line ``end_line``."""
    text = source.text
    head = heads[i]
    line_text = text[head.line_start:head.line_end]
    title_begin, title_end, inline_body = split_title(line_text, head.match.end_col)
    end = min(lines.end[end_line], doc_end)
    start = head.line_start + head.match.marker_col
    body_start, body_end = _own_body(heads, i, tree.children[i], line_text, title_end, lines, end)
    return Section(
        path=source.path,
        line=head.line,
        marker=head.match.marker,
        family=head.match.family,
        number=head.match.number,
        level=tree.levels[i],
        title=line_text[title_begin:title_end],
        inline_body=inline_body,
        index=i,
        parent=tree.parents[i],
        children=tuple(tree.children[i]),
        outline=outline,
        start=start,
        end=max(end, head.line_start + title_end),
        title_start=head.line_start + title_begin,
        title_end=head.line_start + title_end,
        body_start=body_start,
        body_end=body_end,
        end_line=end_line,
        source_text=text,
    )


def _own_body(
    heads: Sequence[_Head],
    i: int,
    children: Sequence[int],
    line_text: str,
    title_end: int,
    lines: _ContentLines,
    end: int,
) -> tuple[int, int]:
    """Offsets of a section's own body: after the title cut on the heading line, up to the first child."""
    head = heads[i]
    cut_col = title_end
    while cut_col < len(line_text) and (
        line_text[cut_col] in TITLE_TRAIL or line_text[cut_col].isspace()
    ):
        cut_col += 1
    body_start = head.line_start + cut_col
    if children:
        first_child = heads[children[0]]
        k = lines.position[first_child.line] - 1
        body_end = lines.end[lines.ordered[k]] if k >= lines.position[head.line] else body_start
    else:
        body_end = end
    return body_start, max(body_end, body_start)
