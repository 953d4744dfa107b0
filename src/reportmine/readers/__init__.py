"""Stage 1, reading (formats): .docx and .html files -> the text the parser sees.

In: the bytes of a Word document, or the decoded text of a web page. Out: plain
report text, one line per paragraph, which :mod:`reportmine.reading` wraps in
a :class:`~reportmine.model.SourceText`. For these formats that rendered text
*is* the source: every offset and line number of the parse points into it,
not into the XML or HTML the file holds.

* ``.docx`` (python-docx), :mod:`reportmine.readers.docx`: one line per
  paragraph or table row, Word's automatic numbering and heading markers
  rendered into the lines.
* ``.html`` (trafilatura), :mod:`reportmine.readers.html`: the page's main
  text, navigation, headers, footers, sidebars and scripts left out, a line
  per block element.

A file these libraries cannot read raises :class:`~reportmine.errors.InputError`
naming the file and the reason. The libraries load only when a file is read.
"""

from __future__ import annotations

from .docx import DOCX_SUFFIXES, docx_to_text, format_number
from .html import HTML_MAX_DEPTH, HTML_SUFFIXES, html_to_text

__all__ = ["DOCX_SUFFIXES", "HTML_MAX_DEPTH", "HTML_SUFFIXES", "docx_to_text", "format_number", "html_to_text"]
