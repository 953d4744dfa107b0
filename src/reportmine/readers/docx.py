"""Reading ``.docx`` files (python-docx): the text the parser sees.

One line per paragraph, one per table row (cells joined by tabs), in body
order. A table nested in a cell (to any depth) ends its row's line; its rows
follow as lines of their own, then the rest of the row. Word's automatic
numbering is rendered into the line as Word displays it (``lvlText`` with
each level's ``numFmt``: ``chineseCounting`` gives ``一、``, ``decimal`` in
``（%1）`` gives ``（1）`` …), since the text alone lacks it. Heading styles
(``Heading 1``, ``标题 2``, or an outline level) without numbering and without
a typed marker get one by heading depth: ``一、``, ``（一）``, ``1.``, ``（1）``,
``①``. A lone top heading above all others is the report's title and gets none.

python-docx (and lxml under it) load only when a document is read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..markers import match_marker

DOCX_SUFFIXES = frozenset({".docx"})

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_NAME_RE = re.compile(r"(?i)^\s*(?:heading|标题)\s*([1-9])\s*$")
_TITLE_NAMES = frozenset({"title", "标题"})
# Word's outline levels run 0-8; 9 is body text.
_BODY_OUTLINE_LEVEL = 9
_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Markers given to unnumbered headings, by depth (GB/T 9704 order, as the sections stage ranks them).
_HEADING_MARKERS = ("{cn}、", "（{cn}）", "{n}.", "（{n}）", "{circled}")


def docx_to_text(data: bytes, path: str = "<docx>") -> str:
    """The text of a Word document as the parser should see it.

    Args:
        data: the ``.docx`` file's bytes.
        path: the file's name, for errors.

    Returns:
        One line per paragraph or table row, automatic numbering and heading
        markers rendered into the lines (see the module docstring).

    Raises:
        InputError: not a readable ``.docx`` (not a zip, a part missing,
            broken XML), or no text in it.

    >>> docx_to_text(b"PK\\x03\\x04 truncated", "a.docx")  # doctest: +SKIP
    Traceback (most recent call last):
    reportmine.errors.InputError: a.docx: not a readable .docx file (BadZipFile: File is not a zip file)
    """
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_docx_lines(document))
    except InputError:
        raise
    except Exception as exc:
        # A damaged package surfaces from python-docx, zipfile and lxml as many
        # exception types (BadZipFile, KeyError for a missing part,
        # XMLSyntaxError, ValueError); all mean the same to a caller.
        raise InputError(path, f"not a readable .docx file ({type(exc).__name__}: {exc})") from None
    text = "\n".join(lines)
    if not text.strip():
        raise InputError(path, "the .docx file holds no text")
    return text + "\n"



@dataclass(frozen=True, slots=True)
class _Level:
    fmt: str        # numFmt: decimal, chineseCounting, bullet …
    text: str       # lvlText: "%1、", "（%2）", "%1.%2"
    start: int
    suffix: str     # tab, space or nothing


@dataclass(slots=True)
class _Numbering:
    """Numbering definitions and the running counters of one document."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)   # abstractNumId -> ilvl -> level
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)  # numId -> (abstract, starts)
    counters: dict[str, list[int | None]] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    def render(self, num_id: str, ilvl: int) -> str | None:
        """The marker Word shows for the next item of list ``num_id`` at level ``ilvl``."""
        if num_id not in self.nums:
            return None
        abstract, overrides = self.nums[num_id]
        levels = self.levels.get(abstract, {})
        level = levels.get(ilvl)
        if level is None or level.fmt in ("bullet", "none"):
            return None
        # Lists sharing an abstract definition continue one another's count,
        # unless a list restarts it with a start override (Word's "restart numbering").
        counters = self.counters.setdefault(abstract, [None] * 9)
        if num_id not in self.started:
            self.started.add(num_id)
            for lvl in overrides:
                counters[lvl] = None

        def start_of(lvl: int) -> int:
            if lvl in overrides:
                return overrides[lvl]
            known = levels.get(lvl)
            return known.start if known else 1

        current = counters[ilvl]
        counters[ilvl] = start_of(ilvl) if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = None

        def value(match: re.Match[str]) -> str:
            lvl = int(match.group(1)) - 1
            if not 0 <= lvl < 9:
                return ""
            count = counters[lvl] if counters[lvl] is not None else start_of(lvl)
            fmt = levels[lvl].fmt if lvl in levels else "decimal"
            return format_number(count, fmt)

        marker = re.sub(r"%([1-9])", value, level.text).strip()
        if not marker:
            return None
        # Word puts a tab or space after the number; after full-width
        # punctuation (一、 （一）) it adds nothing a reader would write.
        if level.suffix != "nothing" and marker[-1].isascii():
            marker += " "
        return marker


