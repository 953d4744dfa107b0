"""Reading files: encodings, newlines, and clear errors for bad input."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from reportmine import InputError, read_file
from reportmine.inputs import iter_input_paths

TEXT = "连州市卫生系统创建平安医院2016年工作总结\r\n一、“平安医院”建设工作情况\n\n  1、领导重视,措施有力。\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (("Report 2016\n" * 3 + TEXT).encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_encodings_decode_to_the_same_text(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    source = read_file(path)
    assert source.encoding == encoding
    assert source.text.endswith(TEXT)
    assert not source.text.startswith("\ufeff")


def test_lines_split_on_newline_only(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    source = read_file(path)
    assert source.line_count == len(TEXT.split("\n"))
    for number, line in enumerate(TEXT.split("\n"), start=1):
        assert source.line_text(number) == line
        start, _ = source.line_span(number)
        assert source.line_of(start) == number
    assert source.line_text(1).endswith("\r")  # a CR stays: offsets match the file


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n\t", "only white space"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)) * 4, "binary"),
        (b"PK\x03\x04" + bytes(200) + b"word/document.xml", "binary"),
        (bytes([0x80, 0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 50, "cannot tell its encoding"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_file(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)
    assert info.value.path == str(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_file(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_file(tmp_path)


def test_directory_expansion_is_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "c.html", ".hidden.txt", "notes.csv"):
        (tmp_path / name).write_text("x", "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.txt").write_text("x", "utf-8")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_input_paths([tmp_path])]
    assert names == ["a.md", "b.txt", "c.html", "sub/d.txt"]
