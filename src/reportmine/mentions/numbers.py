"""Quantities, percents (per-cent, per-mille, 成/折, 百分之…) and money, with units and qualifiers.

A numeral is read (:mod:`.numerals`), then a range's second end, then the
unit, percent sign or currency after it; qualifiers before and after it
(近, 以上) and a sign or currency sign before it join the span. Numbers
without a unit are the peer suite's: they are read only through a
:class:`BareHook` (:mod:`.peer`), never in report extraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .context import Cand, Context
from .numerals import digits, number, scaled
from .vocab import CN, CN_DIGITS, NUMERAL, TOKEN_RE, matches

#: Where a numeral token can begin (see :data:`.dates.DATE_STARTS` for why start filters exist).
TOKEN_STARTS = re.compile(rf"[0-9.{CN_DIGITS}十拾半_x×](?<![0-9A-Za-z._{CN}].)", re.S)
_GRADE_UNITS = frozenset({"级", "类", "期", "等"})
#: "分之" after a number: a fraction ("五分之一").
FRACTION = re.compile(rf"[ ]*分[ ]*之[ ]*(?P<neg>负)?[ ]*(?P<n>{NUMERAL})")
_KILO = re.compile(r"[ ]?[kK](?![A-Za-z])")
_CENTS = re.compile(r"又?(?:(?P<jiao>[0-9一二三四五六七八九])[角毛](?:(?P<fen>[0-9一二三四五六七八九])分)?"
                    r"|(?P<cent>[0-9]{1,2}|[一二三四五六七八九十]{1,3})(?:美分|日本銭|日本钱))")
_SESSION = re.compile(r"[一二三四五六七八九十]中|全会|中央|全国|人大|政协")
_RANGE_FIRST = re.compile(r"[ ]?(?:%|‰|[万亿千])?")
_CN_DIGIT_RUN = re.compile(rf"[{CN_DIGITS}][{CN_DIGITS}点]*")
_SHORT_YEAR = re.compile(r"0[0-9]")
_SIGN_GLUE = re.compile(rf"[0-9{CN}A-Za-z\-]")  # before a minus sign: a hyphen or a range, not a sign
_PERCENT_WORD_SCALE = {"百": 1, "佰": 1, "千": 0.1, "仟": 0.1, "万": 0.01, "百万": 1e-4, "千万": 1e-5, "万万": 1e-6}


@dataclass(slots=True)
class Numeral:
    """A numeral being read: as written (``full_*``) and as it goes with its unit ("三十万元": 三十 + 万元).

    ``low`` and ``high`` are set (and ``value`` cleared) when it opens a range.
    """

    start: int
    token: str
    end: int
    value: float | int | None
    masked: bool
    full_token: str
    full_end: int
    full_value: float | int | None
    low: float | int | None = None
    high: float | int | None = None


class BareHook(Protocol):
    """Readings of numbers without a unit, asked for only by ``extract(..., bare_numbers=True)``."""

    def fraction(self, ctx: Context, num: Numeral) -> Cand | None:
        """The fraction ``num`` starts ("五分之一"), read where :data:`FRACTION` follows it."""

    def special(self, ctx: Context, num: Numeral) -> Cand | None:
        """A bare written form starting at ``num`` (exponents, k/M, 又 fractions), else ``None``."""

    def without_unit(self, ctx: Context, num: Numeral) -> Cand | None:
        """``num`` read without a unit (no unit, percent sign or currency follows it)."""


def find_numbers(ctx: Context, bare: BareHook | None = None) -> Iterator[Cand]:
    """Zero rates (率为零), percents in words (百分之五) and every numeral with its unit."""
    n = ctx.norm
    for m in ctx.p.zero.finditer(n):
        yield Cand("percent", m.start("z"), m.end("z"), {"value": 0})
    for m in ctx.p.percent_words.finditer(n):
        if m.start() > 0 and n[m.start() - 1] in CN_DIGITS + "0123456789":
            continue  # "一百分之二", "五百分之2333": a fraction, not a percent
        value = 100 if m["n"] == "百" else number(m["n"])
        if value is None:
            continue
        kilo = _KILO.match(n, m.end())
        if kilo:
            value, stop = value * 1000, kilo.end()  # "百分之3.2k" (peer suite)
        else:
            stop = m.end()
        cand = Cand("percent", m.start(), stop, {"value": scaled(value, _PERCENT_WORD_SCALE[m["w"]])})
        qualify(ctx, cand, m.start(), allow_after=True)
        yield cand
    for m in matches(TOKEN_RE, TOKEN_STARTS, n):
        cand = _number_at(ctx, m, bare)
        if cand is not None:
            yield cand


def _number_at(ctx: Context, m: re.Match[str], bare: BareHook | None) -> Cand | None:
    num = _numeral(ctx, m)
    if num is None:
        return None
    n = ctx.norm
    if not num.masked and FRACTION.match(n, num.full_end):
        return bare.fraction(ctx, num) if bare is not None else None  # in reports 分 is mostly a score
    if bare is not None and not num.masked:
        special = bare.special(ctx, num)
        if special is not None:
            return special
    _range(ctx, num)
    suf = ctx.p.suffix.match(n, num.end)
    if suf is None:
        return bare.without_unit(ctx, num) if bare is not None else None
    return _with_unit(ctx, num, suf)


def _numeral(ctx: Context, m: re.Match[str]) -> Numeral | None:
    """The numeral token ``m`` read, ``None`` when it is no number (a word's character, "一一")."""
    n = ctx.norm
    start, end = m.span()
    token = m.group()
    masked = m.lastgroup == "mask"  # the groups are num and mask, neither inside the other
    if not masked and len(token) > 1 and token[0] in "零〇" and "点" not in token \
            and _CN_DIGIT_RUN.fullmatch(token):
        return None
    if len(token) == 1 and token in "壹贰叁肆伍陆柒捌玖拾" and ctx.cjk_at(start - 1) and n[start - 1] != "是":
        return None  # 放肆, 大陆, 拾起: the character of a word, not a numeral
    value = None if masked else number(token)
    if not masked and value is None:
        digit_value = digits(token) if n.startswith("折", end) else None
        if digit_value is None:
            return None  # "一一", "二三": no number on their own
        value = digit_value  # "五五折" -> 55 %
    full_token, full_end, full_value = token, end, value
    if not masked and not token.isascii() and token[-1] in "万亿兆" and len(token) > 1 \
            and not any(c in "万亿兆" for c in token[:-1]):
        # "三十万元": the magnitude goes with the unit, as "30万元" writes it.
        token, end = token[:-1], end - 1
        value = number(token)
        if value is None:
            return None
    return Numeral(start, token, end, value, masked, full_token, full_end, full_value)


def _range(ctx: Context, num: Numeral) -> None:
    """Extend ``num`` over a range's second end: "1—2项", "15-20万元", "15万-20万元", "90%-95%", "3至5天"."""
    n = ctx.norm
    sep = ctx.p.sep.match(n, _RANGE_FIRST.match(n, num.end).end())
    if sep and not num.masked:
        second = TOKEN_RE.match(n, sep.end())
        if second is not None and second["num"]:
            token2, end2 = second.group(), second.end()
            if token2[-1] in "万亿兆" and len(token2) > 1 and not any(c in "万亿兆" for c in token2[:-1]):
                token2, end2 = token2[:-1], end2 - 1  # "15-20万元": 万 scales both ends
            value2 = number(token2)
            if value2 is not None and value2 > num.value:
                num.low, num.high, num.end = num.value, value2, end2
                num.value = None


def _unit_kind(
    ctx: Context, num: Numeral, suf: re.Match[str], fields: dict[str, Any]
) -> tuple[str, float | int] | None:
    """The mention's type and scale factor by what follows the number; ``None`` for a grade or 一成."""
    v, n, token = ctx.v, ctx.norm, num.token
    kind = "quantity"
    factor: float | int = 1
    if suf["mag"]:
        for c in suf["mag"]:
            factor *= v.magnitudes[c]
    unit_word = suf["unit"] or suf["money"]
    if suf["pct"]:
        kind = "percent"
        if suf["pct"] == "‰":
            factor = factor * 0.1
    elif suf["ratio"]:
        kind = "percent"
        # 成 counts tenths ("十成" is all); 折 too, but "75折", "五五折" write the percent itself.
        whole = num.value if num.value is not None else num.high
        factor = factor * (10 if suf["ratio"] == "成" or (whole or 0) < 10 else 1)
        if suf["ratio"] == "成" and token == "一":
            return None
    elif suf["money"]:
        kind = "money"
        fields["unit"] = (suf["mag"] or "") + suf["money"]
    else:
        if unit_word in _GRADE_UNITS and not (token == "两" or token.isdigit()) and ctx.cjk_at(suf.end()):
            return None  # 三级医院, 二类障碍, 二期院区: a grade or phase, not a count
        if unit_word == "级" and n.startswith(("医院", "甲", "乙", "综合", "专科"), suf.end()):
            return None
        fields["unit"] = (suf["mag"] or "") + unit_word
    return kind, factor


def _with_unit(ctx: Context, num: Numeral, suf: re.Match[str]) -> Cand | None:
    """``num`` with the unit, percent sign or currency ``suf`` after it."""
    n, v = ctx.norm, ctx.v
    start, token, value = num.start, num.token, num.value
    fields: dict[str, Any] = {}
    kind_factor = _unit_kind(ctx, num, suf, fields)
    if kind_factor is None:
        return None
    kind, factor = kind_factor
    unit_word = suf["unit"] or suf["money"]
    end = suf.end()
    if unit_word == "个" and suf["i3"] and n.startswith(("月", "小时", "星期"), end):
        word = "月" if n.startswith("月", end) else n[end:end + 2]
        unit_word, end = "个" + word, end + len(word)  # "两个多月"
        fields["unit"] = unit_word
    if unit_word == "年" and _SHORT_YEAR.fullmatch(token):
        return None  # "09年列建": a year written short, not a duration
    if unit_word == "届" and _SESSION.match(n, end):
        return None  # "十七届四中全会": a congress's name, not a count
    if suf["half"] and value is not None:
        value = value + 0.5
    if num.masked:
        fields["masked"] = True
        if kind == "quantity" and token.strip("_x×") == "" and unit_word in ("年",):
            return None
    elif value is not None:
        fields["value"] = scaled(value, factor)
    else:
        fields["low"], fields["high"] = scaled(num.low, factor), scaled(num.high, factor)
    if kind == "money":
        end = _money_end(ctx, suf, unit_word, value, factor, fields, end)
    if suf["i3"] and ctx.cjk_at(end) and n[end] not in "的来月小星天":
        end -= 1  # "两次多重耐药菌": 多 belongs to the next word
    elif suf["i3"] or suf["i1"] or suf["i2"]:
        fields["qualifier"] = "approx"
    cand = Cand(kind, start, end, fields)
    if token == "半" and unit_word not in v.time_units:
        return None
    # "一" counts only where the count ends the phrase ("新住房一套，"); before a noun it is an article.
    if token == "一" and start > 0 and n[start - 1] == "的":
        return None  # "新的一年": an article
    if token == "一" and (ctx.cjk_at(end) or n.startswith(("“", "「", "《", '"'), end)) \
            and kind == "quantity":
        after = ctx.p.after_q.match(n, end)
        if after is None or after["inner"]:
            return None
    qualify(ctx, cand, start, allow_after=True, time_unit=unit_word in v.time_units)
    return finish(ctx, cand, token, start)


def _money_end(ctx: Context, suf: re.Match[str], unit_word: str, value: float | int | None, factor: float | int,
               fields: dict[str, Any], end: int) -> int:
    """The end of a money mention after its unit: cents ("五元三毛" -> 5.3) and trailers ("8亿元人民币")."""
    n = ctx.norm
    if unit_word.endswith("元") and value is not None:
        cents = _CENTS.match(n, end)
        if cents:
            for group, share in (("jiao", 0.1), ("fen", 0.01), ("cent", 0.01)):
                if cents[group]:
                    value += (number(cents[group]) or 0) * share / factor
            fields["value"], end = scaled(value, factor), cents.end()  # "五元三毛" -> 5.3
    for trailer in ctx.v.money_trailers:
        if n.startswith(trailer, end) and trailer != suf["money"]:
            end += len(trailer)
            break
    return end


def finish(ctx: Context, cand: Cand, token: str, start: int) -> Cand | None:
    """``cand`` with a sign or currency sign before it; ``None`` for an ordinal (第三)."""
    n = ctx.norm
    left = n[start - 1] if start else ""
    if left == "第":
        return None  # an ordinal
    sign = n[start - 1] if start > 0 else ""
    if sign and sign in "-负" and (start < 2 or not _SIGN_GLUE.match(n, start - 2)):
        if "value" in cand.fields and isinstance(cand.fields["value"], (int, float)):
            cand.fields["value"] = -cand.fields["value"]
            cand.start -= 1
    if left and left in ctx.v.money_signs and cand.type == "quantity" and "unit" not in cand.fields:
        cand.type = "money"
        cand.fields["unit"] = left
        cand.start -= 1
    return cand


def qualify(ctx: Context, cand: Cand, start: int, allow_after: bool, time_unit: bool = False) -> None:
    """Extend ``cand`` over a qualifier before the number ("近30名") and, if allowed, after it ("30人左右")."""
    n = ctx.norm
    before = n[start - 3:start] if start >= 3 else n[:start]
    # The longest qualifier word that ends just before the number (a dict lookup per length).
    for size in range(len(before), 0, -1):
        word = before[-size:]
        if word in ctx.v.before:
            cand.fields.setdefault("qualifier", ctx.v.before[word])
            cand.start = start - size
            break
    if allow_after:
        m = ctx.p.after_q.match(n, cand.end)
        if m and (m["q"] or time_unit):
            if m["q"]:
                cand.fields.setdefault("qualifier", ctx.v.after[m["q"]])
            else:
                cand.fields.setdefault("qualifier", "at_most")
            cand.end = m.end()
