"""Fuzz: UTF-16 without a BOM, damaged GB18030, nested docx tables.

* Random Chinese report text in UTF-16 LE or BE without a BOM reads back exactly.
* Random report text in GB18030 with 1-2 bytes overwritten (0xFF: never valid
  in GB18030) is read, not rejected, as ``gb18030/replaced``, and every
  character whose bytes were not touched survives, in order. GB18030 cannot
  resynchronise by itself: a byte below 0x30 (newline, space, ASCII
  punctuation) is the only sure boundary, so when both damaged bytes fall
  between the same two such bytes, only the text outside that stretch is
  required to survive.
* Tables nested in table cells to a random depth keep every piece of text,
  once, in document order.
"""

from __future__ import annotations

import io
import re

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportmine
from reportmine.readers import docx_to_text
from reportmine.reading import decode_bytes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

# Report characters with their real frequencies: every character of the sample corpus but ASCII controls.
_CORPUS_TEXT = "".join(p.read_text("utf-8") for p in sorted(reportmine.sample_corpus().glob("*.txt")))
REPORT_CHARS = sorted({ch for ch in _CORPUS_TEXT if ch.isprintable() and ch != "\ufeff"})
MARKERS = ["一、", "二、", "（一）", "（二）", "1、", "2.", "（1）", "①", "第一，", ""]

report_line = st.builds(
    lambda marker, body: marker + body,
    st.sampled_from(MARKERS),
    st.text(alphabet=st.sampled_from(REPORT_CHARS), min_size=2, max_size=60),
)
report_text = st.lists(report_line, min_size=2, max_size=40).map(lambda lines: "\n".join(lines) + "\n")


@settings(max_examples=30, deadline=None)
@given(text=report_text, codec=st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_utf16_without_bom_round_trips(text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec), "r.txt") == (text, codec)


# At least 400 characters, so that a few damaged places are within the threshold (1% of a short file).
long_report_text = st.lists(
    st.builds(lambda marker, body: marker + body, st.sampled_from(MARKERS),
              st.text(alphabet=st.sampled_from(REPORT_CHARS), min_size=20, max_size=60)),
    min_size=20, max_size=40,
).map(lambda lines: "\n".join(lines) + "\n")


@settings(max_examples=30, deadline=None)
@given(text=long_report_text, data=st.data())
def test_damaged_gb18030_is_read_and_undamaged_text_survives(text: str, data: st.DataObject) -> None:
    encoded = [ch.encode("gb18030") for ch in text]
    raw = bytearray(b"".join(encoded))
    positions = data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=2, unique=True))
    for pos in positions:
        raw[pos] = 0xFF
    decoded, encoding = decode_bytes(bytes(raw), "r.txt")
    assert encoding == "gb18030/replaced"

    # Each character's byte span, and the stretch between sure boundaries (bytes < 0x30) it lies in.
    starts, at = [], 0
    for chunk in encoded:
        starts.append(at)
        at += len(chunk)
    stretch, current = [], 0
    for start in starts:
        stretch.append(current)
        if raw[start] < 0x30:
            current += 1
    damaged = {i for i, (start, chunk) in enumerate(zip(starts, encoded, strict=True))
               if any(start <= pos < start + len(chunk) for pos in positions)}
    damaged_stretches = [stretch[i] for i in damaged]
    shared = {s for s in damaged_stretches if damaged_stretches.count(s) > 1}
    # The expected text: undamaged characters as they are, a damaged one as up to 4 characters
    # (U+FFFD and what is left of it), a stretch holding both damaged bytes as anything.
    pattern = []
    for i, ch in enumerate(text):
        if stretch[i] in shared and raw[starts[i]] >= 0x30:
            if not pattern or pattern[-1] != ".*?":
                pattern.append(".*?")
        elif i in damaged:
            pattern.append(".{0,4}")
        else:
            pattern.append(re.escape(ch))
    assert re.fullmatch("".join(pattern), decoded, re.DOTALL), (text, positions, decoded)
    assert "\ufffd" in decoded


@st.composite
def cell_contents(draw: st.DrawFn, depth: int) -> list:
    """A cell's content: paragraphs ("p") and, while ``depth`` lasts, nested tables (lists of rows of cells)."""
    items: list = ["p"]
    for _ in range(draw(st.integers(0, 2))):
        if depth > 0 and draw(st.booleans()):
            rows, cols = draw(st.integers(1, 2)), draw(st.integers(1, 3))
            items.append([[draw(cell_contents(depth - 1)) for _ in range(cols)] for _ in range(rows)])
        items.append("p")
    return items


def _build(document, spec: list, container, pieces: list[str]) -> None:
    """Fill ``container`` (the document or a cell) from ``spec``, recording each paragraph's text in order."""
    first = container is not document
    for item in spec:
        if item == "p":
            text = f"〔第{len(pieces)}段〕医院工作"
            if first:
                container.paragraphs[0].text = text  # a new cell holds one empty paragraph
                first = False
            else:
                container.add_paragraph(text)
            pieces.append(text)
        else:
            first = False
            rows, cols = len(item), len(item[0])
            table = document.add_table(rows, cols) if container is document else container.add_table(rows, cols)
            for r, row in enumerate(item):
                for c, cell_spec in enumerate(row):
                    _build(document, cell_spec, table.cell(r, c), pieces)


@settings(max_examples=30, deadline=None)
@given(spec=st.integers(1, 4).flatmap(lambda depth: cell_contents(depth)))
def test_nested_docx_tables_keep_all_text(spec: list) -> None:
    document = docx.Document()
    pieces: list[str] = []
    # The random cell sits in a table between paragraphs, beside another cell.
    _build(document, ["p", [[spec, ["p"]]], "p"], document, pieces)
    buffer = io.BytesIO()
    document.save(buffer)
    text = docx_to_text(buffer.getvalue(), "nested.docx")
    at = 0
    for piece in pieces:
        assert text.count(piece) == 1, (piece, text)
        found = text.index(piece)
        assert found >= at, (piece, text)
        at = found + len(piece)
