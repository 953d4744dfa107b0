"""Stage 10, report: tables and comparisons -> one self-contained HTML page.

:func:`render_report` builds the page (:mod:`.page`) from the facts of the
tables (:mod:`.data`), drawing its charts as inline SVG (:mod:`.svg`); every
bar, cell and node links to an appendix block (:mod:`.anchors`,
:mod:`.appendix`). :func:`write_report` writes it to ``OUT/report.html``.
"""

from __future__ import annotations

from .page import FONT_STACK, render_report, write_report

__all__ = ["FONT_STACK", "render_report", "write_report"]
