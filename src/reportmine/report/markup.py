"""Small text helpers of the report: escaping, numbers, anchors' slugs, sort keys and HTML tables.

Every module of the report builds its HTML and SVG from these, so that a
value is shown (escaped, rounded, cut) the same way everywhere on the page.
"""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING, Any

from ..safetext import visible

if TYPE_CHECKING:
    import pandas as pd


def esc(value: Any) -> str:
    """Escaped text for element content and quoted attributes alike.

    Characters HTML and SVG cannot hold (control characters, lone surrogates,
    noncharacters) become visible ``\\uXXXX`` escapes (:func:`reportmine.safetext.visible`).
    """
    return "" if value is None else html.escape(visible(str(value)), quote=True)


def nothing(what: str) -> str:
    """The grey box shown where a figure or list has nothing to show."""
    return f'<p class="empty">Nothing to show: {esc(what)}.</p>'


def missing(frame: Any, columns: tuple[str, ...] = ()) -> bool:
    """True when a table is absent, empty or lacks a column we need."""
    return frame is None or len(frame) == 0 or any(c not in frame.columns for c in columns)


def records(frame: pd.DataFrame, columns: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Records with every missing value (NA, NaN, None) as None: pd.NA has no truth value.

    ``columns`` keeps only those that exist: the mentions table has 30, the report needs 9.
    """
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def num(value: Any) -> float | None:
    """``value`` as a float, or None where it is missing, NaN or not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def fmt_int(value: Any) -> str:
    """A count with thousands separators ("" where missing)."""
    number = num(value)
    return "" if number is None else f"{round(number):,}"


def fmt_year(value: Any) -> str:
    """A year without separators ("" where missing)."""
    number = num(value)
    return "" if number is None else str(round(number))


def fmt(value: Any, digits: int = 2) -> str:
    """A number: whole numbers with separators, others with ``digits`` decimals ("" where missing)."""
    number = num(value)
    if number is None:
        return ""
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def fmt_pct(value: float | None) -> str:
    """A share as a percent with one decimal ("" where missing)."""
    return "" if value is None else f"{value * 100:.1f}%"


def slug(value: str) -> str:
    """``value`` reduced to the characters an anchor name keeps."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-") or "x"


def natural(text: str) -> list[Any]:
    """Sort key putting q-2 before q-10 (and 第2医院 before 第10医院); ties broken by the text itself."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)] + [(2, 0, text)]


def lit(text: str) -> str:
    """``text`` as a quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def html_table(head: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'
