"""Nested .docx tables, and every encoding treated alike.

Encodings: UTF-8, GB18030 and UTF-16 (with or without a BOM), Chinese-heavy and
ASCII-heavy, clean or with a few damaged bytes, decode to the expected text
and encoding name (``…/replaced`` when damaged bytes became U+FFFD); files
damaged beyond the threshold are rejected naming the first bad byte in the
encoding they are closest to. Real UTF-8/GB18030 files and real binary data are
not taken for UTF-16.

Nested tables: text in tables nested in table cells (2-3 levels) comes out once each,
in document order, rendered like ordinary table rows, and parses into the
right sections.
"""

from __future__ import annotations

import codecs
import gzip
import io
import random
import re
import struct
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

import reportmine
from reportmine import parse_file, parse_text
from reportmine.errors import InputError
from reportmine.reading import decode_bytes, read_file

CORPUS = sorted(reportmine.sample_corpus().glob("*.txt"))
# Chinese-heavy: a real report (002: one report, 一、 over 1、), its first 3,000 characters.
CN = (reportmine.sample_corpus() / "002_79988078600ed0aa.txt").read_text("utf-8")[:3000]
# ASCII-heavy: a few Chinese characters among 2,000 ASCII ones.
ASCII = (
    "Annual work report 2016, People's Hospital (translated draft).\n"
    + "Outpatient visits: 12000; inpatient days: 3400; growth 5%.\n" * 30
    + "一、加强管理\n"
    + "Staff training was held every month, 24 sessions in all.\n" * 4
)
# The character whose bytes the damaged cases overwrite with 0xFF (two places for two damaged bytes).
CN_DAMAGED = (CN.index("领导"), CN.index("措施"))
ASCII_DAMAGED = (ASCII.index("加"), ASCII.index("管"))


def _encode(text: str, encoding: str) -> bytes:
    """``text`` as a file in ``encoding`` ("utf-16-le-bom": a BOM, then UTF-16-LE)."""
    boms = {"utf-8-sig": (codecs.BOM_UTF8, "utf-8"), "utf-16-le-bom": (codecs.BOM_UTF16_LE, "utf-16-le"),
            "utf-16-be-bom": (codecs.BOM_UTF16_BE, "utf-16-be")}
    bom, codec = boms.get(encoding, (b"", encoding))
    return bom + text.encode(codec)


def _overwrite(text: str, encoding: str, positions: tuple[int, ...], byte: int = 0xFF) -> bytes:
    """``text`` encoded, the bytes of the characters at ``positions`` each overwritten with ``byte``."""
    data = bytearray(_encode(text, encoding))
    start = len(_encode("", encoding))
    codec = encoding.replace("-bom", "").replace("-sig", "")
    for pos in positions:
        offset = start + len(text[:pos].encode(codec))
        width = len(text[pos].encode(codec))
        data[offset:offset + width] = bytes([byte]) * width
    return bytes(data)


def _lone_surrogates(text: str, encoding: str, positions: tuple[int, ...]) -> bytes:
    """``text`` in UTF-16, the characters at ``positions`` replaced by a lone high surrogate."""
    codec = encoding.replace("-bom", "")
    chars = list(text)
    for pos in positions:
        chars[pos] = "\ud800"
    return _encode("", encoding) + "".join(chars).encode(codec, "surrogatepass")


def _replaced(text: str, positions: tuple[int, ...], per_char: int = 1) -> str:
    chars = list(text)
    for pos in positions:
        chars[pos] = "\ufffd" * per_char
    return "".join(chars)


