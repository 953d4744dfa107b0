"""Tidy tables: schemas, values with provenance, files written atomically and deterministically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import reportmine
from _outputs import leftovers
from reportmine.pipeline import run_files
from reportmine.settings import Settings
from reportmine.store.files import write_tables
from reportmine.store.rows import build_tables
from reportmine.store.schemas import SCHEMAS

PARSE_ONLY = Settings(stages=("parse",))


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    corpus = sorted(reportmine.sample_corpus().glob("*.txt"))
    results = list(run_files([*corpus, "missing.txt"], PARSE_ONLY))
    return build_tables(results)


def test_every_table_has_its_schema(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables) == list(SCHEMAS)
    for name, frame in tables.items():
        assert list(frame.columns) == list(SCHEMAS[name]), name


def test_files_is_the_manifest(tables: dict[str, pd.DataFrame]) -> None:
    files = tables["files"]
    assert len(files) == 6
    failed = files[files.status == "failed"]
    assert list(failed.file) == ["missing.txt"] and "no such file" in failed.error.iloc[0]
    ok = files[files.status == "ok"].set_index("file")
    assert ok.loc["002_79988078600ed0aa.txt", "documents"] == 1
    assert ok.loc["004_f019b48c5d7a7d53.txt", "documents"] == 18
    assert ok["sections"].sum() == len(tables["sections"])


def test_document_and_section_rows_carry_provenance(tables: dict[str, pd.DataFrame]) -> None:
    text = (reportmine.sample_corpus() / "002_79988078600ed0aa.txt").read_text("utf-8")
    doc = tables["documents"].set_index("doc_id").loc["002_79988078600ed0aa.txt#0"]
    assert (doc.kind, doc.start_line, doc.end_line, doc.hospital, doc.year) == ("summary", 3, 34, "连州市卫生和计划生育局", 2016)
    assert (doc.hospital_source, doc.year_source, doc.meta_lines) == ("signature", "title", "6;32;34")
    sections = tables["sections"].set_index("section_id")
    row = sections.loc["002_79988078600ed0aa.txt#0@L12"]
    assert (row.outline, row.level, row.parent_id, row.title) == ("一/1", 2, "002_79988078600ed0aa.txt#0@L10", "领导重视,措施有力")
    assert text[row.start:row.end].startswith("1、领导重视,措施有力。")
    assert row.body.startswith("为了进一步抓好卫生系统平安单位创建工作")
    assert pd.isna(sections.loc["002_79988078600ed0aa.txt#0@L10", "parent_id"])


def test_written_files_round_trip_and_are_deterministic(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    import duckdb

    first = write_tables(tables, tmp_path / "a")
    write_tables(tables, tmp_path / "b")
    for name in SCHEMAS:
        for suffix in ("csv", "parquet"):
            a = (tmp_path / "a" / f"{name}.{suffix}").read_bytes()
            assert a == (tmp_path / "b" / f"{name}.{suffix}").read_bytes(), (name, suffix)
        back = pd.read_parquet(tmp_path / "a" / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, tables[name], check_dtype=False)
    assert not leftovers(tmp_path / "a"), "temporary files left behind"
    with duckdb.connect(str(tmp_path / "a" / "reportmine.duckdb"), read_only=True) as con:
        counts = dict(con.execute("SELECT kind, count(*) FROM documents GROUP BY kind").fetchall())
        assert counts == tables["documents"].kind.value_counts().to_dict()
    assert first["files"][0].name == "files.parquet"


@pytest.mark.slow
def test_csv_joined_from_parts_equals_csv_of_the_whole_table(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    """Parts of a few rows each, their CSV formatted apart (or not at all): the joined file is the table's CSV."""
    import shutil

    from reportmine.store.files import CSV_PARTS, finish_tables, start_parts, write_part

    for drop_csv_parts in (False, True):
        out = tmp_path / f"out{int(drop_csv_parts)}"
        staging = start_parts(out)
        step = 7
        for index, begin in enumerate(range(0, len(tables["sections"]), step)):
            write_part({name: frame.iloc[begin:begin + step] if name == "sections" else frame.iloc[0:0]
                        for name, frame in tables.items()}, staging, index)
        if drop_csv_parts:
            shutil.rmtree(staging / CSV_PARTS)
        finish_tables(staging, out)
        whole = tables["sections"].to_csv(index=False, lineterminator="\n")
        assert (out / "sections.csv").read_text("utf-8") == whole
        back = pd.read_csv(out / "sections.csv", keep_default_na=False)
        assert len(back) == len(tables["sections"])
