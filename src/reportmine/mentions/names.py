"""Named activities and documents: 《…》 titles and quoted campaign names.

Names are found first: the numbers inside 《…》 and quotes are parts of names,
so quoted spans, web addresses and words that are not mentions become the
context's blocked spans, where no number is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .context import Cand, Context
from .vocab import CN

#: Quoted spans up to this length are names: numbers inside them are not counts.
MAX_QUOTED_NAME = 30
#: How far back an activity verb (开展, 组织 …) may stand in the quote's clause.
ACTIVITY_VERB_WINDOW = 12
_URL = re.compile(r"https?://[!-~]++")


def find_names(ctx: Context) -> Iterator[Cand]:
    """Documents (《…》) and activities; sets ``ctx.blocked`` once exhausted."""
    n, v = ctx.norm, ctx.v
    for m in ctx.p.book.finditer(n):
        name = ctx.text[m.start() + 1:m.end() - 1].strip()
        if not name:
            continue
        kind = "activity" if name.endswith(v.doc_events) else "document"
        yield Cand(kind, m.start(), m.end(), {"name": name})
    zones = []
    for m in ctx.p.quote.finditer(n):
        zones.append((m.start(), m.end()))
        name = ctx.text[m.start() + 1:m.end() - 1].strip()
        act = _activity(ctx, m.start(), m.end(), name)
        if act is not None:
            yield Cand("activity", m.start(), act, {"name": name})
    for m in _URL.finditer(n):
        zones.append((m.start(), m.end()))  # numbers in a web address are not facts
    for m in ctx.p.not_words.finditer(n):
        if m.start() > 0 and n[m.start() - 1] in CN + "0123456789":
            continue  # "二十分钟" holds 十分 but is a count
        zones.append((m.start(), m.end()))
    ctx.blocked = sorted(z for z in zones if z[1] - z[0] <= MAX_QUOTED_NAME + 2 or n.startswith("http", z[0]))


def _activity(ctx: Context, start: int, end: int, name: str) -> int | None:
    """End of the activity span for the quote at start:end, or ``None`` if it is no activity."""
    v, n = ctx.v, ctx.norm
    if not name or len(name) > 25 or re.search(r"[，。；！？,;]", name):
        return None
    if re.fullmatch(rf"[0-9{CN}]+[^\s]?", name):
        return None  # "三十条", "五四": a numbered rule or date, not a campaign
    after = n[end:end + 8].lstrip(" ")
    gap = len(n[end:end + 8]) - len(after)
    for word in v.act_suffixes:
        if after.startswith(word):
            return end + gap + len(word)
    if ctx.p.not_words.fullmatch(name):
        return None  # "一把手"工程, "一对一"服务: words, named only when 活动/行动 follows
    if after.startswith(v.act_after):
        return end
    clause = re.split(r"[，。；：！？,;:\n]", n[max(0, start - ACTIVITY_VERB_WINDOW):start])[-1]
    if any(verb in clause for verb in v.act_verbs):
        return end
    return None
