"""Invariants for any input (hypothesis): parsing never raises and every offset round-trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportmine import parse_text
from reportmine.markers import match_marker

# Pieces that exercise markers, titles, noise and metadata far more often than random text.
PIECES = st.sampled_from([
    "一、", "二、", "十二、", "（一）", "(二)、", "1、", "2.", "3:", "4;", "（1）", "1)", "①", "第一，", "第一章",
    "第二条", "- ", "## ", "#", "\u2003", "\u3000", " ", "\t", "\r", "\n", "\n\n", "。", "：", ":", "；", "，",
    "加强管理", "医院工作总结", "工作计划篇三", "范文第2篇", "来源:", "发布时间:2017-01-11", "头部", "footer底部",
    "...", "2016年12月2日", "连州市卫生局", "5、7月份", "2型", "5.12", "一年来", "(18篇)", "看了“总结”的人还看了",
    "首页 > 文章", "六开展", "1省", "\ufeff", "\x00", "（", "）", "(", ")",
])
REPORTISH = st.lists(PIECES | st.text(max_size=5), max_size=80).map("".join)


def check_invariants(text: str) -> None:
    parsed = parse_text(text)
    source = parsed.source
    assert len(parsed.line_roles) == source.line_count
    previous_end = -1
    for doc in parsed.documents:
        assert doc.start_line <= doc.end_line
        assert doc.text == source.text[doc.start:doc.end]
        assert doc.start >= previous_end
        previous_end = doc.end
        for section in doc.sections:
            assert source.text[section.title_start:section.title_end] == section.title
            assert source.text[section.start:section.end] == section.text
            assert section.start <= section.title_start <= section.title_end <= section.end
            assert section.body_start <= section.body_end
            assert section.level >= 1
            if section.parent is not None:
                assert doc.sections[section.parent].level == section.level - 1
    for line in parsed.noise_lines:
        assert 1 <= line <= source.line_count


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPORTISH)
def test_reportish_text(text: str) -> None:
    check_invariants(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text(text: str) -> None:
    check_invariants(text)


@given(st.text(max_size=80))
def test_match_marker_columns(line: str) -> None:
    match = match_marker(line)
    if match is not None:
        assert line[match.marker_col:match.end_col] == match.marker
        assert match.number is not None and match.number >= 0
