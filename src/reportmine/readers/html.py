"""Reading ``.html`` pages (trafilatura): the page's main text, a line per block element.

Navigation, headers, footers, sidebars and scripts are left out. trafilatura
(and lxml under it) load only when a page is read.
"""

from __future__ import annotations

import re

from ..errors import InputError

HTML_SUFFIXES = frozenset({".html", ".htm"})

#: Elements nested deeper than this stop libxml2, trafilatura's parser: the page then yields no text.
HTML_MAX_DEPTH = 255
# Elements that never hold others, so never add a level.
_VOID_ELEMENTS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


def _nesting_depth(page: str) -> int:
    """How deep the page's elements nest, counted from its tags (close enough to name a cause)."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(page):
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _VOID_ELEMENTS:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _why_no_text(page: str) -> str:
    """The likely cause when trafilatura finds no text, for the error message ("" when none stands out)."""
    from trafilatura.settings import DEFAULT_CONFIG

    limit = int(DEFAULT_CONFIG["DEFAULT"].get("max_file_size", "0") or 0)
    if limit and len(page) > limit:
        return f": the page has {len(page):,} characters, more than the {limit:,} trafilatura reads"
    depth = _nesting_depth(page)
    if depth > HTML_MAX_DEPTH:
        return f": its elements nest {depth:,} deep, past the HTML parser's limit of {HTML_MAX_DEPTH}"
    return " (markup only?)"


def html_to_text(page: str, path: str = "<html>") -> str:
    """The main text of a web page, a line per block element.

    Uses trafilatura's extraction (main-content detection with its own
    readability and jusText fallbacks), which leaves out navigation, page
    furniture, sidebars, comments and scripts.

    Raises:
        InputError: no main text found (markup only, too deeply nested for
            the HTML parser, or larger than trafilatura accepts).

    >>> html_to_text("<html><body><nav>首页</nav><article><p>一、加强管理</p>…")  # doctest: +SKIP
    """
    import trafilatura

    try:
        text = trafilatura.extract(
            page,
            output_format="txt",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,  # repeated lines of a report are its own text
            with_metadata=False,
        )
    except Exception as exc:
        # trafilatura hands lxml's and its own failures through unwrapped.
        raise InputError(path, f"not a readable HTML page ({type(exc).__name__}: {exc})") from None
    if not text or not text.strip():
        raise InputError(path, "no main text found in the HTML page" + _why_no_text(page))
    return text if text.endswith("\n") else text + "\n"
