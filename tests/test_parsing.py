"""The whole structural parse on the sample corpus: dev gold, provenance, regressions."""

from __future__ import annotations

import pytest

import reportmine
from conftest import DEV_FILES, load_gold


@pytest.mark.parametrize("stem", DEV_FILES)
def test_dev_gold_documents(parsed_corpus: dict, stem: str) -> None:
    gold = load_gold(stem)
    parsed = parsed_corpus[stem]
    got = [(d.title, d.title_line, d.start_line, d.end_line, d.kind, list(d.meta_lines)) for d in parsed.documents]
    want = [(d["title"], d["title_line"], d["start_line"], d["end_line"], d["kind"], d["meta_lines"])
            for d in gold["documents"]]
    assert got == want
    assert list(parsed.noise_lines) == gold["noise_lines"]
    assert list(parsed.page_meta_lines) == gold["page_meta_lines"]


@pytest.mark.parametrize("stem", DEV_FILES)
def test_dev_gold_sections(parsed_corpus: dict, stem: str) -> None:
    gold = load_gold(stem)
    parsed = parsed_corpus[stem]
    for doc, gold_doc in zip(parsed.documents, gold["documents"], strict=True):
        got = [(s.line, s.marker, s.level, s.title, s.inline_body) for s in doc.sections]
        want = [(s["line"], s["marker"], s["level"], s["title"], s["inline_body"]) for s in gold_doc["sections"]]
        assert got == want


def test_every_offset_round_trips(parsed_corpus: dict) -> None:
    for parsed in parsed_corpus.values():
        text = parsed.text
        source = parsed.source
        for doc in parsed.documents:
            assert doc.text == text[doc.start:doc.end]
            assert source.line_of(doc.start) == doc.start_line
            assert source.line_of(doc.end) == doc.end_line
            for s in doc.sections:
                assert text[s.start:s.start + len(s.marker)] == s.marker
                assert text[s.title_start:s.title_end] == s.title
                assert source.line_of(s.start) == s.line
                assert source.line_of(s.end) == s.end_line
                assert doc.start <= s.start <= s.title_end <= s.end <= doc.end
                assert s.start <= s.body_start <= s.body_end <= s.end
                if s.parent is not None:
                    parent = doc.sections[s.parent]
                    assert parent.level == s.level - 1 and parent.start < s.start and s.end <= parent.end
                    assert s.index in parent.children


def test_roles_account_for_every_line(parsed_corpus: dict) -> None:
    for parsed in parsed_corpus.values():
        assert len(parsed.line_roles) == parsed.source.line_count
        in_docs = {n for d in parsed.documents for n in range(d.start_line, d.end_line + 1)}
        assert not in_docs & set(parsed.page_meta_lines)
        for n in parsed.noise_lines:
            assert parsed.line_roles[n - 1] == "noise"
        for n, role in enumerate(parsed.line_roles, start=1):
            if role in ("content", "title", "meta"):
                assert n in in_docs or n in parsed.page_meta_lines, (parsed.path, n, role)


# Regressions on the corpus files without dev gold: what a reader sees in them.
def test_001_compilation_of_mixed_reports(parsed_corpus: dict) -> None:
    parsed = parsed_corpus["001_99abfcc57646a80c"]
    assert {1, 3, 5, 7, 177, 179, 181, 183} <= set(parsed.noise_lines)
    starts = [d.start_line for d in parsed.documents]
    assert starts[:1] == [9] and 125 in starts and 141 in starts and 161 in starts and 185 in starts
    by_start = {d.start_line: d for d in parsed.documents}
    # one person's 试用期 work summary is a summary (GUIDE.md "Document fields")
    assert by_start[125].kind == "summary" and by_start[185].kind == "summary"
    assert by_start[31].kind == "summary"  # a department report under a mis-scraped personal title
    # the "people also read" list (``1.医生试用期…``) makes no sections
    assert all(s.line not in (179, 181, 183) for d in parsed.documents for s in d.sections)
    # ``四、20xx年…`` and ``一、20xx年…``: a numeral right after the marker
    lines = {s.line: s for d in parsed.documents for s in d.sections}
    assert lines[63].marker == "四、" and lines[71].marker == "一、"
    assert [lines[n].level for n in (99, 101, 103, 105)] == [2, 3, 3, 4]


def test_003_markdown_compilation(parsed_corpus: dict) -> None:
    parsed = parsed_corpus["003_09f1d77eabb805aa"]
    assert [d.start_line for d in parsed.documents] == [5, 49, 95, 107, 126, 167]
    assert parsed.noise_lines == (1, 3)
    lines = {s.line: s for d in parsed.documents for s in d.sections}
    assert lines[136].marker == "六" and lines[136].level == 1
    assert lines[63].marker == "1、" and lines[63].level == 2 and lines[63].title == "举办健康教育讲座"


def test_004_eighteen_plans(parsed_corpus: dict) -> None:
    parsed = parsed_corpus["004_f019b48c5d7a7d53"]
    docs = parsed.documents
    assert len(docs) == 18 and all(d.title.startswith("二级医院工作计划篇") for d in docs)
    assert set(parsed.page_meta_lines) == {3, 5}
    assert {1, 4, 7, 675, 677, 679} <= set(parsed.noise_lines)
    assert docs[14].meta_lines == (499, 501) and docs[17].meta_lines == (671, 673)
    lines = {s.line: s for d in docs for s in d.sections}
    assert [lines[n].marker for n in (283, 285, 287)] == ["1", "2", "3"]
    assert lines[249].marker == "4;" and lines[233].marker == "1:"
    assert lines[449].marker == "2)" and lines[449].level == 2


def test_parse_text_matches_parse_file(parsed_corpus: dict) -> None:
    path = reportmine.sample_corpus() / "002_79988078600ed0aa.txt"
    from_text = reportmine.parse_text(path.read_text("utf-8"), path=str(path))
    assert from_text.to_dict() | {"encoding": None} == parsed_corpus["002_79988078600ed0aa"].to_dict() | {
        "encoding": None}