# (case id, the file's bytes, the text it must decode to, the encoding name it must report)
CASES: list[tuple[str, Callable[[], bytes], str, str]] = []
for _label, _text, _damaged in (("cn", CN, CN_DAMAGED), ("ascii", ASCII, ASCII_DAMAGED)):
    CASES += [
        (f"utf-8-{_label}", lambda t=_text: _encode(t, "utf-8"), _text, "utf-8"),
        (f"utf-8-sig-{_label}", lambda t=_text: _encode(t, "utf-8-sig"), _text, "utf-8-sig"),
        (f"gb18030-{_label}", lambda t=_text: _encode(t, "gb18030"), _text, "gb18030"),
        (f"utf-16-le-bom-{_label}", lambda t=_text: _encode(t, "utf-16-le-bom"), _text, "utf-16"),
        (f"utf-16-be-bom-{_label}", lambda t=_text: _encode(t, "utf-16-be-bom"), _text, "utf-16"),
        (f"utf-16-le-{_label}", lambda t=_text: _encode(t, "utf-16-le"), _text, "utf-16-le"),
        (f"utf-16-be-{_label}", lambda t=_text: _encode(t, "utf-16-be"), _text, "utf-16-be"),
        # A damaged Chinese character: each of its 3 UTF-8 bytes is a bad sequence of its own.
        (f"utf-8-damaged-{_label}", lambda t=_text, d=_damaged: _overwrite(t, "utf-8", d),
         _replaced(_text, _damaged, 3), "utf-8/replaced"),
        (f"utf-8-sig-damaged-{_label}", lambda t=_text, d=_damaged: _overwrite(t, "utf-8-sig", d),
         _replaced(_text, _damaged, 3), "utf-8-sig/replaced"),
        # In GB18030 one U+FFFD per damaged character, and the characters after it intact.
        (f"gb18030-damaged-{_label}", lambda t=_text, d=_damaged: _overwrite(t, "gb18030", d),
         _replaced(_text, _damaged), "gb18030/replaced"),
        (f"gb18030-one-damaged-byte-{_label}", lambda t=_text, d=_damaged[:1]: _overwrite(t, "gb18030", d),
         _replaced(_text, _damaged[:1]), "gb18030/replaced"),
        (f"utf-16-le-lone-surrogate-{_label}", lambda t=_text, d=_damaged: _lone_surrogates(t, "utf-16-le", d),
         _replaced(_text, _damaged), "utf-16-le/replaced"),
        (f"utf-16-be-lone-surrogate-{_label}", lambda t=_text, d=_damaged: _lone_surrogates(t, "utf-16-be", d),
         _replaced(_text, _damaged), "utf-16-be/replaced"),
        (f"utf-16-bom-lone-surrogate-{_label}",
         lambda t=_text, d=_damaged: _lone_surrogates(t, "utf-16-le-bom", d), _replaced(_text, _damaged),
         "utf-16/replaced"),
        (f"utf-16-le-odd-trailing-byte-{_label}", lambda t=_text: _encode(t, "utf-16-le") + b"\x0a",
         _text + "\ufffd", "utf-16-le/replaced"),
        (f"utf-16-be-odd-trailing-byte-{_label}", lambda t=_text: _encode(t, "utf-16-be") + b"\x00",
         _text + "\ufffd", "utf-16-be/replaced"),
    ]
# A GB18030 file whose first byte is damaged into 0xFF starts with 0xFF 0xFE, a UTF-16 BOM: not believed.
_FAKE_BOM = "二、完善制度\n" + CN
# Non-Chinese text keeps the encoding its BOM declares.
_RUSSIAN = "Отчёт о работе больницы за 2016 год.\n"
CASES += [
    ("gb18030-damaged-into-a-utf-16-bom", lambda: b"\xff" + _FAKE_BOM.encode("gb18030")[1:],
     "\ufffd" + _FAKE_BOM[1:], "gb18030/replaced"),
    ("utf-16-bom-not-chinese", lambda: _encode(_RUSSIAN, "utf-16-le-bom"), _RUSSIAN, "utf-16"),
    ("utf-8-bom-not-chinese", lambda: _encode(_RUSSIAN, "utf-8-sig"), _RUSSIAN, "utf-8-sig"),
]
# Text without a single ASCII character has no NUL byte in UTF-16: still told from GB18030 and UTF-8.
_NO_ASCII = "".join(ch for ch in CN if ord(ch) > 0x7F)
CASES += [
    ("utf-16-le-no-ascii", lambda: _NO_ASCII.encode("utf-16-le"), _NO_ASCII, "utf-16-le"),
    ("utf-16-be-no-ascii", lambda: _NO_ASCII.encode("utf-16-be"), _NO_ASCII, "utf-16-be"),
]


