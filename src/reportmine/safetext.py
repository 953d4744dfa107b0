"""Text made safe for the writers: XML/HTML that always parses, CSV that spreadsheets do not execute.

Report text, titles, file names and terms can hold any character, and the
output formats cannot all take them as they are:

- **XML and HTML** (GEXF, GraphML, ``report.html`` and its inline SVG):
  :func:`visible` replaces each character these formats forbid or treat as an
  error by a visible escape, ``\\u000b`` (``\\U0001fffe`` past the BMP).
- **CSV**: :func:`spreadsheet_safe` neutralises cells a spreadsheet would run
  as a formula (OWASP's CSV injection rule). Parquet and DuckDB keep the raw text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage
#: return, lone surrogates, U+FFFE and U+FFFF), plus those HTML parses as errors
#: and a reader cannot see (DEL, C1 controls, noncharacters), so one rule covers
#: the graph files and the report page alike.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every character XML or HTML cannot hold replaced by a visible ``\\uXXXX`` escape.

    A visible escape rather than U+FFFD or deletion, because it loses nothing:
    two labels that differ only in a control character (Word's manual line
    break ``\\x0b``, a form feed, an ESC) stay different, so graph node ids
    stay unique, and a reader sees what the source held. The notation is
    Python's and JSON's; text that already holds a literal backslash-u
    sequence is left as it is (the graph writers keep node ids unique even
    then). Tab, newline and carriage return are valid and kept.

    >>> visible("健康\\x0b快车\\x1b")
    '健康\\\\u000b快车\\\\u001b'
    >>> visible("ok\\tline\\n")
    'ok\\tline\\n'
    """
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with lone surrogates as visible ``\\udcXX`` escapes, so UTF-8 (Parquet, CSV, DuckDB) can hold it.

    They come from file names that are not valid UTF-8 (Python decodes each bad
    byte as a surrogate); one such name must not stop a corpus run.

    >>> storable("bad\\udcff.txt")
    'bad\\\\udcff.txt'
    """
    return _SURROGATE.sub(_escape, text) if _SURROGATE.search(text) else text


#: Line end of every CSV file reportmine writes: RFC 4180's CRLF. With it, Python's csv writer quotes a cell
#: holding a lone carriage return (a report from an old Mac, a file name); with "\n" it did not, and the
#: cell split its row in two.
CSV_LINE_END = "\r\n"

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """One CSV cell, neutralised as in :func:`spreadsheet_safe`: a text starting with a formula character gets a
    leading ``'``; anything else (numbers, negative ones too, None) is returned as it is.

    >>> spreadsheet_cell("=1+1"), spreadsheet_cell("-2"), spreadsheet_cell(-2), spreadsheet_cell("医院")
    ("'=1+1", "'-2", -2, '医院')
    """
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for writing as CSV: text cells a spreadsheet would run as a formula are prefixed with ``'``.

    Spreadsheet programs (Excel, LibreOffice, Google Sheets) evaluate a cell
    that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, tab or
    carriage return) as a formula, so a report line such as
    ``=HYPERLINK("http://…")`` would run when a researcher opens the CSV.
    Following OWASP's rule, such text cells get a leading single quote, which
    spreadsheets show as text and do not display. Only text cells change:
    numeric columns (negative numbers included) and non-text values are kept,
    and the frame itself is not modified (a copy is returned when a cell
    changes). Parquet and DuckDB outputs keep the raw text; strip one leading
    ``'`` from such cells to recover it from a CSV.

    >>> import pandas as pd
    >>> spreadsheet_safe(pd.DataFrame({"text": ["=SUM(A1)", "医院", "-3"], "n": [-3, 1, 2]})).values.tolist()
    [["'=SUM(A1)", -3], ['医院', 1], ["'-3", 2]]
    """
    import numpy as np
    import pandas as pd

    out = frame
    for position in range(frame.shape[1]):  # by position: column names may repeat
        column = frame.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.StringDtype):
            # Vectorised for Arrow-backed text: the tables' CSV is formatted from Parquet parts of any size.
            mask = column.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
        elif pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            values = column.to_numpy(dtype=object)
            mask = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values), bool,
                               len(values))
        else:  # numbers, booleans, dates: never formula text
            continue
        if mask.any():
            if out is frame:
                out = frame.copy()
            cells = column.to_numpy(dtype=object).copy()
            cells[mask] = ["'" + v for v in cells[mask]]
            # Text columns keep their dtype; a categorical one becomes plain text (its categories changed).
            keep = dtype if isinstance(dtype, pd.StringDtype) else object
            out.isetitem(position, pd.Series(cells, index=frame.index, dtype=keep, name=column.name))
    return out
