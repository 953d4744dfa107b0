"""Stage 4, sections: numbering markers -> a section tree per document.

In: one document's content lines (from :mod:`reportmine.documents`). Out: a
tuple of :class:`~reportmine.model.Section` in line order, with levels,
parents, children, titles and exact offsets, as ``shared/gold/GUIDE.md``
defines them.

How it works:

1. :func:`match_marker` reads the numbering marker at the start of a line
   (after white space, a ``- `` bullet or ``#`` marks), for every family of
   the guide, full- and half-width. Markers with their punctuation are
   *certain*; markers written without it (``六开展…``, ``1省、市级…``) and
   ``5、7月``-like starts are *candidates* that the numbering context must
   confirm (:func:`_confirm_candidates`).
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
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .model import FAMILY_RANK, Section, SourceText

CN_DIGITS = "零〇一二三四五六七八九十百两"
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# Punctuation that cuts a heading from the body running on after it (GUIDE.md "Titles").
TITLE_CUT = "。：:；"
# Trailing characters that are not part of a title (same set as the scorer's).
TITLE_TRAIL = "。，,；;：:、.．!！?？ \t\u3000\r\xa0\u2002\u2003"

# Any Unicode white space: scraped pages indent with U+2003 EM SPACE, U+00A0 and U+3000.
_PREFIX = r"(?P<prefix>[^\S\n]*(?:(?:[-*+•·▪●◆]|#{1,6})[^\S\n]*)?)"
_N = r"[0-9０-９]{1,3}"
_C = r"[零〇一二三四五六七八九十百两]{1,4}"
_MARKER_RE = re.compile(
    _PREFIX
    + r"(?:"
    + rf"(?P<chapter>第(?:{_C}|{_N})[章节条](?:[ \t\u3000、，,.．:：]?))"
    + rf"|(?P<ordinal>第{_C}[，,、])"
    + rf"|(?P<paren_cn>[（(][ \t]?{_C}[ \t]?[）)][、，,.．]?)"
    + rf"|(?P<paren_arabic>[（(][ \t]?{_N}[ \t]?[）)][、，,.．]?|{_N}[)）][、，,.．]?|[⑴-⒇])"
    + rf"|(?P<cn>{_C}[ \t]?(?:、|[.．](?![0-9０-９])))"
    + rf"|(?P<arabic>{_N}[ \t]?(?:[、;；]|[.．:：](?![0-9０-９]))|[⒈-⒛])"
    + r"|(?P<circled>[①-⑳㉑-㉟])"
    + rf"|(?P<bare_arabic>{_N})(?=[\u4e00-\u9fff])"
    + rf"|(?P<bare_cn>{_C})(?=[\u4e00-\u9fff])"
    + r")"
)

# A character right after a bare number that makes it a quantity, not a
# marker (``2型糖尿病``, ``30名``, ``12月``).
_UNIT_CHARS = set(
    "型级年月日号时点分秒个名人位次项元万亿千百张床台件例份篇条所家天周岁期批组队类种套本页米倍成层楼栋"
    "余多近约届季度小间辆支批把块株头只双对斤克升吨亩户"
)
# Words a heading commonly opens with: a bare Chinese numeral is a marker
# only when one of these follows (``六开展形式多样的活动``), never in
# ``一年来``, ``三基三严``, ``二级医院``.
_HEADING_OPENERS = (
    "开展", "加强", "做好", "完善", "提高", "强化", "建立", "落实", "推进", "抓好", "积极",
    "认真", "继续", "进一步", "深化", "严格", "规范", "健全", "坚持", "努力", "狠抓", "切实",
    "全面", "大力", "不断", "实施", "重视", "优化", "改善", "创新", "注重", "扎实", "组织",
    "推动", "提升", "增强", "构建", "打造", "落实", "明确", "存在", "主要", "工作", "下一步",
)
# A ``N、`` followed by another number plus a date word is a list of months or
# days (``5、7月份``) unless the numbering sequence says it is item N.
_DATE_AFTER_RE = re.compile(r"[0-9０-９]{1,2}[ \t]?(?:[—\-–~～至到][0-9０-９]{1,2})?[ \t]?(?:月|日|号)")


# Restarts that show a document plainly uses its own family order; one restart
# can be an orphan run (sample corpus 004 篇十四: ``1、 2、 … 1) … 5) 1、``).
_INVERSION_MIN_RESTARTS = 2


@dataclass(frozen=True, slots=True)
class MarkerMatch:
    """A numbering marker at the start of a line.

    Columns are offsets within the line. ``certain`` is False for markers
    that need numbering context to be accepted.
    """

    family: str
    number: int | None
    marker: str
    marker_col: int
    end_col: int
    certain: bool


def cn_to_int(text: str) -> int | None:
    """Value of a small Chinese numeral (``十二`` → 12, ``二十`` → 20, ``一百零五`` → 105)."""
    total = 0
    current = 0
    seen = False
    for ch in text:
        if ch in _CN_VALUE:
            current = _CN_VALUE[ch]
            seen = True
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
            seen = True
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
            seen = True
        else:
            return None
    if not seen:
        return None
    if len(text) > 1 and all(c in _CN_VALUE for c in text):
        # Digit-by-digit writing (``一二`` as 12) is not a marker numeral.
        return None
    return total + current


def _arabic_to_int(text: str) -> int | None:
    digits = "".join(ch for ch in text.translate(_FULLWIDTH_DIGITS) if ch.isdigit())
    return int(digits) if digits else None


def match_marker(line: str) -> MarkerMatch | None:
    """Read the numbering marker at the start of ``line``, if there is one.

    >>> match_marker("（三）加强院感管理").family
    'paren_cn'
    >>> match_marker("一年来，我院") is None
    True
    """
    m = _MARKER_RE.match(line)
    if m is None:
        return None
    family = m.lastgroup
    assert family is not None
    marker = m.group(family)
    marker_col = m.start(family)
    end_col = m.end(family)
    rest = line[end_col:end_col + 8]
    certain = True
    number: int | None
    if family == "chapter":
        kind = marker.rstrip(" \t\u3000、，,.．:：")[-1]
        family = {"章": "chapter", "节": "section", "条": "article"}[kind]
        inner = marker[1:marker.index(kind)]
        number = cn_to_int(inner) if inner[0] in CN_DIGITS else _arabic_to_int(inner)
    elif family in ("cn", "paren_cn", "ordinal"):
        inner = "".join(ch for ch in marker if ch in CN_DIGITS)
        number = cn_to_int(inner)
    elif family == "bare_cn":
        number = cn_to_int(marker)
        if number is None or number < 2 or not rest.startswith(_HEADING_OPENERS):
            return None
        family, certain = "cn", False
    elif family == "bare_arabic":
        if rest[:1] in _UNIT_CHARS:
            return None
        number = _arabic_to_int(marker)
        family, certain = "arabic", False
    elif family == "circled":
        code = ord(marker)
        number = code - 0x2460 + 1 if code <= 0x2473 else code - 0x3251 + 21
    elif marker and "⑴" <= marker[0] <= "⒇":
        number = ord(marker[0]) - ord("⑴") + 1
    elif marker and "⒈" <= marker[0] <= "⒛":
        number = ord(marker[0]) - ord("⒈") + 1
    else:
        number = _arabic_to_int(marker)
    if number is None:
        return None
    if family == "arabic" and certain and marker.rstrip(" \t")[-1:] == "、" and _DATE_AFTER_RE.match(
        line, end_col
    ):
        certain = False
    if family in ("arabic", "paren_arabic") and number == 0:
        return None
    marker = marker.rstrip(" \t")
    return MarkerMatch(family, number, marker, marker_col, marker_col + len(marker), certain)


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

    The title runs to the first ``。：:；`` (GUIDE.md "Titles"); trailing
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
    text = source.text
    heads: list[_Head] = []
    for number in content_lines:
        start, end = source.line_span(number)
        # Markers sit within the first few characters; do not scan long lines.
        match = match_marker(text[start:min(end, start + 64)])
        if match is not None:
            heads.append(_Head(number, match, start, end))
    heads = _confirm_candidates(heads)
    if not heads:
        return ()
    rank = _family_order(heads)
    content_set = content_lines
    last_content_end = {n: source.line_span(n)[1] for n in content_set}

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

    # Extent: up to the line before the next head at the same or a higher level.
    ordered_content = list(content_lines)
    position = {n: k for k, n in enumerate(ordered_content)}
    extent_last_line: list[int] = [0] * len(heads)
    next_boundary: list[int | None] = [None] * len(heads)
    open_stack: list[int] = []
    for i, head in enumerate(heads):
        while open_stack and levels[open_stack[-1]] >= levels[i]:
            next_boundary[open_stack.pop()] = head.line
        open_stack.append(i)

    def last_content_before(limit_line: int | None) -> int:
        if limit_line is None:
            return ordered_content[-1]
        k = position[limit_line] - 1
        return ordered_content[k]

    for i in range(len(heads)):
        extent_last_line[i] = last_content_before(next_boundary[i])

    outlines: list[str] = []
    sections: list[Section] = []
    for i, head in enumerate(heads):
        line_text = text[head.line_start:head.line_end]
        title_begin, title_end, inline_body = split_title(line_text, head.match.end_col)
        parent = parents[i]
        label = head.match.marker.strip(" \t\u3000、，,.．:：;；")
        outline = f"{outlines[parent]}/{label}" if parent is not None else label
        outlines.append(outline)
        end_line = extent_last_line[i]
        end = min(last_content_end[end_line], doc_end)
        start = head.line_start + head.match.marker_col
        # Own body: after the title cut on the heading line, up to the first child.
        cut_col = title_end
        while cut_col < len(line_text) and (
            line_text[cut_col] in TITLE_TRAIL or line_text[cut_col].isspace()
        ):
            cut_col += 1
        body_start = head.line_start + cut_col
        if children[i]:
            first_child = heads[children[i][0]]
            k = position[first_child.line] - 1
            body_end = last_content_end[ordered_content[k]] if k >= position[head.line] else body_start
        else:
            body_end = end
        body_end = max(body_end, body_start)
        sections.append(
            Section(
                path=source.path,
                line=head.line,
                marker=head.match.marker,
                family=head.match.family,
                number=head.match.number,
                level=levels[i],
                title=line_text[title_begin:title_end],
                inline_body=inline_body,
                index=i,
                parent=parent,
                children=tuple(children[i]),
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
        )
    return tuple(sections)