def format_number(n: int, fmt: str) -> str:
    """``n`` written in Word's number format ``fmt`` (ST_NumberFormat).

    >>> format_number(12, "chineseCounting"), format_number(3, "decimalEnclosedCircle")
    ('十二', '③')
    """
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting"):
        return _chinese(n, _CN_DIGITS, "十", "百")
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional", "japaneseLegal", "taiwaneseCountingThousand"):
        return _chinese(n, _CN_LEGAL_DIGITS, "拾", "佰")
    if fmt == "ideographDigital":
        return "".join(_CN_DIGITS[int(d)] for d in str(n)).replace("零", "〇")
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return _TIANGAN[n - 1]
    if fmt == "ideographZodiac" and 1 <= n <= 12:
        return _DIZHI[n - 1]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 1 <= n <= 20:
        return chr(0x2474 + n - 1)
    if fmt == "decimalEnclosedFullstop" and 1 <= n <= 20:
        return chr(0x2488 + n - 1)
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return str(n).translate(_FULLWIDTH)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("lowerLetter", "upperLetter") and n >= 1:
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter if fmt == "lowerLetter" else letter.upper()
    if fmt in ("lowerRoman", "upperRoman") and 1 <= n < 4000:
        roman = _roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    return str(n)


def _chinese(n: int, digits: str, ten: str, hundred: str) -> str:
    if n <= 0 or n >= 1000:
        return str(n)
    h, rest = divmod(n, 100)
    t, u = divmod(rest, 10)
    out = ""
    if h:
        out += digits[h] + hundred
        if rest and t == 0:
            out += digits[0]
    if t:
        out += (digits[t] if (t > 1 or h) else "") + ten
    if u:
        out += digits[u]
    return out


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += numeral
            n -= value
    return out


def _val(element: Any, tag: str) -> str | None:
    """The ``w:val`` of child ``tag`` of ``element`` (None if absent)."""
    if element is None:
        return None
    child = element.find(_W + tag)
    return None if child is None else child.get(_W + "val")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _read_numbering(document: Any) -> _Numbering:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    numbering = _Numbering()
    try:
        root = document.part.part_related_by(RT.NUMBERING).element
    except KeyError:
        return numbering  # no lists in this document
    for abstract in root.iterfind(_W + "abstractNum"):
        levels: dict[int, _Level] = {}
        for lvl in abstract.iterfind(_W + "lvl"):
            ilvl = _int(lvl.get(_W + "ilvl"), 0)
            levels[ilvl] = _Level(
                fmt=_val(lvl, "numFmt") or "decimal",
                text=_val(lvl, "lvlText") or "",
                start=_int(_val(lvl, "start"), 1),
                suffix=_val(lvl, "suff") or "tab",
            )
        numbering.levels[abstract.get(_W + "abstractNumId") or ""] = levels
    for num in root.iterfind(_W + "num"):
        overrides: dict[int, int] = {}
        for override in num.iterfind(_W + "lvlOverride"):
            start = _val(override, "startOverride")
            if start is not None:
                overrides[_int(override.get(_W + "ilvl"), 0)] = _int(start, 1)
        numbering.nums[num.get(_W + "numId") or ""] = (_val(num, "abstractNumId") or "", overrides)
    return numbering


