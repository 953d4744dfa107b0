"""The numbering-marker grammar: which line starts are section markers, and their numbers.

Every family of the structure guide (GUIDE.md), full- and half-width:
``第一章`` ``第一节`` ``第一条`` (chapter, section, article), ``第一，`` and ``一是`` (ordinal),
``一、`` ``（一）`` ``1、`` ``（1）`` ``1)`` ``⑴`` ``⒈`` ``①``, after white space, a ``- ``
bullet or ``#`` marks. Markers with their punctuation are *certain*; markers
written without it (``六开展…``, ``1省、市级…``) and ``5、7月``-like starts are
*candidates* that the numbering context must confirm (the sections stage does).

Written once here and shared by the cleaning, documents and sections stages
and by the ``.docx`` reader. Every regex is anchored and bounded, so a 20 MB
line costs no more than its first characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = "零〇一二三四五六七八九十百两"
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

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
    + rf"|(?P<shi>{_C}是)(?=[\u4e00-\u9fff])"
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
    elif family == "shi":
        # ``一是`` ``二是`` items: sections when a run of them opens lines (GUIDE.md "Units"), so
        # candidates the numbering sequence must confirm; inside a sentence they never reach here.
        number = cn_to_int(marker[:-1])
        family, certain = "ordinal", False
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


