"""The report's appendix queries give, over ``reportmine.duckdb``, exactly the rows the report counted.

A block of the appendix lists its first rows and, when it holds more, prints
the SQL that lists all of them. Those queries use the database's views
``document_groups`` and ``section_primary_themes``, which hold the
comparison's group and primary-theme rules: a query's row count must be the
block's total, and every view row must agree with the comparison's tables.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

import reportmine

QUERY = re.compile(r"First \d+ of ([\d,]+) .*?<code>(SELECT .*?)</code>", re.S)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[reportmine.Analysis, Path]:
    folder = tmp_path_factory.mktemp("queries") / "out"
    analysis = reportmine.analyze(out=folder)
    analysis.write(folder)
    return analysis, folder


def test_every_printed_query_lists_the_rows_its_block_counts(run) -> None:
    _, out = run
    blocks = (out / "report.html").read_text("utf-8").split('<div class="block" id="')[1:]
    checked = 0
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        for block in blocks:
            found = QUERY.search(block.split('<div class="block"')[0])
            if found is None:
                continue
            total, sql = int(found.group(1).replace(",", "")), html.unescape(found.group(2))
            assert len(con.execute(sql).fetchall()) == total, (block[:60], sql)
            checked += 1
    assert checked >= 5  # the sample corpus has blocks longer than the rows shown


def test_the_views_hold_the_comparisons_rules(run) -> None:
    analysis, out = run
    compared = dict(zip(analysis.comparison.documents.doc_id, analysis.comparison.documents.group, strict=True))
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        groups = dict(con.execute('SELECT doc_id, "group" FROM document_groups').fetchall())
        assert groups == compared
        themes = dict(con.execute("SELECT section_id, theme FROM section_primary_themes").fetchall())
        ranked = dict(con.execute("SELECT section_id, theme FROM section_themes WHERE rank = 1").fetchall())
        sections = [row[0] for row in con.execute("SELECT section_id FROM sections").fetchall()]
    assert set(themes) == set(sections)
    assert all(themes[sid] == ranked.get(sid, "other") for sid in sections)