@dataclass(frozen=True, slots=True)
class _Style:
    name: str
    based_on: str | None
    num: tuple[str, int] | None   # (numId, ilvl) of numbering the style carries
    outline: int | None
    ind: Any = None               # the style's w:ind element, if any


def _read_styles(document: Any) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    for style in document.styles.element.iterfind(_W + "style"):
        ppr = style.find(_W + "pPr")
        num_pr = ppr.find(_W + "numPr") if ppr is not None else None
        num = None
        if num_pr is not None and _val(num_pr, "numId") is not None:
            num = (_val(num_pr, "numId") or "", _int(_val(num_pr, "ilvl"), 0))
        outline = _val(ppr, "outlineLvl")
        styles[style.get(_W + "styleId") or ""] = _Style(
            name=_val(style, "name") or "",
            based_on=_val(style, "basedOn"),
            num=num,
            outline=_int(outline, _BODY_OUTLINE_LEVEL) if outline is not None else None,
            ind=ppr.find(_W + "ind") if ppr is not None else None,
        )
    return styles


def _style_chain(styles: dict[str, _Style], style_id: str | None) -> Iterator[_Style]:
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen:
        seen.add(style_id)
        yield styles[style_id]
        style_id = styles[style_id].based_on


@dataclass(slots=True)
class _Block:
    text: str
    num: tuple[str, int] | None = None
    heading: int | None = None   # 1-based heading depth, None for body text
    marker: str = ""
    title: bool = False          # in the Title style: a report starts, heading counts restart
    indent: int = 0              # first-line indent, in characters


def _paragraph_block(p: Any, parent: Any, styles: dict[str, _Style]) -> _Block:
    from docx.text.paragraph import Paragraph

    text = Paragraph(p, parent).text
    ppr = p.find(_W + "pPr")
    style_id = _val(ppr, "pStyle")
    num = None
    num_pr = ppr.find(_W + "numPr") if ppr is not None else None
    if num_pr is not None and _val(num_pr, "numId") is not None:
        num = (_val(num_pr, "numId") or "", _int(_val(num_pr, "ilvl"), 0))
    heading = None
    title = False
    outline = _val(ppr, "outlineLvl")
    if outline is not None:
        heading = _int(outline, _BODY_OUTLINE_LEVEL) + 1
    for style in _style_chain(styles, style_id):
        if num is None and style.num is not None:
            # A style's list keeps the level the paragraph asks for, if any.
            num = (style.num[0], num[1] if num else style.num[1])
        title = title or style.name.strip().lower() in _TITLE_NAMES
        if heading is None:
            named = _HEADING_NAME_RE.match(style.name)
            if named:
                heading = int(named.group(1))
            elif style.outline is not None:
                heading = style.outline + 1
    if heading is not None and heading > _BODY_OUTLINE_LEVEL:
        heading = None
    if num is not None and num[0] == "0":
        num = None  # numId 0 switches a style's numbering off
    return _Block(text, num, heading, title=title, indent=_first_line_indent(ppr, styles, style_id))


def _first_line_indent(ppr: Any, styles: dict[str, _Style], style_id: str | None) -> int:
    """The paragraph's first-line indent in characters (its own, else its style's).

    Report splitting reads an indented opening paragraph as the start of an
    untitled report, as it does in text files, so the indent becomes spaces.
    """
    ind = ppr.find(_W + "ind") if ppr is not None else None
    if ind is None or (ind.get(_W + "firstLine") is None and ind.get(_W + "firstLineChars") is None):
        ind = next((st.ind for st in _style_chain(styles, style_id) if st.ind is not None), None)
    if ind is None:
        return 0
    chars = _int(ind.get(_W + "firstLineChars"), 0)
    if chars > 0:
        return min(8, round(chars / 100))  # hundredths of a character
    # twips; 210 is one character of Word's default Chinese body size (五号, 10.5 pt).
    return min(8, round(_int(ind.get(_W + "firstLine"), 0) / 210))


