"""Pathological input: huge lines, many markers, nested brackets. Correct parse, no hang.

Nothing here is timed (speed is measured in benchmarks/); these inputs would
take minutes or hours with a quadratic pass, so finishing at all is the check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportmine import parse_text
from reportmine.cli import app


@pytest.mark.slow
def test_twenty_megabyte_single_line() -> None:
    text = "一、加强管理。" + "医院工作" * 5_000_000
    parsed = parse_text(text)
    [doc] = parsed.documents
    [section] = doc.sections
    assert section.title == "加强管理" and section.inline_body
    assert section.end == len(text)


@pytest.mark.slow
def test_ten_thousand_nested_markers() -> None:
    lines = []
    for i in range(10_000):
        family = i % 4
        lines.append(["一、", "（一）", "1、", "（1）"][family] + f"第{i}项")
    parsed = parse_text("\n".join(lines))
    sections = parsed.documents[0].sections
    assert len(sections) == 10_000
    assert [s.level for s in sections[:8]] == [1, 2, 3, 4, 1, 2, 3, 4]


def test_deeply_nested_brackets_are_not_markers() -> None:
    text = "（" * 10_000 + "1" + "）" * 10_000 + "\n" + "(" * 5_000 + "一)\n"
    parsed = parse_text(text)
    assert all(not d.sections for d in parsed.documents)


@pytest.mark.slow
def test_hundred_thousand_candidate_markers() -> None:
    # Every line needs the numbering context to decide: linear, not quadratic.
    parsed = parse_text("\n".join("5、7月份检查" for _ in range(100_000)))
    assert sum(len(d.sections) for d in parsed.documents) == 0


@pytest.mark.slow
def test_many_titles_and_teasers() -> None:
    text = "\n".join(f"医院工作总结篇{'一二三'[i % 3]}\n一、内容{i}\n" + "医院工作" * 5 + "..." for i in range(20_000))
    parsed = parse_text(text)
    assert len(parsed.documents) == 20_000


def test_bad_files_in_a_run(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("2016年工作总结\n一、加强管理\n", "utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin.txt").write_bytes(bytes([0x80, 0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 50)
    result = CliRunner().invoke(app, ["parse", str(tmp_path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1 and "good.txt" in result.stdout
    for name, reason in [("binary.txt", "binary"), ("empty.txt", "empty"), ("latin.txt", "encoding")]:
        assert name in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
