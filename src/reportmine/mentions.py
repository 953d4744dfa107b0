"""Stage 5, extract: numbers, dates, periods, frequencies and names with exact spans.

In: a bare string (:func:`extract`) or a :class:`~reportmine.model.ParsedFile`
(:func:`extract_parsed`). Out: :class:`~reportmine.model.Mention` objects in
text order, typed and normalised as ``shared/gold/GUIDE_mentions.md`` defines
them: quantity, percent, money, date, period, frequency, activity, document,
each with ``text == source[start:end]`` and line coordinates.

How: the text is first mapped character for character to a normal form
(full-width digits, traditional numerals and masks folded), so offsets never
move. Each kind of mention has its own finder; every regular expression starts
with a look-behind guard and uses possessive or bounded repetition, so a match
attempt inside a run of digits fails at once and a scan is linear in the text.
The engine cannot skip ahead past a look-behind, so the busiest patterns are
tried only where a one-character start filter, scanned in C, points.
Chinese numerals are read by cn2an. Candidates then compete for their span:
names first (numbers inside 《…》 and quotes are parts of names), then dates,
frequencies and periods, then plain numbers; the longer span wins a tie.
Vocabularies (units, qualifiers, periods, words that are not mentions) live in
``data/units.toml``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .model import Mention, ParsedFile, SourceText

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

RULESET = "reportmine-mentions"

#: A numeral run longer than this is not a number a report states (an ID, a
#: table row run together); skipping it also keeps cn2an off huge inputs.
MAX_NUMERAL_CHARS = 24
#: Quoted spans up to this length are names: numbers inside them are not counts.
MAX_QUOTED_NAME = 30
#: How far back an activity verb (开展, 组织 …) may stand in the quote's clause.
ACTIVITY_VERB_WINDOW = 12

# --- Normal form ------------------------------------------------------------------------------
# One character for one character, so offsets in the normal form are offsets in the text.
_FOLD = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "．": ".", "％": "%", "－": "-", "＞": ">", "＜": "<", "＿": "_", "Ｘ": "x", "ｘ": "x", "X": "x",
    "✕": "×", "╳": "×", "萬": "万", "億": "亿", "點": "点", "兩": "两", "個": "个", "週": "周", "號": "号",
    "時": "时", "鐘": "钟", "種": "种", "項": "项", "陸": "陆", "貳": "贰", "參": "叁", "\u3000": " ",
    "Ｋ": "K", "ｋ": "k", "負": "负", "倆": "两", "幾": "几", "雙": "双", "ｅ": "e", "Ｖ": "V", "ｖ": "v",
    "：": ":", "／": "/",
})
_FOLDED_CHARS = re.compile("[" + re.escape("".join(map(chr, _FOLD))) + "]")

_CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_CN_MAGS = "十百千万亿兆拾佰仟"
_CN = _CN_DIGITS + _CN_MAGS
_CN_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {
    "〇": 0, "两": 2, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
_SEPS = "-—–~～〜至到"
_MASK = r"(?:_{2,}+|x{1,3}+(?![a-z])|×{1,3}+)"
# A numeral: Arabic (thousands separators, decimals) or Chinese (starting with a digit or 十),
# runs of both may follow one another with at most one space ("7 万5 千", "2 4小时").
_ATOM = (rf"(?:[0-9]++(?:,[0-9]{{3}}(?![0-9]))*+(?:\.[0-9]++)?+|\.[0-9]++"
         rf"|[{_CN_DIGITS}十拾][{_CN}]*+(?:[ ]?点[ ]?[{_CN_DIGITS}]++)?+)")
_NUMERAL = rf"{_ATOM}(?:[ ]?(?:{_ATOM}|[万亿兆千百十]++))*+"
_TOKEN_RE = re.compile(
    rf"(?<![0-9A-Za-z._{_CN}])(?:(?P<num>{_NUMERAL}|半)|(?P<mask>(?<![a-z])[0-9]{{0,2}}{_MASK}))"
)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")

# Where a match can begin. Most patterns open with a look-behind, which keeps the regex
# engine from skipping ahead by first character: it tries every position. These one-character
# patterns open with a character class (scanned in C) and find the few positions worth a
# match attempt; _matches() then tries the full pattern only there. Each must accept every
# position where its pattern can match (a superset), else mentions are lost.
_TOKEN_STARTS = re.compile(rf"[0-9.{_CN_DIGITS}十拾半_x×](?<![0-9A-Za-z._{_CN}].)", re.S)
_DATE_STARTS = re.compile(rf"[0-9_x×{_CN_DIGITS}十](?<![0-9.{_CN}_x×].)", re.S)
_ISO_STARTS = re.compile(r"[12](?<![0-9.].)(?=[0-9]{3}[-/.])", re.S)
_FESTIVAL_STARTS = re.compile(r"[1-9](?<![0-9.].)(?=[0-9]?\.)", re.S)
_TIME_OF_DAY_STARTS = re.compile(r"[上早凌中下晚傍夜今明0-9](?<![0-9:.][0-9])(?=[午上晨晚里间早]|[0-9]?:)", re.S)
_PER_AMOUNT = re.compile(r"[^，。；、,;\s0-9]{0,3}量")
_GRADE_UNITS = frozenset({"级", "类", "期", "等"})
_FRACTION = re.compile(rf"[ ]*分[ ]*之[ ]*(?P<neg>负)?[ ]*(?P<n>{_NUMERAL})")
_SLASH = re.compile(r"/(?P<n>[0-9]{1,6})(?![0-9])")
_POINTS = re.compile(r"[ ]*个[ ]*百[ ]*分[ ]*点")
_KILO = re.compile(r"[ ]?[kK](?![A-Za-z])")
_URL = re.compile(r"https?://[!-~]++")
# The comma first, so that the engine jumps from comma to comma instead of trying every position.
_FW_THOUSANDS = re.compile(r"，(?<=[０-９]，)(?=[０-９]{3}(?![０-９]))")
_CENTS = re.compile(r"又?(?:(?P<jiao>[0-9一二三四五六七八九])[角毛](?:(?P<fen>[0-9一二三四五六七八九])分)?"
                    r"|(?P<cent>[0-9]{1,2}|[一二三四五六七八九十]{1,3})(?:美分|日本銭|日本钱))")
_COLLOQUIAL_YUAN = re.compile(r"[ ]?块(?:钱)?")
_TOD = r"(?:上午|早上|早晨|凌晨|中午|下午|晚上|傍晚|夜里|夜间|今晚|今早|今晨|明早|明晚)"
_PM = frozenset({"下午", "晚上", "傍晚", "夜里", "夜间", "今晚", "明晚"})
_CLOCK = re.compile(
    rf"[ ]?(?P<tod>{_TOD})?[ ]?(?:(?P<h>[01]?[0-9]|2[0-4]|[一二三四五六七八九十]{{1,3}})(?:点|时)"
    rf"(?:(?P<mi>[0-5]?[0-9]|[一二三四五六七八九十]{{1,3}})分|(?P<half>半)|(?P<quarter>一刻))?"
    r"|(?<![0-9:])(?P<h2>[01]?[0-9]|2[0-3]):(?P<mi2>[0-5][0-9])(?::(?P<s2>[0-5][0-9]))?(?![0-9]))"
)
_TIME_OF_DAY = re.compile(rf"(?={_TOD}[ ]?[0-9一二三四五六七八九十])|(?<![0-9:.])(?=[01]?[0-9]:[0-5][0-9](?![0-9]))"
                          r"|(?<![0-9:.])(?=2[0-3]:[0-5][0-9](?![0-9]))")
_MIXED = re.compile(r"[ ]*又[ ]*")
_EXPONENT = re.compile(r"(?P<op>[eE^])(?P<sign>[-+]{0,2})(?P<n>[0-9]{1,3})(?![0-9])")
_SCALE = re.compile(r"(?:[ ]{0,2}(?P<s>[kKM万亿])(?![A-Za-z])|(?P<s2>打))")
_BARE_APPROX = re.compile(r"[ ]?[余多几][ ]?(?P<mag>[十百千万亿]+)")
_SESSION = re.compile(r"[一二三四五六七八九十]中|全会|中央|全国|人大|政协")
_RANGE_FIRST = re.compile(r"[ ]?(?:%|‰|[万亿千])?")
_CN_DIGIT_RUN = re.compile(rf"[{_CN_DIGITS}][{_CN_DIGITS}点]*")
_ONE_TWO_DIGITS = re.compile(r"[0-9]{1,2}")
_SHORT_YEAR = re.compile(r"0[0-9]")
_SIGN_GLUE = re.compile(rf"[0-9{_CN}A-Za-z\-]")  # before a minus sign: a hyphen or a range, not a sign
_ARABIC = re.compile(r"[0-9,，]*(?:\.[0-9]+)?")
_MASKED = re.compile(r"[_x×]")


@dataclass(frozen=True, slots=True)
class _Vocab:
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
def _vocab() -> _Vocab:
    raw = tomllib.loads(resources.files("reportmine.data").joinpath("units.toml").read_text("utf-8"))
    u = raw["units"]
    return _Vocab(
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


@dataclass(frozen=True, slots=True)
class _Patterns:
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


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    v = _vocab()
    mags = "".join(v.magnitudes)
    infix = "".join(v.approx_infix)
    # After a number: approx infix, magnitude, then a percent sign, a money unit or a unit;
    # a trailing 多/余/半 ("1年多", "三斤半").
    suffix = re.compile(
        rf"[ ]{{0,3}}(?P<i1>[{infix}])?(?P<mag>[{mags}]{{1,2}}(?![{_CN_DIGITS}0-9]))?(?P<i2>[{infix}])?[ ]{{0,3}}"
        rf"(?:(?P<pct>%|‰|个[ ]*百[ ]*分[ ]*点|百分点)|(?P<money>{_alt(v.money)})|(?P<unit>{_alt(v.units)})"
        rf"|(?P<ratio>成|折)(?![为了功绩果效本员立]))"
        rf"(?P<half>半)?(?P<i3>[{infix}])?"
    )
    after_q = re.compile(rf"(?P<q>{_alt(v.after)})|(?P<inner>内)")
    year = r"(?:1[89][0-9]{2}|20[0-9]{2}|20(?:_{2,}+|xx|××)|_{2,}+|x{2,4}|×{2,4}|[〇零一二][〇零一二三四五六七八九]{3})"
    month = r"(?:1[0-2]|0?[1-9]|_{2,}+|xx?|××?|十[一二]?|[一二三四五六七八九])"
    day = (r"(?:3[01]|[12][0-9]|0?[1-9]|_{2,}+|xx?|××?|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?"
           r"|[一二三四五六七八九])")
    clock = r"(?:[01]?[0-9]|2[0-4])(?:[时点](?:[0-5]?[0-9]分)?(?:[0-5]?[0-9]秒)?|:[0-5][0-9](?::[0-5][0-9])?)"
    sep = rf"[ ]?[{_SEPS}]{{1,2}}[ ]?"
    date = re.compile(
        rf"(?<![0-9.{_CN}_x×])(?:"
        rf"(?P<y1>{year})(?:{sep}(?P<y2>{year}))?[ ]?年(?:度)?"
        rf"(?:[ ]?(?P<m1>{month})(?:{sep}(?P<m1b>{month}))?[ ]?月(?:份)?"
        rf"(?:[ ]?(?P<d1>{day})(?:{sep}(?P<d1b>{day}))?[ ]?[日号])?)?"
        rf"|(?P<m2>{month})(?:{sep}(?P<m2b>{month}))?[ ]?月(?:份)?"
        rf"(?:[ ]?(?P<d2>{day})(?:{sep}(?P<d2b>{day}))?[ ]?[日号])?"
        rf"|(?P<d3>3[01]|[12][0-9]|0?[1-9])(?:{sep}(?P<d3b>3[01]|[12][0-9]|0?[1-9]))?日(?![内以之常元本])"
        rf")(?:[ ]?(?P<clock>{clock}))?"
    )
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
        rf"(?P<w>百万|千万|万万|百|千|万|佰|仟)[ ]*分[ ]*之[ ]*(?P<n>百|{_NUMERAL})"
    )
    zero = re.compile(r"率(?:为|是|保持|达到|控制在|均为|实现|保持在)?(?P<z>零)(?![售星散件部食钱用距])")
    quote = re.compile(r"“[^“”\n]{1,60}+”|\"[^\"\n]{1,60}+\"|「[^「」\n]{1,60}+」")
    book = re.compile(r"《[^《》\n]{1,120}+》")
    not_words = re.compile(_alt(v.not_words))
    return _Patterns(
        suffix=suffix, after_q=after_q, sep=re.compile(sep), date=date, iso=iso, festival=festival, freq=freq,
        freq_times=freq_times, period=period, period_start=period_start,
        percent_words=percent_words, zero=zero, quote=quote, book=book, not_words=not_words,
    )


def _matches(pattern: re.Pattern[str], starts: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
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


# --- Numbers -----------------------------------------------------------------------------------

def _number(token: str) -> float | int | None:
    """The value of a numeral as written (Arabic, Chinese or mixed), ``None`` if unreadable.

    Chinese numerals go through cn2an; a run of bare Chinese digits ("二〇一六")
    is read digit by digit, as years and 折 ("五五折") are written.
    """
    # Reports repeat their numerals (一, 两, 100 …) and cn2an is slow: values are cached,
    # but not for runs too long to be a number (the cache would keep them alive).
    if len(token) > 2 * MAX_NUMERAL_CHARS:
        return _read_number(token)
    return _cached_number(token)


def _read_number(token: str) -> float | int | None:
    s = token.replace(" ", "")
    if s == "半":
        return 0.5
    if not s or len(s) > MAX_NUMERAL_CHARS:
        return None
    if _ARABIC.fullmatch(s):
        value = float(s.replace(",", "").replace("，", ""))
    elif all(c in _CN_VALUE for c in s):
        if len(s) == 1:
            value = float(_CN_VALUE[s])
        else:
            return None  # "一一", "二三": not a number on its own
    elif "兆" in s and not s.startswith("兆"):
        # cn2an stops at 亿; 兆 (10^12) splits the numeral in two readable halves.
        high, _, low = s.partition("兆")
        high_value, low_value = _number(high), _number(low) if low else 0
        if high_value is None or low_value is None:
            return None
        value = float(high_value) * 1e12 + float(low_value)
    else:
        import cn2an

        s = s.replace("拾", "十").replace("佰", "百").replace("仟", "千")
        try:
            value = float(cn2an.cn2an(s, "smart"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            # "四万万", "4.78万亿": cn2an reads one magnitude; repeated ones multiply.
            head = s.rstrip("万亿兆")
            if head == s or not head:
                return None
            base = _number(head)
            if base is None:
                return None
            value = float(base)
            for c in s[len(head):]:
                value *= {"万": 1e4, "亿": 1e8, "兆": 1e12}[c]
    return int(value) if value.is_integer() else value


_cached_number = lru_cache(maxsize=1 << 16)(_read_number)


def _digits(token: str) -> int | None:
    """A year or a digit string written digit by digit ("二〇一六" -> 2016)."""
    if token.isdigit():
        return int(token)
    if all(c in _CN_VALUE for c in token):
        return int("".join(str(_CN_VALUE[c]) for c in token))
    return None


def _small(token: str | None) -> int | None:
    """A month, day or hour: Arabic or Chinese; ``None`` when masked or absent."""
    if token is None or _MASKED.search(token):
        return None
    if token.isdigit():
        return int(token)
    value = _number(token)
    return int(value) if isinstance(value, (int, float)) else None


def _scaled(value: float | int, factor: int | float) -> float | int:
    out = value * factor
    if isinstance(out, float):
        out = round(out, 10)
        if out.is_integer():
            return int(out)
    return out


# --- Candidates ---------------------------------------------------------------------------------

# Higher rank wins an overlap; names hold numbers inside them.
_RANK = {"document": 6, "activity": 5, "date": 4, "frequency": 3, "period": 2, "percent": 1, "money": 1,
         "quantity": 1}


@dataclass(slots=True)
class _Cand:
    type: str
    start: int
    end: int
    fields: dict[str, Any]


class _Extractor:
    """One pass over one text; the normal form and name zones are shared by the finders."""

    def __init__(self, text: str, bare_numbers: bool = False) -> None:
        self.text = text
        # "９，９９９": a full-width comma between full-width digits separates thousands;
        # between ASCII digits ("$20，300美圆") it separates two numbers, as Chinese prose writes it.
        norm = _FW_THOUSANDS.sub(",", text)
        # Most texts hold nothing to fold: a scan in C is cheaper than translating every character.
        self.norm = norm.translate(_FOLD) if _FOLDED_CHARS.search(norm) else norm
        self.bare = bare_numbers
        self.v = _vocab()
        self.p = _patterns()
        self.blocked: list[tuple[int, int]] = []  # quoted spans and not-a-mention words: no numbers inside

    # -- helpers
    def _is_blocked(self, start: int, end: int) -> bool:
        import bisect

        i = bisect.bisect_right(self.blocked, (start, 1 << 62)) - 1
        for j in (i, i + 1):
            if 0 <= j < len(self.blocked):
                b0, b1 = self.blocked[j]
                if b0 < end and start < b1:
                    return True
        return False

    def _cjk_at(self, pos: int) -> bool:
        return 0 <= pos < len(self.norm) and bool(_CJK_RE.match(self.norm, pos))

    # -- names
    def names(self) -> Iterator[_Cand]:
        n, v = self.norm, self.v
        for m in self.p.book.finditer(n):
            name = self.text[m.start() + 1:m.end() - 1].strip()
            if not name:
                continue
            kind = "activity" if name.endswith(v.doc_events) else "document"
            yield _Cand(kind, m.start(), m.end(), {"name": name})
        zones = []
        for m in self.p.quote.finditer(n):
            zones.append((m.start(), m.end()))
            name = self.text[m.start() + 1:m.end() - 1].strip()
            act = self._activity(m.start(), m.end(), name)
            if act is not None:
                yield _Cand("activity", m.start(), act, {"name": name})
        for m in _URL.finditer(n):
            zones.append((m.start(), m.end()))  # numbers in a web address are not facts
        for m in self.p.not_words.finditer(n):
            if m.start() > 0 and n[m.start() - 1] in _CN + "0123456789":
                continue  # "二十分钟" holds 十分 but is a count
            zones.append((m.start(), m.end()))
        self.blocked = sorted(z for z in zones if z[1] - z[0] <= MAX_QUOTED_NAME + 2 or n.startswith("http", z[0]))

    def _activity(self, start: int, end: int, name: str) -> int | None:
        """End of the activity span for the quote at start:end, or ``None`` if it is no activity."""
        v, n = self.v, self.norm
        if not name or len(name) > 25 or re.search(r"[，。；！？,;]", name):
            return None
        if re.fullmatch(rf"[0-9{_CN}]+[^\s]?", name):
            return None  # "三十条", "五四": a numbered rule or date, not a campaign
        after = n[end:end + 8].lstrip(" ")
        gap = len(n[end:end + 8]) - len(after)
        for word in v.act_suffixes:
            if after.startswith(word):
                return end + gap + len(word)
        if self.p.not_words.fullmatch(name):
            return None  # "一把手"工程, "一对一"服务: words, named only when 活动/行动 follows
        if after.startswith(v.act_after):
            return end
        clause = re.split(r"[，。；：！？,;:\n]", n[max(0, start - ACTIVITY_VERB_WINDOW):start])[-1]
        if any(verb in clause for verb in v.act_verbs):
            return end
        return None

    # -- dates
    def dates(self) -> Iterator[_Cand]:
        n = self.norm
        for m in _matches(self.p.iso, _ISO_STARTS, n):
            f: dict[str, Any] = {"year": int(m["y"]), "month": int(m["m"]), "day": int(m["d"])}
            if m["h"]:
                f.update(hour=int(m["h"]), minute=int(m["mi"]))
                if m["s2"]:
                    f["second"] = int(m["s2"])
            yield self._with_time(_Cand("date", m.start(), m.end(), f))
        for m in _matches(_TIME_OF_DAY, _TIME_OF_DAY_STARTS, n):
            cand = self._with_time(_Cand("date", m.start(), m.start(), {}))
            if cand.end > cand.start:
                yield cand
        for m in _matches(self.p.festival, _FESTIVAL_STARTS, n):
            yield _Cand("date", m.start(), m.end(), {"month": int(m["m"]), "day": int(m["d"])})
        for m in _matches(self.p.date, _DATE_STARTS, n):
            cand = self._date(m)
            if cand is None:
                continue
            if not m["clock"]:
                cand = self._with_time(cand)
            yield cand
            if cand.fields.get("month") is not None and not m["y1"] and not (m["d1"] or m["d2"]):
                yield from self._month_list(m.start())

    def _date(self, m: re.Match[str]) -> _Cand | None:
        f: dict[str, Any] = {}
        masked = False
        groups = m.groupdict()
        y1, y2 = groups["y1"], groups["y2"]
        month = groups["m1"] or groups["m2"]
        month_b = groups["m1b"] or groups["m2b"]
        day = groups["d1"] or groups["d2"] or groups["d3"]
        day_b = groups["d1b"] or groups["d2b"] or groups["d3b"]
        for part in (y1, y2, month, month_b, day, day_b):
            if part and _MASKED.search(part):
                masked = True
        if y1 is not None:
            year = None if _MASKED.search(y1) else _digits(y1)
            if year is not None:
                f["year"] = year
            if y2 is not None:
                end_year = None if _MASKED.search(y2) else _digits(y2)
                if end_year is not None:
                    f["end_year"] = end_year
        for key, token, top in (("month", month, 12), ("end_month", month_b, 12), ("day", day, 31),
                                ("end_day", day_b, 31)):
            value = _small(token)
            if value is not None:
                if not 1 <= value <= top:
                    return None
                f[key] = value
        if y1 is None and not masked and month is None and groups["d3"] is None:
            return None
        if y1 is None and month is not None and len(month) == 1 and month in _CN_DIGITS:
            # "一月" is January, but "五月" after a numeral is part of a longer count; keep single ones.
            if self._cjk_at(m.start() - 1) and self.norm[m.start() - 1] in _CN:
                return None
            if groups["d2"] is None and self.norm.startswith(("来", "以", "内", "多", "余", "的", "后", "前"), m.end()):
                return None  # "工作一月来": a month's time, not January
        if groups["clock"]:
            clock = groups["clock"]
            parts = [int(x) for x in re.findall(r"[0-9]+", clock)]
            f["hour"] = parts[0]
            if len(parts) > 1:
                f["minute"] = parts[1]
            if len(parts) > 2:
                f["second"] = parts[2]
        if masked:
            f["masked"] = True
        return _Cand("date", m.start(), m.end(), f)

    def _with_time(self, cand: _Cand) -> _Cand:
        """Extend a date (or an empty candidate) over a clock time after it: "晚上六点", "下午5:00"."""
        m = _CLOCK.match(self.norm, cand.end)
        if m is None or (not m["tod"] and m["h"] and cand.end == cand.start):
            return cand  # "3点" alone is as often "3点意见" as three o'clock
        hour = _small(m["h"] or m["h2"])
        if hour is None or hour > 24:
            return cand
        if m["tod"] in _PM and hour < 12:
            hour += 12
        cand.fields["hour"] = hour
        minute = 30 if m["half"] else 15 if m["quarter"] else _small(m["mi"] or m["mi2"])
        if minute is not None:
            cand.fields["minute"] = minute
        if m["s2"]:
            cand.fields["second"] = int(m["s2"])
        cand.end = m.end()
        return cand

    def _month_list(self, start: int) -> Iterator[_Cand]:
        """Months listed before a month date share its 月: "5、7月份" -> 5 and 7月份 (corpus 000, line 100)."""
        pos = start
        while True:
            m = re.search(r"(?<![0-9])(1[0-2]|[1-9])、$", self.norm[max(0, pos - 3):pos])
            if not m or not self._cjk_at(pos - len(m.group(0)) - 1):
                return  # "4、3月7日" at a line's start: a numbering marker, not a month
            begin = pos - len(m.group(0))
            yield _Cand("date", begin, begin + len(m.group(1)), {"month": int(m.group(1))})
            pos = begin

    # -- frequencies and periods
    def frequencies(self) -> Iterator[_Cand]:
        n, v = self.norm, self.v
        for m in self.p.freq.finditer(n):
            per_word = m["per"]
            end = m.end()
            count = 1
            if per_word == "年" and n.startswith("度", end):
                end += 1
            if _PER_AMOUNT.match(n, end):
                continue  # 每日吸烟量: a daily amount, not how often (corpus 000, line 94)
            tail = self.p.freq_times.match(n, end)
            if tail:
                value = _number(tail["n"])
                if isinstance(value, int) and value > 0:
                    count, end = value, tail.end()
            elif per_word in ("周", "星期") and end < len(n) and n[end] in "一二三四五六日天":
                end += 1  # 每周一: every Monday, once a week
            yield _Cand("frequency", m.start(), end, {"per": v.per[per_word], "count": count})

    def periods(self) -> Iterator[_Cand]:
        n, v = self.norm, self.v
        starts = self.p.period_start.finditer(n)
        pos = 0
        for s in starts:
            if s.start() < pos:
                continue
            m = self.p.period.match(n, s.start())
            if not m or m.end() == m.start():
                continue
            pos = m.end()
            if m["p"] is None and n.startswith(v.not_before, m.end()):
                continue
            if m.start() > 0 and n[m.start() - 1] in "0123456789" + _CN_DIGITS + "_x×":
                continue  # "2016年初", "12月底": a date's edge, not a named period
            if m["y"] and m["p"] is None and m["y"] == "上年" and m.start() > 0 and n[m.start() - 1] == "以":
                continue  # 以上年…
            period = v.parts[m["p"]] if m["p"] else v.years[m["y"]]
            offset = {"last_year": -1, "next_year": 1}.get(v.years.get(m["y"] or "", ""), 0)
            yield _Cand("period", m.start(), m.end(), {"period": period, "_offset": offset})

    # -- numbers
    def numbers(self) -> Iterator[_Cand]:
        n = self.norm
        for m in self.p.zero.finditer(n):
            yield _Cand("percent", m.start("z"), m.end("z"), {"value": 0})
        for m in self.p.percent_words.finditer(n):
            if m.start() > 0 and n[m.start() - 1] in _CN_DIGITS + "0123456789":
                continue  # "一百分之二", "五百分之2333": a fraction, not a percent
            value = 100 if m["n"] == "百" else _number(m["n"])
            if value is None:
                continue
            kilo = _KILO.match(n, m.end())
            if kilo:
                value, stop = value * 1000, kilo.end()  # "百分之3.2k" (peer suite)
            else:
                stop = m.end()
            scale = {"百": 1, "佰": 1, "千": 0.1, "仟": 0.1, "万": 0.01, "百万": 1e-4, "千万": 1e-5,
                     "万万": 1e-6}[m["w"]]
            cand = _Cand("percent", m.start(), stop, {"value": _scaled(value, scale)})
            self._qualify(cand, m.start(), allow_after=True)
            yield cand
        for m in _matches(_TOKEN_RE, _TOKEN_STARTS, n):
            cand = self._number_at(m)
            if cand is not None:
                yield cand

    def _number_at(self, m: re.Match[str]) -> _Cand | None:
        n, v = self.norm, self.v
        start, end = m.span()
        token = m.group()
        masked = m.lastgroup == "mask"  # the groups are num and mask, neither inside the other
        if not masked and len(token) > 1 and token[0] in "零〇" and "点" not in token \
                and _CN_DIGIT_RUN.fullmatch(token):
            return None
        if len(token) == 1 and token in "壹贰叁肆伍陆柒捌玖拾" and self._cjk_at(start - 1) and n[start - 1] != "是":
            return None  # 放肆, 大陆, 拾起: the character of a word, not a numeral
        value = None if masked else _number(token)
        if not masked and value is None:
            digits = _digits(token) if n.startswith("折", end) else None
            if digits is None:
                return None  # "一一", "二三": no number on their own
            value = digits  # "五五折" -> 55 %
        full_token, full_end, full_value = token, end, value
        if not masked and not token.isascii() and token[-1] in "万亿兆" and len(token) > 1 \
                and not any(c in "万亿兆" for c in token[:-1]):
            # "三十万元": the magnitude goes with the unit, as "30万元" writes it.
            token, end = token[:-1], end - 1
            value = _number(token)
            if value is None:
                return None
        if not masked and _FRACTION.match(n, full_end):
            return self._fraction(start, full_end, full_value, 0) if self.bare else None
        if self.bare and not masked:
            special = self._bare_special(start, full_token, full_end, full_value)
            if special is not None:
                return special
        low = high = None
        # A range: "1—2项", "15-20万元", "15万-20万元", "90%-95%", "3至5天".
        sep = self.p.sep.match(n, _RANGE_FIRST.match(n, end).end())
        if sep and not masked:
            second = _TOKEN_RE.match(n, sep.end())
            if second is not None and second["num"]:
                token2, end2 = second.group(), second.end()
                if token2[-1] in "万亿兆" and len(token2) > 1 and not any(c in "万亿兆" for c in token2[:-1]):
                    token2, end2 = token2[:-1], end2 - 1  # "15-20万元": 万 scales both ends
                value2 = _number(token2)
                if value2 is not None and value2 > value:
                    low, high, end = value, value2, end2
                    value = None
        suf = self.p.suffix.match(n, end)
        if suf is None and self.bare and low is None and _COLLOQUIAL_YUAN.match(n, end):
            # 块 is yuan in speech ("花费我三块"); in reports it counts objects (镜匾8块), so only here.
            stop = _COLLOQUIAL_YUAN.match(n, end).end()
            cand = _Cand("money", start, stop, {"value": value, "unit": n[end:stop].strip()})
            return self._finish(cand, token, start)
        kind = "quantity"
        fields: dict[str, Any] = {}
        if suf is None:
            if not self.bare or masked or low is not None:
                return None
            token, end, value = full_token, full_end, full_value
            approx = _BARE_APPROX.match(n, end)
            if approx and value is not None:
                # "一千多万", "五百 余万": the base value, approx (peer suite's reading)
                for c in approx["mag"]:
                    value = value * self.v.magnitudes[c]
                end = approx.end()
                fields["qualifier"] = "approx"
            if len(token) == 1 and not self._lone_numeral(start, end, token):
                return None
            if _ONE_TWO_DIGITS.fullmatch(token) and n.startswith(("、", ".", "．", ")", "）"), end):
                return None  # a numbering marker
            fields["value"] = value
            return self._finish(_Cand("quantity", start, end, fields), token, start)
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
            whole = value if value is not None else high
            factor = factor * (10 if suf["ratio"] == "成" or (whole or 0) < 10 else 1)
            if suf["ratio"] == "成" and token == "一":
                return None
        elif suf["money"]:
            kind = "money"
            fields["unit"] = (suf["mag"] or "") + suf["money"]
        else:
            if unit_word in _GRADE_UNITS and not (token == "两" or token.isdigit()) and self._cjk_at(suf.end()):
                return None  # 三级医院, 二类障碍, 二期院区: a grade or phase, not a count
            if unit_word == "级" and n.startswith(("医院", "甲", "乙", "综合", "专科"), suf.end()):
                return None
            fields["unit"] = (suf["mag"] or "") + unit_word
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
        if masked:
            fields["masked"] = True
            if kind == "quantity" and token.strip("_x×") == "" and unit_word in ("年",):
                return None
        else:
            if value is not None:
                fields["value"] = _scaled(value, factor)
            else:
                fields["low"], fields["high"] = _scaled(low, factor), _scaled(high, factor)
        if kind == "money" and unit_word.endswith("元") and value is not None:
            cents = _CENTS.match(n, end)
            if cents:
                for group, share in (("jiao", 0.1), ("fen", 0.01), ("cent", 0.01)):
                    if cents[group]:
                        value += (_number(cents[group]) or 0) * share / factor
                fields["value"], end = _scaled(value, factor), cents.end()  # "五元三毛" -> 5.3
        if kind == "money":
            for trailer in v.money_trailers:
                if n.startswith(trailer, end) and trailer != suf["money"]:
                    end += len(trailer)
                    break
        if suf["i3"] and self._cjk_at(end) and n[end] not in "的来月小星天":
            end -= 1  # "两次多重耐药菌": 多 belongs to the next word
        elif suf["i3"] or suf["i1"] or suf["i2"]:
            fields["qualifier"] = "approx"
        cand = _Cand(kind, start, end, fields)
        if token == "半" and unit_word not in v.time_units:
            return None
        # "一" counts only where the count ends the phrase ("新住房一套，"); before a noun it is an article.
        if token == "一" and start > 0 and n[start - 1] == "的":
            return None  # "新的一年": an article
        if token == "一" and (self._cjk_at(end) or n.startswith(("“", "「", "《", '"'), end)) \
                and kind == "quantity":
            after = self.p.after_q.match(n, end)
            if after is None or after["inner"]:
                return None
        self._qualify(cand, start, allow_after=True, time_unit=unit_word in v.time_units)
        return self._finish(cand, token, start)

    def _lone_numeral(self, start: int, end: int, token: str) -> bool:
        """A one-character numeral standing alone ("答案是四不是五"), not part of a word (四川, 放肆)."""
        n = self.norm
        before = n[start - 1] if start > 0 else ""
        if before in ("是", "前", "后"):
            return True
        if not self._cjk_at(start - 1):
            return not self._cjk_at(end) or n[end] == "的"
        return not self._cjk_at(end) and token in "二三四五六七八九两"

    def _fraction(self, start: int, end: int, denominator: float | int | None, whole: float | int) -> _Cand | None:
        """"五分之一" -> 0.2, "3又一千分之23" -> 3.023 (bare numbers only: in reports 分 is mostly a score)."""
        m = _FRACTION.match(self.norm, end)
        if m is None or not denominator:
            return None
        numerator = _number(m["n"])
        if numerator is None:
            return None
        value = numerator / denominator * (-1 if m["neg"] else 1)
        value = whole + value if whole >= 0 else whole - value
        return self._finish(_Cand("quantity", start, m.end(), {"value": _scaled(value, 1)}), "", start)

    def _bare_special(self, start: int, token: str, end: int, value: float | int | None) -> _Cand | None:
        """Written forms the peer suite counts as numbers: 又 fractions, exponents, k/M, 打 (dozen)."""
        n = self.norm
        if value is None:
            return None
        mixed = _MIXED.match(n, end)
        if mixed:
            inner = _TOKEN_RE.match(n, mixed.end())
            if inner and inner["num"]:
                cand = self._fraction(start, inner.end(), _number(inner.group()), value)
                if cand is not None:
                    return cand
        slash = _SLASH.match(n, end)
        if slash and token.isascii():
            whole, _, top = token.rpartition(" ")
            top_value, bottom = _number(top), int(slash["n"])
            if top_value is not None and bottom:
                result = (int(whole) if whole.isdigit() else 0) + top_value / bottom
                return self._finish(_Cand("quantity", start, slash.end(), {"value": _scaled(result, 1)}), token, start)
        exp = _EXPONENT.match(n, end)
        if exp and token.isascii():
            power = int(exp["n"]) * (-1 if exp["sign"].count("-") % 2 else 1)
            base = 10.0 if exp["op"] in "eE" else float(value)
            result = value * base ** power if exp["op"] in "eE" else base ** power
            return self._finish(_Cand("quantity", start, exp.end(), {"value": _scaled(result, 1)}), token, start)
        scale = _SCALE.match(n, end)
        if scale:
            factor = {"k": 1e3, "K": 1e3, "M": 1e6, "万": 1e4, "亿": 1e8, "打": 12}[scale["s"] or scale["s2"]]
            points = _POINTS.match(n, scale.end())
            kind, stop = ("percent", points.end()) if points else ("quantity", scale.end())
            return self._finish(_Cand(kind, start, stop, {"value": _scaled(value, factor)}), token, start)
        return None

    def _finish(self, cand: _Cand, token: str, start: int) -> _Cand | None:
        n = self.norm
        left = n[start - 1] if start else ""
        if left == "第":
            return None  # an ordinal
        sign = n[start - 1] if start > 0 else ""
        if sign and sign in "-负" and (start < 2 or not _SIGN_GLUE.match(n, start - 2)):
            if "value" in cand.fields and isinstance(cand.fields["value"], (int, float)):
                cand.fields["value"] = -cand.fields["value"]
                cand.start -= 1
        if left and left in self.v.money_signs and cand.type == "quantity" and "unit" not in cand.fields:
            cand.type = "money"
            cand.fields["unit"] = left
            cand.start -= 1
        return cand

    def _qualify(self, cand: _Cand, start: int, allow_after: bool, time_unit: bool = False) -> None:
        n = self.norm
        before = n[start - 3:start] if start >= 3 else n[:start]
        # The longest qualifier word that ends just before the number (a dict lookup per length).
        for size in range(len(before), 0, -1):
            word = before[-size:]
            if word in self.v.before:
                cand.fields.setdefault("qualifier", self.v.before[word])
                cand.start = start - size
                break
        if allow_after:
            m = self.p.after_q.match(n, cand.end)
            if m and (m["q"] or time_unit):
                if m["q"]:
                    cand.fields.setdefault("qualifier", self.v.after[m["q"]])
                else:
                    cand.fields.setdefault("qualifier", "at_most")
                cand.end = m.end()

    # -- all together
    def run(self) -> list[_Cand]:
        names = list(self.names())
        cands = names + list(self.dates()) + list(self.frequencies()) + list(self.periods())
        for cand in self.numbers():
            if not self._is_blocked(cand.start, cand.end):
                cands.append(cand)
        return _resolve(cands)


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    """Keep the best of overlapping candidates: higher rank, then longer, then earlier."""
    cands.sort(key=lambda c: (-_RANK[c.type], -(c.end - c.start), c.start))
    # One byte per character, set where a chosen candidate lies: a clash is a set byte in the span.
    # (A sorted list of taken spans with insort moved half the list per mention: quadratic; extracting the
    # 1.2 million mentions of a 20 MB one-line file took 49 s, now 16 s.) Linear in the candidates' lengths.
    taken = bytearray(max((c.end for c in cands), default=0))
    chosen = []
    for c in cands:
        if c.end <= c.start:
            continue
        if taken.find(1, c.start, c.end) < 0:
            taken[c.start:c.end] = b"\x01" * (c.end - c.start)
            chosen.append(c)
    chosen.sort(key=lambda c: (c.start, c.end))
    return chosen


# --- Document years ------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?=[ ]?年|[-/.][01]?[0-9])")


def _year_in(text: str) -> int | None:
    found = _YEAR_RE.findall(text.translate(_FOLD))
    return int(found[0]) if found else None


def _main_year(text: str) -> int | None:
    found = Counter(_YEAR_RE.findall(text.translate(_FOLD)))
    return int(found.most_common(1)[0][0]) if found else None


def _resolve_years(cands: Iterable[_Cand], year: int | None) -> None:
    if year is None:
        return
    for c in cands:
        _resolve_year(c, year)


def _resolve_year(c: _Cand, year: int) -> None:
    if c.type == "period":
        c.fields["resolved_year"] = year + c.fields.get("_offset", 0)
    elif c.type == "date" and "year" not in c.fields and not c.fields.get("masked") \
            and ("month" in c.fields or "day" in c.fields):
        c.fields["resolved_year"] = year


# --- Public API ----------------------------------------------------------------------------------

def _to_mention(c: _Cand, source: SourceText) -> Mention:
    line = source.line_of(c.start)
    line_start = source.line_starts[line - 1]
    fields = {k: v for k, v in c.fields.items() if not k.startswith("_")}
    return Mention(type=c.type, text=source.text[c.start:c.end], start=c.start, end=c.end, line=line,  # type: ignore[arg-type]
                   col_start=c.start - line_start, col_end=c.end - line_start, path=source.path, **fields)


def extract(text: str, year: int | None = None, bare_numbers: bool = False, path: str = "<string>") -> list[Mention]:
    """Find the mentions in a bare string.

    Args:
        text: any text; lines are split on ``\\n``.
        year: the year that yearless dates and periods (今年, 上半年) refer to;
            by default the year the first line states, else the year the text
            states most often, else none (the raw form is kept).
        bare_numbers: also report numbers without a unit ("一千二百") as
            quantities; off for reports, where such numbers are mostly codes.
        path: the name recorded in each mention's ``path``.

    Returns:
        Mentions in text order; ``text[m.start:m.end] == m.text``.

    >>> [(m.type, m.text, m.value, m.unit) for m in extract("开展新技术、新项目40余项，合格率100%")]
    [('quantity', '40余项', 40, '项'), ('percent', '100%', 100, None)]
    """
    source = SourceText.from_text(text, path=path)
    cands = _Extractor(text, bare_numbers=bare_numbers).run()
    if year is None:
        first = text.split("\n", 1)[0]
        year = _year_in(first) or _main_year(text)
    _resolve_years(cands, year)
    return [_to_mention(c, source) for c in cands]


def _page_year(parsed: ParsedFile) -> int | None:
    """The year the page's own meta lines (outside any document) state."""
    if not parsed.page_meta_lines:
        return None
    source = parsed.source
    return _year_in("\n".join(source.line_text(x) for x in parsed.page_meta_lines))


