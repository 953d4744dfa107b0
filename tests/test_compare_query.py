"""The rules the comparison and the report share (reportmine.store.query): one answer in Python and in SQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from reportmine.compare import compare
from reportmine.store.query import (
    PRIMARY_THEMES_SQL,
    TableSource,
    clean_sql,
    clean_text,
    document_group,
    group_sql,
    section_theme_sql,
)
from reportmine.store.schemas import SCHEMAS

#: Every character Python's str.strip() removes.
WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
#: Values of a text column that trimming rules disagree on.
TRICKY = [None, "", " ", " \t", "\t", "\u3000", "甲医院", "  甲医院 ", "\t甲医院\n", "甲 医院", "a\nb", "\u00a0x\u2029"]


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SCHEMAS[name]))


def test_clean_sql_is_clean_text_for_every_whitespace_character() -> None:
    values = [*TRICKY, *(f"{w}x{w}" for w in WHITESPACE), *(w * 3 for w in WHITESPACE), "x\u200by"]
    with TableSource({}) as source:
        source.con.execute("CREATE TABLE v (i INTEGER, t VARCHAR)")
        source.con.executemany("INSERT INTO v VALUES (?, ?)", list(enumerate(values)))
        got = dict(source.rows(f"SELECT i, {clean_sql('t')} FROM v"))
    assert [got[i] for i in range(len(values))] == [clean_text(v) for v in values]
    assert clean_text("x\u200by") == "x\u200by"  # a zero-width space is not whitespace: kept by both


def test_group_sql_is_document_group() -> None:
    rows = [{"doc_id": doc_id, "file": file, "hospital": hospital, "hospital_source": "manifest"}
            for doc_id in ("a.txt#0", " \tdir/b.txt#1 ", "c#d#2", "nohash")
            for file in (None, "", " \t", "\tdir/a.txt", "dir/a.txt ")
            for hospital in TRICKY]
    frame = pd.DataFrame(rows)
    with TableSource({}) as source:
        source.con.register("documents_input", frame)
        for group_by in ("hospital", "file"):
            found = source.rows(f"SELECT {group_sql(group_by, 'd')} FROM documents_input d")
            want = [document_group(row, group_by) for row in rows]
            assert [g for (g,) in found] == [w.group for w in want], group_by
    # The Python rule itself, on the values that used to differ between Python and SQL.
    assert document_group({"doc_id": "a#0", "file": "a", "hospital": " \t"}) == ("a#0", "a", "a", "file")
    assert document_group({"doc_id": "a#0", "file": " \t", "hospital": " 甲 "}, "hospital") == (
        "a#0", "a", "甲", "hospital")
    assert document_group({"doc_id": "\u3000", "file": "a"}) is None


def test_primary_theme_rule() -> None:
    themes = _frame("section_themes", [
        {"section_id": "s1", "theme": "b", "rank": 2, "is_primary": False},
        {"section_id": "s1", "theme": "a", "rank": 3, "is_primary": False},
        {"section_id": "s2", "theme": "z", "rank": None, "is_primary": True},     # no rank, primary: 1
        {"section_id": "s2", "theme": "y", "rank": None, "is_primary": False},    # no rank: 1,000,000
        {"section_id": "s3", "theme": "d", "rank": 1, "is_primary": True},
        {"section_id": "s3", "theme": "c", "rank": 1, "is_primary": False},       # a tie: by theme
        {"section_id": " s4\t", "theme": " \t", "rank": 1, "is_primary": True},   # no theme: not a row
    ])
    sections = _frame("sections", [
        {"section_id": sid, "doc_id": "d#0", "primary_theme": primary}
        for sid, primary in (("s1", "x"), ("s2", None), ("s3", "x"), ("s4", " w "), ("s5", "\t"))])
    with TableSource({"section_themes": themes, "sections": sections}) as source:
        found = dict(source.rows(
            f"SELECT s.section_id, {section_theme_sql('p', 's')} FROM sections s "
            f"LEFT JOIN ({PRIMARY_THEMES_SQL}) p ON p.section_id = {clean_sql('s.section_id')}"))
    assert found == {"s1": "b", "s2": "z", "s3": "c", "s4": "w", "s5": "other"}


def test_a_document_whose_id_starts_with_a_tab_is_counted() -> None:
    # Its id is cleaned the same way in the documents (Python) and in the sections (SQL): its sections count.
    documents = _frame("documents", [{"doc_id": "\tt.txt#0", "file": "\tt.txt", "hospital": " \t"},
                                     {"doc_id": "u.txt#0", "file": "u.txt", "hospital": "乙医院"}])
    sections = _frame("sections", [
        {"section_id": "\tt.txt#0@L1", "doc_id": "\tt.txt#0", "line": 1, "title": "护理查房", "primary_theme": "n"},
        {"section_id": "u.txt#0@L1", "doc_id": "u.txt#0", "line": 1, "title": "院感", "primary_theme": "i"}])
    result = compare({"documents": documents, "sections": sections}, keywords=["护理查房"])
    assert list(result.documents.group) == ["t.txt", "乙医院"]
    profiles = {(r.group, r.theme): r.sections for r in result.theme_profiles.itertuples()}
    assert profiles == {("t.txt", "n"): 1, ("乙医院", "i"): 1}


def test_table_source_closes_on_leaving_with(tmp_path: Path) -> None:
    with TableSource({}) as source:
        spill = Path(source._spill)
        assert spill.is_dir()
        assert source.rows("SELECT count(*) FROM sections") == [(0,)]
    assert not spill.exists()
    with pytest.raises(Exception):  # noqa: B017 - duckdb's own "connection closed" error
        source.rows("SELECT 1")