@pytest.mark.parametrize(("data", "text", "encoding"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_encodings_clean_and_damaged(tmp_path: Path, data: Callable[[], bytes], text: str, encoding: str) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(data())
    source = read_file(path)
    assert source.encoding == encoding
    assert source.text == text


def _many_damaged(text: str, encoding: str, count: int) -> tuple[bytes, int]:
    """``text`` with ``count`` Chinese characters overwritten with 0xFF; also the first damaged byte's offset."""
    positions = tuple(i for i, ch in enumerate(text) if ord(ch) > 0x7F)[10::7][:count]
    codec = encoding.replace("-bom", "").replace("-sig", "")
    first = len(_encode("", encoding)) + len(text[:positions[0]].encode(codec))
    return _overwrite(text, encoding, positions), first


def _surrogates_at(text: str, encoding: str, count: int) -> tuple[bytes, int]:
    positions = tuple(range(100, 100 + 3 * count, 3))
    codec = encoding.replace("-bom", "")
    return _lone_surrogates(text, encoding, positions), len(_encode("", encoding)) + len(text[:100].encode(codec))


# (case id, (bytes, offset of the first bad byte), the message's beginning, with "{offset}" for that offset)
REJECTED: list[tuple[str, Callable[[], tuple[bytes, int]], str]] = [
    ("gb18030-too-damaged", lambda: _many_damaged(CN, "gb18030", 20), "not valid GB18030 at byte {offset}: 20 "),
    ("utf-8-too-damaged", lambda: _many_damaged(CN, "utf-8", 40), "not valid UTF-8 at byte {offset}: 120 "),
    ("utf-8-bom-too-damaged", lambda: _many_damaged(CN, "utf-8-sig", 40),
     "has a UTF-8 BOM but is not valid UTF-8 at byte {offset}: 120 "),
    ("utf-16-le-too-damaged", lambda: _surrogates_at(CN, "utf-16-le", 40),
     "reads as UTF-16 without a BOM but is not valid UTF-16-LE at byte {offset}: 40 "),
    ("utf-16-bom-too-damaged", lambda: _surrogates_at(CN, "utf-16-be-bom", 40),
     "has a UTF-16 BOM but is not valid UTF-16-BE at byte {offset}: 40 "),
    ("gb18030-ascii-heavy-too-damaged", lambda: _many_damaged(ASCII + CN[:300], "gb18030", 20),
     "not valid GB18030 at byte {offset}: 20 "),
    ("garbage", lambda: (bytes([0x80, 0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 50, 0),
     "cannot tell its encoding: not UTF-8, GB18030 or UTF-16 text (closest: not valid UTF-8 at byte {offset},"),
    ("binary", lambda: (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, 0),
     "binary data, not text (NUL bytes)"),
    ("utf-8-with-nul-bytes", lambda: (CN.encode()[:2000] + b"\x00" * 16 + CN.encode()[2000:], 0),
     "binary data, not text (NUL bytes)"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_rejected_files_name_the_first_bad_byte(data: Callable[[], tuple[bytes, int]], message: str) -> None:
    content, offset = data()
    with pytest.raises(InputError) as info:
        decode_bytes(content, "bad.txt")
    assert str(info.value).startswith("bad.txt: " + message.format(offset=offset)), str(info.value)


def test_the_named_offset_is_the_first_bad_byte_of_that_encoding() -> None:
    data, offset = _many_damaged(CN, "gb18030", 20)
    data[:offset].decode("gb18030")  # clean up to there
    with pytest.raises(UnicodeDecodeError) as as_utf8:
        data.decode("utf-8")
    assert as_utf8.value.start != offset
    with pytest.raises(InputError) as info:
        decode_bytes(data, "bad.txt")
    assert f"at byte {offset}:" in str(info.value)
    assert not re.search(rf"byte {as_utf8.value.start}\b", str(info.value)) and "UTF-8" not in str(info.value)


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_real_files_are_not_taken_for_utf16(path: Path, encoding: str) -> None:
    text = path.read_text("utf-8")
    assert decode_bytes(text.encode(encoding)) == (text, encoding)


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("医院工作总结")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


BINARY: list[tuple[str, Callable[[], bytes]]] = [
    ("random", lambda: random.Random(11).randbytes(5000)),
    ("int16-little-endian", lambda: struct.pack("<2000h", *range(2000))),
    ("int16-big-endian", lambda: struct.pack(">2000h", *range(2000))),
    ("gzip-of-a-report", lambda: gzip.compress(CN.encode("utf-16-le"), mtime=0)),
    ("docx-package", _docx_bytes),
]


@pytest.mark.parametrize("data", [c[1] for c in BINARY], ids=[c[0] for c in BINARY])
def test_binary_data_is_not_taken_for_utf16(data: Callable[[], bytes]) -> None:
    with pytest.raises(InputError, match=r"binary data|cannot tell its encoding"):
        decode_bytes(data(), "data.txt")


# --------------------------------------------------------------------- docx: nested tables


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _nested_report(depth: int) -> tuple[bytes, list[str], str]:
    """A report whose 内科 section lives in a table nested ``depth`` levels deep.

    Returns the .docx bytes, every piece of text in document order, and the
    plain text the document must render to.
    """
    document = docx.Document()
    pieces: list[str] = []

    def para(container, text: str) -> None:
        container.add_paragraph(text)
        pieces.append(text)

    def cell_text(cell, text: str) -> None:
        cell.text = text
        pieces.append(text)

    para(document, "2016年医院工作总结")
    para(document, "一、门诊工作")
    para(document, "门诊量稳步增长。")
    outer = document.add_table(rows=2, cols=2)
    cell_text(outer.cell(0, 0), "科室")
    cell_text(outer.cell(0, 1), "说明")
    cell = outer.cell(1, 0)
    cell_text(cell, "1、内科")
    lines = ["2016年医院工作总结", "一、门诊工作", "门诊量稳步增长。", "科室\t说明", "1、内科"]
    for level in range(1, depth + 1):
        inner = cell.add_table(rows=2, cols=2)
        cell_text(inner.cell(0, 0), f"第{level}层左上")
        cell_text(inner.cell(0, 1), f"第{level}层右上")
        cell_text(inner.cell(1, 0), f"（{level}）第{level}层病区")
        lines.append(f"第{level}层左上\t第{level}层右上")
        cell = inner.cell(1, 1)
        if level < depth:
            cell_text(cell, f"第{level}层表前")
            lines.append(f"（{level}）第{level}层病区\t第{level}层表前")
        else:
            cell_text(cell, f"第{level}层最深")
            lines.append(f"（{level}）第{level}层病区\t第{level}层最深")
    # After each nested table its cell goes on with the empty paragraph Word requires there: no line.
    outer_cell = outer.cell(1, 0)
    para(outer_cell, "内科小结：运行平稳。")
    cell_text(outer.cell(1, 1), "右侧单元格")
    lines.append("内科小结：运行平稳。\t右侧单元格")
    para(document, "2、外科")
    para(document, "外科手术量增加。")
    para(document, "二、存在问题")
    para(document, "人员不足。")
    lines += ["2、外科", "外科手术量增加。", "二、存在问题", "人员不足。"]
    return _save(document), pieces, "\n".join(lines) + "\n"


def _in_order_once(text: str, pieces: list[str]) -> None:
    at = 0
    for piece in pieces:
        assert text.count(piece) == 1, f"{piece!r} occurs {text.count(piece)} times"
        found = text.index(piece)
        assert found >= at, f"{piece!r} out of document order"
        at = found + len(piece)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_nested_tables_keep_their_text_once_in_order(tmp_path: Path, depth: int) -> None:
    data, pieces, expected = _nested_report(depth)
    path = tmp_path / "report.docx"
    path.write_bytes(data)
    text = read_file(path).text
    _in_order_once(text, pieces)
    assert text == expected
    # The sections are those of the same text as a plain-text file.
    parsed = parse_file(path)
    plain = parse_text(expected)
    got = [(s.level, s.marker, s.title) for d in parsed.documents for s in d.sections]
    assert got == [(s.level, s.marker, s.title) for d in plain.documents for s in d.sections]
    titles = [(level, title) for level, _, title in got]
    assert (1, "门诊工作") in titles and (2, "内科") in titles and (2, "外科") in titles
    assert (1, "存在问题") in titles


def test_nested_table_between_paragraphs_of_a_cell_and_beside_other_cells(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("一、设备管理")
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).text = "左格"
    middle = table.cell(0, 1)
    middle.text = "中格前段"
    middle.add_paragraph("中格第二段")
    nested = middle.add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "1、CT机"
    nested.cell(0, 1).text = "运行良好"
    middle.add_paragraph("中格后段")
    table.cell(0, 2).text = "右格"
    document.add_paragraph("二、人员培训")
    path = tmp_path / "r.docx"
    path.write_bytes(_save(document))
    # The row's line ends before the nested table and goes on after it; the cell's
    # paragraphs are joined by spaces as in any cell, its cells by tabs.
    assert read_file(path).text == (
        "一、设备管理\n左格\t中格前段 中格第二段\n1、CT机\t运行良好\n中格后段\t右格\n二、人员培训\n"
    )


def test_nested_table_in_a_vertically_merged_cell_comes_out_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    merged = table.cell(0, 0).merge(table.cell(1, 0))
    merged.text = "内科"
    nested = merged.add_table(rows=1, cols=1)
    nested.cell(0, 0).text = "嵌套内容"
    table.cell(0, 1).text = "门诊"
    table.cell(1, 1).text = "住院"
    path = tmp_path / "r.docx"
    path.write_bytes(_save(document))
    text = read_file(path).text
    assert text.count("嵌套内容") == 1
    # The merged cell's own text repeats on each row it spans, as for any merged cell.
    assert text == "内科\n嵌套内容\n\t门诊\n内科\t住院\n"


def test_text_in_a_content_control_inside_a_cell_is_kept(tmp_path: Path) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "填报单位"
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>人民医院</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    tc = table.cell(0, 1)._tc
    tc.insert(tc.index(tc.p_lst[0]), sdt)
    path = tmp_path / "r.docx"
    path.write_bytes(_save(document))
    assert read_file(path).text == "填报单位\t人民医院\n"


def test_flat_tables_render_as_before(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("科室", "", "增长"), ("", "12000", "")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    assert merged.text.strip() == "科室"
    path = tmp_path / "r.docx"
    path.write_bytes(_save(document))
    assert read_file(path).text == "科室\t增长\n\t12000\t\n"