def _document_year(parsed: ParsedFile, index: int) -> int | None:
    """The year the document reports on, as the documents table gives it (:func:`metadata.document_year`)."""
    from .metadata import document_year

    return document_year(parsed.documents[index], parsed.source)[0]


def extract_parsed(parsed: ParsedFile) -> list[Mention]:
    """Find the mentions of a parsed file, each placed in its document and section.

    Noise lines (page furniture, teasers) yield no mentions; meta lines do
    (an upload date is a date). A mention inside a document gets
    ``doc_index``, and inside a section ``section_outline`` and
    ``section_line``; yearless dates and periods are resolved against the
    year the document states.

    Returns:
        Mentions in text order.
    """
    import bisect

    source = parsed.source
    roles = parsed.line_roles
    documents = parsed.documents
    # Match on the Simplified view of Traditional text (same offsets); the mention's
    # text is still sliced from the original, its name and unit come normalised.
    # In text order, none overlapping; the extractor (and its copy of the text) is freed at once.
    cands = _Extractor(source.match_text).run()
    line_starts, text, path = source.line_starts, source.text, source.path
    doc_starts = [d.start_line for d in documents]
    section_lines: dict[int, list[int]] = {}
    years: dict[int | None, int | None] = {}
    out: list[Mention] = []
    line = 1
    last_place: tuple[int | None, int] = (None, 0)
    outline = section_line = None
    # A long file holds hundreds of thousands of mentions: each keeps only what is its own (about 500 bytes).
    # Its line number and unit are objects shared with the mentions before it, each candidate is dropped
    # once made into a mention (so the two lists never both stand whole).
    units: dict[str, str] = {}
    for k, c in enumerate(cands):
        cands[k] = None  # type: ignore[call-overload]
        # Candidates come in text order: each line search starts where the last one ended.
        found = bisect.bisect_right(line_starts, c.start, line - 1)
        line = line if found == line else found
        if roles and line - 1 < len(roles) and roles[line - 1] in ("noise", "blank"):
            continue
        i = bisect.bisect_right(doc_starts, line) - 1
        doc_index = i if i >= 0 and documents[i].end_line >= line else None
        if doc_index not in years:
            years[doc_index] = _document_year(parsed, doc_index) if doc_index is not None \
                else _page_year(parsed)
        year = years[doc_index]
        if year is not None:
            _resolve_year(c, year)
        if (doc_index, line) != last_place:  # mentions crowd on a line: look its section up once
            last_place = (doc_index, line)
            outline = section_line = None
            if doc_index is not None:
                doc = documents[doc_index]
                lines = section_lines.get(doc_index)
                if lines is None:
                    lines = section_lines[doc_index] = [s.line for s in doc.sections]
                # Document.section_at, with the section lines listed once per document.
                at = bisect.bisect_right(lines, line) - 1
                section = doc.sections[at] if at >= 0 else None
                while section is not None and section.end_line < line:
                    section = doc.parent_of(section)
                if section is not None:
                    outline, section_line = section.outline, section.line
        line_start = line_starts[line - 1]
        fields = c.fields
        if "_offset" in fields:
            fields = {key: v for key, v in fields.items() if key[0] != "_"}
        if fields.get("unit") is not None:
            fields["unit"] = units.setdefault(fields["unit"], fields["unit"])
        out.append(Mention(type=c.type, text=text[c.start:c.end], start=c.start, end=c.end,  # type: ignore[arg-type]
                           line=line, col_start=c.start - line_start if line_start else c.start,
                           col_end=c.end - line_start if line_start else c.end, path=path,
                           doc_index=doc_index, section_outline=outline, section_line=section_line, **fields))
    return out
