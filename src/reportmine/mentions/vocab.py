"""The normal form, the numeral patterns and the vocabularies shared by the mention finders.

The text is mapped character for character to a normal form (full-width
digits, traditional numerals and masks folded), so offsets never move.
Vocabularies (units, qualifiers, periods, words that are not mentions) live in
``data/units.toml``; :func:`patterns` compiles the expressions built from them.
Every regular expression starts with a look-behind guard and uses possessive or
bounded repetition, so a match attempt inside a run of digits fails at once and
a scan is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

# --- Normal form ------------------------------------------------------------------------------
#: One character for one character, so offsets in the normal form are offsets in the text.
FOLD = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "．": ".", "％": "%", "－": "-", "＞": ">", "＜": "<", "＿": "_", "Ｘ": "x", "ｘ": "x", "X": "x",
    "✕": "×", "╳": "×", "萬": "万", "億": "亿", "點": "点", "兩": "两", "個": "个", "週": "周", "號": "号",
    "時": "时", "鐘": "钟", "種": "种", "項": "项", "陸": "陆", "貳": "贰", "參": "叁", "\u3000": " ",
    "Ｋ": "K", "ｋ": "k", "負": "负", "倆": "两", "幾": "几", "雙": "双", "ｅ": "e", "Ｖ": "V", "ｖ": "v",
    "：": ":", "／": "/",
})
_FOLDED_CHARS = re.compile("[" + re.escape("".join(map(chr, FOLD))) + "]")
# The comma first, so that the engine jumps from comma to comma instead of trying every position.
_FW_THOUSANDS = re.compile(r"，(?<=[０-９]，)(?=[０-９]{3}(?![０-９]))")

#: Chinese digits (and their financial forms); with the magnitudes, every Chinese numeral character.
CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_CN_MAGS = "十百千万亿兆拾佰仟"
#: Every character of a Chinese numeral.
CN = CN_DIGITS + _CN_MAGS
#: The value of each Chinese digit.
CN_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {
    "〇": 0, "两": 2, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
#: Range separators ("1—2项", "3至5天").
SEPS = "-—–~～〜至到"
_MASK = r"(?:_{2,}+|x{1,3}+(?![a-z])|×{1,3}+)"
# A numeral: Arabic (thousands separators, decimals) or Chinese (starting with a digit or 十),
# runs of both may follow one another with at most one space ("7 万5 千", "2 4小时").
_ATOM = (rf"(?:[0-9]++(?:,[0-9]{{3}}(?![0-9]))*+(?:\.[0-9]++)?+|\.[0-9]++"
         rf"|[{CN_DIGITS}十拾][{CN}]*+(?:[ ]?点[ ]?[{CN_DIGITS}]++)?+)")
#: A numeral, Arabic, Chinese or runs of both.
NUMERAL = rf"{_ATOM}(?:[ ]?(?:{_ATOM}|[万亿兆千百十]++))*+"
#: A numeral (group ``num``) or a masked number (group ``mask``: "xx", "__") standing on its own.
TOKEN_RE = re.compile(
    rf"(?<![0-9A-Za-z._{CN}])(?:(?P<num>{NUMERAL}|半)|(?P<mask>(?<![a-z])[0-9]{{0,2}}{_MASK}))"
)
#: A CJK ideograph.
CJK_RE = re.compile(r"[\u3400-\u9fff]")
#: A masked character of a number or date.
MASKED = re.compile(r"[_x×]")


def normal_form(text: str) -> str:
    """``text`` with full-width digits, traditional numerals and masks folded, character for character."""
    # "９，９９９": a full-width comma between full-width digits separates thousands;
    # between ASCII digits ("$20，300美圆") it separates two numbers, as Chinese prose writes it.
    norm = _FW_THOUSANDS.sub(",", text)
    # Most texts hold nothing to fold: a scan in C is cheaper than translating every character.
    return norm.translate(FOLD) if _FOLDED_CHARS.search(norm) else norm


# --- Vocabularies --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Vocab:
    """The word lists of ``data/units.toml``."""

    units: tuple[str, ...]
    time_units: frozenset[str]
    money: tuple[str, ...]
    money_signs: tuple[str, ...]
    money_trailers: tuple[str, ...]
    magnitudes: dict[str, int]
    before: dict[str, str]
    after: dict[str, str]
    approx_infix: tuple[str, ...]
    per: dict[str, str]
    times: tuple[str, ...]
    fillers: tuple[str, ...]
    years: dict[str, str]
    parts: dict[str, str]
    not_before: tuple[str, ...]
    act_suffixes: tuple[str, ...]
    act_after: tuple[str, ...]
    act_verbs: tuple[str, ...]
    doc_events: tuple[str, ...]
    not_words: tuple[str, ...]


def _longest_first(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(words), key=lambda w: (-len(w), w)))


def _alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in _longest_first(words))


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    """The vocabularies, read once from ``data/units.toml``."""
    raw = tomllib.loads(resources.files("reportmine.data").joinpath("units.toml").read_text("utf-8"))
    u = raw["units"]
    return Vocab(
        units=_longest_first(u["time"] + u["persons"] + u["things"] + u["measures"]),
        time_units=frozenset(u["time_like"]),
        money=_longest_first(raw["money"]["units"]),
        money_signs=tuple(raw["money"]["signs"]),
        money_trailers=_longest_first(raw["money"]["trailers"]),
        magnitudes=dict(raw["magnitudes"]),
        before=dict(raw["qualifiers"]["before"]),
        after=dict(raw["qualifiers"]["after"]),
        approx_infix=tuple(raw["qualifiers"]["approx_infix"]),
        per=dict(raw["frequency"]["per"]),
        times=tuple(raw["frequency"]["times"]),
        fillers=_longest_first(raw["frequency"]["fillers"]),
        years=dict(raw["periods"]["years"]),
        parts=dict(raw["periods"]["parts"]),
        not_before=tuple(raw["periods"]["not_before"]),
        act_suffixes=tuple(raw["activities"]["suffixes"]),
        act_after=_longest_first(raw["activities"]["after"]),
        act_verbs=tuple(raw["activities"]["verbs"]),
        doc_events=tuple(raw["activities"]["document_events"]),
        not_words=_longest_first(raw["not_mentions"]["words"]),
    )


# --- Patterns built from the vocabularies --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Patterns:
    """The expressions built from the vocabularies, compiled once."""

    suffix: re.Pattern[str]
    after_q: re.Pattern[str]
    sep: re.Pattern[str]
    date: re.Pattern[str]
    iso: re.Pattern[str]
    festival: re.Pattern[str]
    freq: re.Pattern[str]
    freq_times: re.Pattern[str]
    period: re.Pattern[str]
    period_start: re.Pattern[str]
    percent_words: re.Pattern[str]
    zero: re.Pattern[str]
    quote: re.Pattern[str]
    book: re.Pattern[str]
    not_words: re.Pattern[str]


def _date_pattern(sep: str) -> re.Pattern[str]:
    """Dates written with 年, 月 and 日 (or 号), each part Arabic, Chinese or masked, a clock time after."""
    year = r"(?:1[89][0-9]{2}|20[0-9]{2}|20(?:_{2,}+|xx|××)|_{2,}+|x{2,4}|×{2,4}|[〇零一二][〇零一二三四五六七八九]{3})"
    month = r"(?:1[0-2]|0?[1-9]|_{2,}+|xx?|××?|十[一二]?|[一二三四五六七八九])"
    day = (r"(?:3[01]|[12][0-9]|0?[1-9]|_{2,}+|xx?|××?|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?"
           r"|[一二三四五六七八九])")
    clock = r"(?:[01]?[0-9]|2[0-4])(?:[时点](?:[0-5]?[0-9]分)?(?:[0-5]?[0-9]秒)?|:[0-5][0-9](?::[0-5][0-9])?)"
    return re.compile(
        rf"(?<![0-9.{CN}_x×])(?:"
        rf"(?P<y1>{year})(?:{sep}(?P<y2>{year}))?[ ]?年(?:度)?"
        rf"(?:[ ]?(?P<m1>{month})(?:{sep}(?P<m1b>{month}))?[ ]?月(?:份)?"
        rf"(?:[ ]?(?P<d1>{day})(?:{sep}(?P<d1b>{day}))?[ ]?[日号])?)?"
        rf"|(?P<m2>{month})(?:{sep}(?P<m2b>{month}))?[ ]?月(?:份)?"
        rf"(?:[ ]?(?P<d2>{day})(?:{sep}(?P<d2b>{day}))?[ ]?[日号])?"
        rf"|(?P<d3>3[01]|[12][0-9]|0?[1-9])(?:{sep}(?P<d3b>3[01]|[12][0-9]|0?[1-9]))?日(?![内以之常元本])"
        rf")(?:[ ]?(?P<clock>{clock}))?"
    )


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    """The compiled patterns (built once from :func:`vocab`)."""
    v = vocab()
    mags = "".join(v.magnitudes)
    infix = "".join(v.approx_infix)
    # After a number: approx infix, magnitude, then a percent sign, a money unit or a unit;
    # a trailing 多/余/半 ("1年多", "三斤半").
    suffix = re.compile(
        rf"[ ]{{0,3}}(?P<i1>[{infix}])?(?P<mag>[{mags}]{{1,2}}(?![{CN_DIGITS}0-9]))?(?P<i2>[{infix}])?[ ]{{0,3}}"
        rf"(?:(?P<pct>%|‰|个[ ]*百[ ]*分[ ]*点|百分点)|(?P<money>{_alt(v.money)})|(?P<unit>{_alt(v.units)})"
        rf"|(?P<ratio>成|折)(?![为了功绩果效本员立]))"
        rf"(?P<half>半)?(?P<i3>[{infix}])?"
    )
    after_q = re.compile(rf"(?P<q>{_alt(v.after)})|(?P<inner>内)")
    sep = rf"[ ]?[{SEPS}]{{1,2}}[ ]?"
    iso = re.compile(
        r"(?<![0-9.])(?P<y>(?:19|20)[0-9]{2})(?P<s>[-/.])(?P<m>1[0-2]|0?[1-9])(?P=s)(?P<d>3[01]|[12][0-9]|0?[1-9])"
        r"(?![0-9])(?:[ T]{1,2}(?P<h>[01]?[0-9]|2[0-3]):(?P<mi>[0-5][0-9])(?::(?P<s2>[0-5][0-9]))?)?"
    )
    festival = re.compile(r"(?<![0-9.])(?P<m>1[0-2]|[1-9])\.(?P<d>3[01]|[12][0-9]|[1-9])(?=[^0-9，。；、,;\s]{0,6}节)")
    freq = re.compile(rf"每(?:个)?(?P<per>{_alt(v.per)})")
    freq_times = re.compile(
        rf"(?:{_alt(v.fillers)}){{0,2}}(?P<n>[0-9]{{1,2}}|[一二两三四五六七八九十]{{1,3}})(?:{_alt(v.times)})"
    )
    period = re.compile(
        rf"(?P<y>{_alt(v.years)})?(?P<p>{_alt(v.parts)})?"
    )
    period_start = re.compile(rf"(?:{_alt(list(v.years) + list(v.parts))})")
    percent_words = re.compile(
        rf"(?P<w>百万|千万|万万|百|千|万|佰|仟)[ ]*分[ ]*之[ ]*(?P<n>百|{NUMERAL})"
    )
    zero = re.compile(r"率(?:为|是|保持|达到|控制在|均为|实现|保持在)?(?P<z>零)(?![售星散件部食钱用距])")
    quote = re.compile(r"“[^“”\n]{1,60}+”|\"[^\"\n]{1,60}+\"|「[^「」\n]{1,60}+」")
    book = re.compile(r"《[^《》\n]{1,120}+》")
    not_words = re.compile(_alt(v.not_words))
    return Patterns(
        suffix=suffix, after_q=after_q, sep=re.compile(sep), date=_date_pattern(sep), iso=iso, festival=festival,
        freq=freq, freq_times=freq_times, period=period, period_start=period_start,
        percent_words=percent_words, zero=zero, quote=quote, book=book, not_words=not_words,
    )


def matches(pattern: re.Pattern[str], starts: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, the pattern tried only where ``starts`` finds a possible beginning.

    The same matches in the same order: after a match the next one is looked
    for from its end (one past an empty match), as ``finditer`` does.
    """
    match = pattern.match
    resume = 0
    for start in starts.finditer(text):
        pos = start.start()
        if pos < resume:
            continue
        m = match(text, pos)
        if m is not None:
            yield m
            resume = m.end() if m.end() > pos else pos + 1
