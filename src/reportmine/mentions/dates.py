"""Dates, clock times, month lists, named periods (今年, 上半年) and frequencies (每周2次)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .context import Cand, Context
from .numerals import digits, number, small
from .vocab import CN, CN_DIGITS, MASKED, matches

# Where a match can begin. Most patterns open with a look-behind, which keeps the regex
# engine from skipping ahead by first character: it tries every position. These one-character
# patterns open with a character class (scanned in C) and find the few positions worth a
# match attempt; vocab.matches() then tries the full pattern only there. Each must accept every
# position where its pattern can match (a superset), else mentions are lost.
#: Where a date written with 年月日 can begin.
DATE_STARTS = re.compile(rf"[0-9_x×{CN_DIGITS}十](?<![0-9.{CN}_x×].)", re.S)
#: Where an ISO date (2016-03-05) can begin.
ISO_STARTS = re.compile(r"[12](?<![0-9.].)(?=[0-9]{3}[-/.])", re.S)
#: Where a festival date (5.1节) can begin.
FESTIVAL_STARTS = re.compile(r"[1-9](?<![0-9.].)(?=[0-9]?\.)", re.S)
#: Where a time of day (下午5点, 12:30) can begin.
TIME_OF_DAY_STARTS = re.compile(r"[上早凌中下晚傍夜今明0-9](?<![0-9:.][0-9])(?=[午上晨晚里间早]|[0-9]?:)", re.S)
_PER_AMOUNT = re.compile(r"[^，。；、,;\s0-9]{0,3}量")
_TOD = r"(?:上午|早上|早晨|凌晨|中午|下午|晚上|傍晚|夜里|夜间|今晚|今早|今晨|明早|明晚)"
_PM = frozenset({"下午", "晚上", "傍晚", "夜里", "夜间", "今晚", "明晚"})
_CLOCK = re.compile(
    rf"[ ]?(?P<tod>{_TOD})?[ ]?(?:(?P<h>[01]?[0-9]|2[0-4]|[一二三四五六七八九十]{{1,3}})(?:点|时)"
    rf"(?:(?P<mi>[0-5]?[0-9]|[一二三四五六七八九十]{{1,3}})分|(?P<half>半)|(?P<quarter>一刻))?"
    r"|(?<![0-9:])(?P<h2>[01]?[0-9]|2[0-3]):(?P<mi2>[0-5][0-9])(?::(?P<s2>[0-5][0-9]))?(?![0-9]))"
)
#: Where a time of day without a date starts (an empty match, the clock read by the date finder).
TIME_OF_DAY = re.compile(rf"(?={_TOD}[ ]?[0-9一二三四五六七八九十])|(?<![0-9:.])(?=[01]?[0-9]:[0-5][0-9](?![0-9]))"
                         r"|(?<![0-9:.])(?=2[0-3]:[0-5][0-9](?![0-9]))")


def find_dates(ctx: Context) -> Iterator[Cand]:
    """ISO dates, times of day, festival dates (5.1节) and dates written with 年月日."""
    n = ctx.norm
    for m in matches(ctx.p.iso, ISO_STARTS, n):
        f: dict[str, Any] = {"year": int(m["y"]), "month": int(m["m"]), "day": int(m["d"])}
        if m["h"]:
            f.update(hour=int(m["h"]), minute=int(m["mi"]))
            if m["s2"]:
                f["second"] = int(m["s2"])
        yield _with_time(ctx, Cand("date", m.start(), m.end(), f))
    for m in matches(TIME_OF_DAY, TIME_OF_DAY_STARTS, n):
        cand = _with_time(ctx, Cand("date", m.start(), m.start(), {}))
        if cand.end > cand.start:
            yield cand
    for m in matches(ctx.p.festival, FESTIVAL_STARTS, n):
        yield Cand("date", m.start(), m.end(), {"month": int(m["m"]), "day": int(m["d"])})
    for m in matches(ctx.p.date, DATE_STARTS, n):
        cand = _date(ctx, m)
        if cand is None:
            continue
        if not m["clock"]:
            cand = _with_time(ctx, cand)
        yield cand
        if cand.fields.get("month") is not None and not m["y1"] and not (m["d1"] or m["d2"]):
            yield from _month_list(ctx, m.start())


def _date(ctx: Context, m: re.Match[str]) -> Cand | None:
    f: dict[str, Any] = {}
    masked = False
    groups = m.groupdict()
    y1, y2 = groups["y1"], groups["y2"]
    month = groups["m1"] or groups["m2"]
    month_b = groups["m1b"] or groups["m2b"]
    day = groups["d1"] or groups["d2"] or groups["d3"]
    day_b = groups["d1b"] or groups["d2b"] or groups["d3b"]
    for part in (y1, y2, month, month_b, day, day_b):
        if part and MASKED.search(part):
            masked = True
    if y1 is not None:
        year = None if MASKED.search(y1) else digits(y1)
        if year is not None:
            f["year"] = year
        if y2 is not None:
            end_year = None if MASKED.search(y2) else digits(y2)
            if end_year is not None:
                f["end_year"] = end_year
    for key, token, top in (("month", month, 12), ("end_month", month_b, 12), ("day", day, 31),
                            ("end_day", day_b, 31)):
        value = small(token)
        if value is not None:
            if not 1 <= value <= top:
                return None
            f[key] = value
    if y1 is None and not masked and month is None and groups["d3"] is None:
        return None
    if y1 is None and month is not None and len(month) == 1 and month in CN_DIGITS:
        # "一月" is January, but "五月" after a numeral is part of a longer count; keep single ones.
        if ctx.cjk_at(m.start() - 1) and ctx.norm[m.start() - 1] in CN:
            return None
        if groups["d2"] is None and ctx.norm.startswith(("来", "以", "内", "多", "余", "的", "后", "前"), m.end()):
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
    return Cand("date", m.start(), m.end(), f)


def _with_time(ctx: Context, cand: Cand) -> Cand:
    """Extend a date (or an empty candidate) over a clock time after it: "晚上六点", "下午5:00"."""
    m = _CLOCK.match(ctx.norm, cand.end)
    if m is None or (not m["tod"] and m["h"] and cand.end == cand.start):
        return cand  # "3点" alone is as often "3点意见" as three o'clock
    hour = small(m["h"] or m["h2"])
    if hour is None or hour > 24:
        return cand
    if m["tod"] in _PM and hour < 12:
        hour += 12
    cand.fields["hour"] = hour
    minute = 30 if m["half"] else 15 if m["quarter"] else small(m["mi"] or m["mi2"])
    if minute is not None:
        cand.fields["minute"] = minute
    if m["s2"]:
        cand.fields["second"] = int(m["s2"])
    cand.end = m.end()
    return cand


def _month_list(ctx: Context, start: int) -> Iterator[Cand]:
    """Months listed before a month date share its 月: "5、7月份" -> 5 and 7月份 (corpus 000, line 100)."""
    pos = start
    while True:
        m = re.search(r"(?<![0-9])(1[0-2]|[1-9])、$", ctx.norm[max(0, pos - 3):pos])
        if not m or not ctx.cjk_at(pos - len(m.group(0)) - 1):
            return  # "4、3月7日" at a line's start: a numbering marker, not a month
        begin = pos - len(m.group(0))
        yield Cand("date", begin, begin + len(m.group(1)), {"month": int(m.group(1))})
        pos = begin


def find_frequencies(ctx: Context) -> Iterator[Cand]:
    """每 + a period ("每周", "每年进行两次"), with the count of times when stated."""
    n, v = ctx.norm, ctx.v
    for m in ctx.p.freq.finditer(n):
        per_word = m["per"]
        end = m.end()
        count = 1
        if per_word == "年" and n.startswith("度", end):
            end += 1
        if _PER_AMOUNT.match(n, end):
            continue  # 每日吸烟量: a daily amount, not how often (corpus 000, line 94)
        tail = ctx.p.freq_times.match(n, end)
        if tail:
            value = number(tail["n"])
            if isinstance(value, int) and value > 0:
                count, end = value, tail.end()
        elif per_word in ("周", "星期") and end < len(n) and n[end] in "一二三四五六日天":
            end += 1  # 每周一: every Monday, once a week
        yield Cand("frequency", m.start(), end, {"per": v.per[per_word], "count": count})


def find_periods(ctx: Context) -> Iterator[Cand]:
    """Named periods relative to the report's year ("今年", "上半年"); ``_offset`` in years."""
    n, v = ctx.norm, ctx.v
    starts = ctx.p.period_start.finditer(n)
    pos = 0
    for s in starts:
        if s.start() < pos:
            continue
        m = ctx.p.period.match(n, s.start())
        if not m or m.end() == m.start():
            continue
        pos = m.end()
        if m["p"] is None and n.startswith(v.not_before, m.end()):
            continue
        if m.start() > 0 and n[m.start() - 1] in "0123456789" + CN_DIGITS + "_x×":
            continue  # "2016年初", "12月底": a date's edge, not a named period
        if m["y"] and m["p"] is None and m["y"] == "上年" and m.start() > 0 and n[m.start() - 1] == "以":
            continue  # 以上年…
        period = v.parts[m["p"]] if m["p"] else v.years[m["y"]]
        offset = {"last_year": -1, "next_year": 1}.get(v.years.get(m["y"] or "", ""), 0)
        yield Cand("period", m.start(), m.end(), {"period": period, "_offset": offset})