def _table_lines(tbl: Any, parent: Any) -> Iterator[str]:
    """One line per row, its cells joined by tabs (a cell's paragraphs by spaces).

    A table nested in a cell is kept in document order: the row's line ends
    before it, the nested table's rows follow as lines of their own (rendered
    the same way, to any depth), and the rest of the row goes on a new line.
    """
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for row in Table(tbl, parent).rows:
        done: list[str] = []   # cells of the line being built
        last = None
        for cell in row.cells:
            if cell._tc is last:
                continue  # a merged cell repeats across the columns it spans
            last = cell._tc
            # Rows below the first of a vertically merged cell repeat its text, not its nested tables.
            own = cell._tc.getparent() is row._tr
            texts: list[str] = []  # the cell's paragraphs since its last nested table
            for kind, element in _cell_content(cell._tc):
                if kind == "p":
                    texts.append(Paragraph(element, cell).text)
                elif own:
                    done.append(_cell_text(texts))
                    texts = []
                    line = "\t".join(done)
                    if line.strip():
                        yield line
                    done = []
                    yield from _table_lines(element, cell)
            done.append(_cell_text(texts))
        line = "\t".join(done)
        if line.strip():
            yield line


def _cell_text(paragraphs: list[str]) -> str:
    return " ".join("\n".join(paragraphs).split("\n")).strip()


def _cell_content(container: Any) -> Iterator[tuple[str, Any]]:
    """("p", paragraph) and ("tbl", table) elements of a cell in document order (content controls opened)."""
    for child in container.iterchildren():
        if child.tag == _W + "p":
            yield "p", child
        elif child.tag == _W + "tbl":
            yield "tbl", child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _cell_content(content)


def _body_blocks(container: Any, parent: Any, styles: dict[str, _Style]) -> Iterator[_Block]:
    for child in container.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield _paragraph_block(child, parent, styles)
        elif tag == _W + "tbl":
            for line in _table_lines(child, parent):
                yield _Block(line)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _body_blocks(content, parent, styles)


def _docx_lines(document: Any) -> Iterator[str]:
    styles = _read_styles(document)
    numbering = _read_numbering(document)
    blocks = list(_body_blocks(document.element.body, document._body, styles))
    for block in blocks:
        if block.num is not None:
            block.marker = numbering.render(*block.num) or ""
    _mark_headings(blocks)
    for block in blocks:
        yield " " * block.indent + block.marker + block.text


def _mark_headings(blocks: list[_Block]) -> None:
    """Give unnumbered headings without a typed marker a marker by depth."""
    headings = [b for b in blocks if (b.heading is not None or b.title) and b.text.strip()]
    if not any(b.heading is not None for b in headings):
        return
    depths = sorted({b.heading for b in headings if b.heading is not None})
    top = [b for b in headings if b.heading == depths[0]]
    first = next(b for b in headings if b.heading is not None)
    if len(top) == 1 and top[0] is first and len(depths) > 1:
        # A single top heading above all the others is the report's title.
        first.heading = None
        first.title = True
        depths = depths[1:]
    rank = {depth: i for i, depth in enumerate(depths)}
    counters = [0] * len(depths)
    for block in headings:
        if block.heading is None:
            counters = [0] * len(depths)  # a report title: the next report counts afresh
            continue
        r = rank[block.heading]
        counters[r] += 1
        for deeper in range(r + 1, len(counters)):
            counters[deeper] = 0
        if block.marker or r >= len(_HEADING_MARKERS) or match_marker(block.text[:64]) is not None:
            continue
        n = counters[r]
        block.marker = _HEADING_MARKERS[r].format(
            cn=format_number(n, "chineseCounting"), n=n, circled=format_number(n, "decimalEnclosedCircle")
        )
