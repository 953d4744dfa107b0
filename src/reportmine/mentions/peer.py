"""Numbers without a unit, as the peer suite marks them (``extract(..., bare_numbers=True)``).

The peer benchmark (benchmarks/peer_specs.py, Recognizers-Text's Chinese
specs) counts unitless numbers ("一千二百"), fractions (五分之一, 3又1/2),
exponents (1e5, 2^10), k/M/打 scales and colloquial money (三块钱). In reports
such numbers are mostly codes and 分 is mostly a score, so report extraction
never reads them: :data:`BARE_NUMBERS` is handed to the number finder
(:class:`.numbers.BareHook`) only when bare numbers are asked for.
"""

from __future__ import annotations

import re

from .context import Cand, Context
from .numbers import FRACTION, Numeral, finish
from .numerals import number, scaled
from .vocab import TOKEN_RE

_SLASH = re.compile(r"/(?P<n>[0-9]{1,6})(?![0-9])")
_POINTS = re.compile(r"[ ]*个[ ]*百[ ]*分[ ]*点")
_COLLOQUIAL_YUAN = re.compile(r"[ ]?块(?:钱)?")
_MIXED = re.compile(r"[ ]*又[ ]*")
_EXPONENT = re.compile(r"(?P<op>[eE^])(?P<sign>[-+]{0,2})(?P<n>[0-9]{1,3})(?![0-9])")
_SCALE = re.compile(r"(?:[ ]{0,2}(?P<s>[kKM万亿])(?![A-Za-z])|(?P<s2>打))")
_BARE_APPROX = re.compile(r"[ ]?[余多几][ ]?(?P<mag>[十百千万亿]+)")
_ONE_TWO_DIGITS = re.compile(r"[0-9]{1,2}")


class BareNumbers:
    """The peer suite's readings of numbers without a unit (a :class:`.numbers.BareHook`)."""

    def fraction(self, ctx: Context, num: Numeral) -> Cand | None:
        """The fraction the numeral starts ("五分之一" -> 0.2)."""
        return _fraction(ctx, num.start, num.full_end, num.full_value, 0)

    def special(self, ctx: Context, num: Numeral) -> Cand | None:
        """Written forms the peer suite counts as numbers: 又 fractions, exponents, k/M, 打 (dozen)."""
        return _special(ctx, num.start, num.full_token, num.full_end, num.full_value)

    def without_unit(self, ctx: Context, num: Numeral) -> Cand | None:
        """The numeral as a bare quantity, or colloquial money ("花费我三块")."""
        n = ctx.norm
        start, end = num.start, num.end
        if num.low is None and _COLLOQUIAL_YUAN.match(n, end):
            # 块 is yuan in speech ("花费我三块"); in reports it counts objects (镜匾8块), so only here.
            stop = _COLLOQUIAL_YUAN.match(n, end).end()
            cand = Cand("money", start, stop, {"value": num.value, "unit": n[end:stop].strip()})
            return finish(ctx, cand, num.token, start)
        if num.masked or num.low is not None:
            return None
        token, end, value = num.full_token, num.full_end, num.full_value
        fields = {}
        approx = _BARE_APPROX.match(n, end)
        if approx and value is not None:
            # "一千多万", "五百 余万": the base value, approx (peer suite's reading)
            for c in approx["mag"]:
                value = value * ctx.v.magnitudes[c]
            end = approx.end()
            fields["qualifier"] = "approx"
        if len(token) == 1 and not _lone_numeral(ctx, start, end, token):
            return None
        if _ONE_TWO_DIGITS.fullmatch(token) and n.startswith(("、", ".", "．", ")", "）"), end):
            return None  # a numbering marker
        fields["value"] = value
        return finish(ctx, Cand("quantity", start, end, fields), token, start)


#: The hook that turns bare-number reading on.
BARE_NUMBERS = BareNumbers()


def _lone_numeral(ctx: Context, start: int, end: int, token: str) -> bool:
    """A one-character numeral standing alone ("答案是四不是五"), not part of a word (四川, 放肆)."""
    n = ctx.norm
    before = n[start - 1] if start > 0 else ""
    if before in ("是", "前", "后"):
        return True
    if not ctx.cjk_at(start - 1):
        return not ctx.cjk_at(end) or n[end] == "的"
    return not ctx.cjk_at(end) and token in "二三四五六七八九两"


def _fraction(ctx: Context, start: int, end: int, denominator: float | int | None, whole: float | int) -> Cand | None:
    """"五分之一" -> 0.2, "3又一千分之23" -> 3.023 (bare numbers only: in reports 分 is mostly a score)."""
    m = FRACTION.match(ctx.norm, end)
    if m is None or not denominator:
        return None
    numerator = number(m["n"])
    if numerator is None:
        return None
    value = numerator / denominator * (-1 if m["neg"] else 1)
    value = whole + value if whole >= 0 else whole - value
    return finish(ctx, Cand("quantity", start, m.end(), {"value": scaled(value, 1)}), "", start)


def _special(ctx: Context, start: int, token: str, end: int, value: float | int | None) -> Cand | None:
    n = ctx.norm
    if value is None:
        return None
    mixed = _MIXED.match(n, end)
    if mixed:
        inner = TOKEN_RE.match(n, mixed.end())
        if inner and inner["num"]:
            cand = _fraction(ctx, start, inner.end(), number(inner.group()), value)
            if cand is not None:
                return cand
    slash = _SLASH.match(n, end)
    if slash and token.isascii():
        whole, _, top = token.rpartition(" ")
        top_value, bottom = number(top), int(slash["n"])
        if top_value is not None and bottom:
            result = (int(whole) if whole.isdigit() else 0) + top_value / bottom
            return finish(ctx, Cand("quantity", start, slash.end(), {"value": scaled(result, 1)}), token, start)
    exp = _EXPONENT.match(n, end)
    if exp and token.isascii():
        power = int(exp["n"]) * (-1 if exp["sign"].count("-") % 2 else 1)
        base = 10.0 if exp["op"] in "eE" else float(value)
        result = value * base ** power if exp["op"] in "eE" else base ** power
        return finish(ctx, Cand("quantity", start, exp.end(), {"value": scaled(result, 1)}), token, start)
    scale = _SCALE.match(n, end)
    if scale:
        factor = {"k": 1e3, "K": 1e3, "M": 1e6, "万": 1e4, "亿": 1e8, "打": 12}[scale["s"] or scale["s2"]]
        points = _POINTS.match(n, scale.end())
        kind, stop = ("percent", points.end()) if points else ("quantity", scale.end())
        return finish(ctx, Cand(kind, start, stop, {"value": scaled(value, factor)}), token, start)
    return None
