"""Reading numerals: Arabic, Chinese (through cn2an) or both mixed, and digit-by-digit runs."""

from __future__ import annotations

import re
from functools import lru_cache

from .vocab import CN_VALUE, MASKED

#: A numeral run longer than this is not a number a report states (an ID, a
#: table row run together); skipping it also keeps cn2an off huge inputs.
MAX_NUMERAL_CHARS = 24
_ARABIC = re.compile(r"[0-9,，]*(?:\.[0-9]+)?")


def number(token: str) -> float | int | None:
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
    elif all(c in CN_VALUE for c in s):
        if len(s) == 1:
            value = float(CN_VALUE[s])
        else:
            return None  # "一一", "二三": not a number on its own
    elif "兆" in s and not s.startswith("兆"):
        # cn2an stops at 亿; 兆 (10^12) splits the numeral in two readable halves.
        high, _, low = s.partition("兆")
        high_value, low_value = number(high), number(low) if low else 0
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
            base = number(head)
            if base is None:
                return None
            value = float(base)
            for c in s[len(head):]:
                value *= {"万": 1e4, "亿": 1e8, "兆": 1e12}[c]
    return int(value) if value.is_integer() else value


_cached_number = lru_cache(maxsize=1 << 16)(_read_number)


def digits(token: str) -> int | None:
    """A year or a digit string written digit by digit ("二〇一六" -> 2016)."""
    if token.isdigit():
        return int(token)
    if all(c in CN_VALUE for c in token):
        return int("".join(str(CN_VALUE[c]) for c in token))
    return None


def small(token: str | None) -> int | None:
    """A month, day or hour: Arabic or Chinese; ``None`` when masked or absent."""
    if token is None or MASKED.search(token):
        return None
    if token.isdigit():
        return int(token)
    value = number(token)
    return int(value) if isinstance(value, (int, float)) else None


def scaled(value: float | int, factor: int | float) -> float | int:
    """``value * factor``, rounded to 10 decimals and an int when whole."""
    out = value * factor
    if isinstance(out, float):
        out = round(out, 10)
        if out.is_integer():
            return int(out)
    return out
