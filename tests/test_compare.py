"""Comparison stage: every figure checked against answers worked out by hand on small tables."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportmine.compare import (
    COLUMNS,
    DUPLICATE_JACCARD,
    PRIOR_STRENGTH,
    Comparison,
    centrality,
    compare,
    cosine,
    export_graphs,
    log_odds_dirichlet,
)
from reportmine.store.schemas import SCHEMAS

KEYWORDS = ["手卫生", "院感", "护理查房"]

# --- A hand-made corpus: two hospitals and one file without a known hospital -------------------
#
# 甲医院 (manifest): a.txt#0, 2020 summary; a.txt#1, 2021 plan.  乙医院 (signature): b.txt#0, 2020 summary.
# c.txt#0: no hospital, no year, summary -> group "c.txt", group_source "file".

_DOCS = [
    # doc_id, file, kind, hospital, hospital_source, year
    ("a.txt#0", "a.txt", "summary", "甲医院", "manifest", 2020),
    ("a.txt#1", "a.txt", "plan", "甲医院", "manifest", 2021),
    ("b.txt#0", "b.txt", "summary", "乙医院", "signature", 2020),
    ("c.txt#0", "c.txt", "summary", None, "unknown", None),
]

_SECTIONS = [
    # doc_id, line, title (the whole text: no body), primary theme
    ("a.txt#0", 2, "护理查房", "nursing_care"),
    ("a.txt#0", 3, "手卫生，院感", "nursing_care"),
    ("a.txt#0", 4, "院感督查", "infection_control"),      # nursing_care too, at rank 2
    ("a.txt#1", 2, "护理查房", "nursing_care"),
    ("a.txt#1", 3, "人才培养", "talent_training"),
    ("b.txt#0", 2, "院感，手卫生", "infection_control"),
    ("b.txt#0", 3, "院感培训", "infection_control"),
    ("b.txt#0", 4, "院感监测", "infection_control"),
    ("b.txt#0", 5, "护理查房", "nursing_care"),
    ("c.txt#0", 2, "人才引进", "talent_training"),
    ("c.txt#0", 3, "人才培养", "talent_training"),
]

_MENTIONS = [
    # doc_id, section line (None: outside sections), line, start, type, text, value, unit, name
    ("a.txt#0", 2, 2, 10, "quantity", "18小时", 18.0, "小时", None),
    ("a.txt#0", 3, 3, 30, "quantity", "8小时", 8.0, "小时", None),
    ("a.txt#0", 3, 9, 90, "activity", "三甲复审", None, None, "三甲复审"),
    ("a.txt#1", 2, 5, 50, "activity", "三甲复审", None, None, "三甲复审"),
    ("a.txt#0", None, 1, 2, "quantity", "3项", 3.0, "项", None),           # outside sections: no theme
    ("b.txt#0", 2, 2, 12, "percent", "95%", 95.0, "%", None),
    ("b.txt#0", 5, 5, 70, "quantity", "40项", 40.0, "项", None),
    ("b.txt#0", 5, 5, 80, "date", "2020年", None, None, None),            # not a quantity
    ("b.txt#0", 3, 3, 40, "activity", "三甲复审", None, None, "三甲复审"),
    ("c.txt#0", 2, 2, 20, "activity", "护理查房", None, None, "护理查房"),
]


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SCHEMAS[name]))


def make_tables(docs=_DOCS, sections=_SECTIONS, mentions=_MENTIONS, bodies: dict | None = None) -> dict:
    bodies = bodies or {}
    documents = _frame("documents", [
        {"doc_id": d, "file": f, "doc_index": int(d.split("#")[1]), "kind": k, "hospital": h, "hospital_source": s,
         "year": y} for d, f, k, h, s, y in docs])
    section_rows, theme_rows = [], []
    for d, line, title, theme in sections:
        sid = f"{d}@L{line}"
        section_rows.append({"section_id": sid, "doc_id": d, "file": d.split("#")[0], "line": line, "title": title,
                             "body": bodies.get(d, ""), "primary_theme": theme})
        theme_rows.append({"section_id": sid, "doc_id": d, "theme": theme, "score": 0.9, "rank": 1, "is_primary": True})
        if (d, line) == ("a.txt#0", 4):
            theme_rows.append({"section_id": sid, "doc_id": d, "theme": "nursing_care", "score": 0.4, "rank": 2,
                               "is_primary": False})
    mention_rows = [
        {"mention_id": f"{d}:{start}", "doc_id": d, "section_id": f"{d}@L{sl}" if sl else None,
         "file": d.split("#")[0], "line": line, "start": start, "type": kind, "text": text, "value": value,
         "unit": unit, "name": name}
        for d, sl, line, start, kind, text, value, unit, name in mentions]
    return {"files": _frame("files", []), "documents": documents, "sections": _frame("sections", section_rows),
            "mentions": _frame("mentions", mention_rows), "section_themes": _frame("section_themes", theme_rows)}


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(make_tables(), keywords=KEYWORDS)


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


# --- Groups -----------------------------------------------------------------------------------


def test_groups_are_hospitals_else_files(comparison: Comparison) -> None:
    docs = comparison.documents
    assert list(docs.doc_id) == ["a.txt#0", "a.txt#1", "b.txt#0", "c.txt#0"]
    assert list(docs.group) == ["甲医院", "甲医院", "乙医院", "c.txt"]
    assert list(docs.group_source) == ["manifest", "manifest", "signature", "file"]
    assert docs.duplicate_of.isna().all()
    assert list(docs.columns) == [*SCHEMAS["documents"], "group", "group_source", "duplicate_of"]


def test_group_by_file() -> None:
    result = compare(make_tables(), group_by="file", keywords=KEYWORDS)
    assert list(result.documents.group) == ["a.txt", "a.txt", "b.txt", "c.txt"]
    assert set(result.documents.group_source) == {"file"}


# --- Theme profiles ---------------------------------------------------------------------------


def test_theme_profiles_shares_by_hand(comparison: Comparison) -> None:
    rows = {(r["group"], r["year"], r["theme"]): r for r in _records(comparison.theme_profiles)}
    # 甲医院 2020 (a.txt#0): nursing 2 of 3 sections, 4+6 of 14 characters; infection 1 of 3, 4 of 14.
    nursing = rows[("甲医院", 2020, "nursing_care")]
    assert (nursing["sections"], nursing["chars"], nursing["documents"]) == (2, 10, 1)
    assert nursing["share_sections"] == pytest.approx(2 / 3, abs=1e-6)
    assert nursing["share_chars"] == pytest.approx(10 / 14, abs=1e-6)
    assert nursing["share_documents"] == 1.0
    infection = rows[("甲医院", 2020, "infection_control")]
    assert infection["share_sections"] == pytest.approx(1 / 3, abs=1e-6)
    assert infection["share_chars"] == pytest.approx(4 / 14, abs=1e-6)
    # 甲医院 2021 (the plan): one nursing and one talent section, half each.
    assert rows[("甲医院", 2021, "nursing_care")]["share_sections"] == 0.5
    assert rows[("甲医院", 2021, "talent_training")]["share_sections"] == 0.5
    # 乙医院 2020: infection 3 of 4.
    assert rows[("乙医院", 2020, "infection_control")]["share_sections"] == 0.75
    # c.txt has no year: its row keeps year NA.
    assert rows[("c.txt", None, "talent_training")]["share_sections"] == 1.0
    assert len(rows) == 7          # 甲 2020: 2 themes, 甲 2021: 2, 乙 2020: 2, c.txt: 1
    assert list(comparison.theme_profiles.columns) == list(COLUMNS["theme_profiles"])
    for (group, year), part in comparison.theme_profiles.groupby(["group", "year"], dropna=False):
        assert part.share_sections.sum() == pytest.approx(1.0, abs=1e-5), (group, year)
        assert part.share_chars.sum() == pytest.approx(1.0, abs=1e-5), (group, year)
    assert "share_sections" in comparison.share_definition and "characters" in comparison.share_definition


# --- Distinctive themes and terms: log-odds ratio with an informative Dirichlet prior --------------


def _delta(y_i: float, n_i: float, y_j: float, n_j: float, alpha: float, a0: float = PRIOR_STRENGTH) -> float:
    return math.log((y_i + alpha) / (n_i + a0 - y_i - alpha)) - math.log((y_j + alpha) / (n_j + a0 - y_j - alpha))


def test_distinctive_themes_by_hand(comparison: Comparison) -> None:
    # Pooled counts: 甲 nursing 3, infection 1, talent 1 (n=5); 乙 infection 3, nursing 1 (n=4);
    # c.txt talent 2 (n=2). N=11; corpus totals nursing 4, infection 4, talent 3.
    rows = _records(comparison.distinctive_themes)
    by = {(r["group"], r["theme"]): r for r in rows}
    alpha = PRIOR_STRENGTH * 4 / 11
    delta = _delta(3, 5, 1, 6, alpha)
    assert by[("甲医院", "nursing_care")]["log_odds"] == pytest.approx(delta, abs=1e-6)
    assert by[("甲医院", "nursing_care")]["z"] == pytest.approx(delta / math.sqrt(1 / (3 + alpha) + 1 / (1 + alpha)),
                                                               abs=1e-6)
    assert by[("甲医院", "nursing_care")]["count"] == 3
    # Each group's most distinctive theme is the one it writes most about; absent themes are negative.
    firsts = {}
    for r in rows:
        firsts.setdefault(r["group"], r["theme"])
    assert firsts == {"甲医院": "nursing_care", "乙医院": "infection_control", "c.txt": "talent_training"}
    assert by[("乙医院", "talent_training")]["count"] == 0 and by[("乙医院", "talent_training")]["z"] < 0
    assert by[("c.txt", "infection_control")]["z"] < 0
    assert len(rows) == 9          # every group × every theme


def test_two_groups_are_mirror_images() -> None:
    # With two groups the rest of one is the other: δ and z flip sign; symmetric counts mirror across items.
    rows = log_odds_dirichlet({"a": Counter(x=3, y=1), "b": Counter(x=1, y=3)})
    by = {(r["group"], r["item"]): r for r in rows}
    assert by[("a", "x")]["log_odds"] == pytest.approx(-by[("b", "x")]["log_odds"])
    assert by[("a", "x")]["z"] == pytest.approx(by[("b", "y")]["z"]) and by[("a", "x")]["z"] > 0
    # α = 100·4/8 = 50 for both items.
    assert by[("a", "x")]["log_odds"] == pytest.approx(math.log(53 / 51) - math.log(51 / 53), abs=1e-6)


def test_log_odds_needs_two_groups_and_two_items() -> None:
    assert log_odds_dirichlet({"a": Counter(x=3, y=1)}) == []
    assert log_odds_dirichlet({"a": Counter(x=3), "b": Counter(x=1)}) == []
    assert log_odds_dirichlet({}) == []


def test_distinctive_terms_by_hand(comparison: Comparison) -> None:
    # Terms are words of the domain dictionary built for KEYWORDS (none of its other words occur here):
    # 甲 护理查房 2, 手卫生 1, 院感 2 (n=5); 乙 院感 3, 手卫生 1, 护理查房 1 (n=5); c.txt none. N=10; 院感 5 in all.
    rows = _records(comparison.distinctive_terms)
    by = {(r["group"], r["term"]): r for r in rows}
    alpha = PRIOR_STRENGTH * 5 / 10
    assert by[("乙医院", "院感")]["count"] == 3
    assert by[("乙医院", "院感")]["log_odds"] == pytest.approx(_delta(3, 5, 2, 5, alpha), abs=1e-6)
    assert by[("乙医院", "院感")]["z"] > 0 and by[("甲医院", "护理查房")]["z"] > 0
    assert by[("甲医院", "院感")]["log_odds"] == pytest.approx(-by[("乙医院", "院感")]["log_odds"], abs=1e-6)
    # Only terms a group uses; 督查, 培训 (no dictionary words) and c.txt's 人才培养 are not counted.
    assert all(r["count"] > 0 for r in rows)
    assert {r["term"] for r in rows} == {"院感", "手卫生", "护理查房"}
    assert "c.txt" not in set(comparison.distinctive_terms.group)


def test_terms_are_matched_longest_first_and_normalised() -> None:
    # 院感督查 is a keyword here: it is one term, not 院感 + 督查; ＤＲＧ (full width) counts as drg.
    sections = [*_SECTIONS, ("b.txt#0", 6, "院感督查，ＤＲＧ付费", "infection_control")]
    result = compare(make_tables(sections=sections), keywords=[*KEYWORDS, "院感督查", "DRG"])
    counts = {(r["group"], r["term"]): r["count"] for r in _records(result.distinctive_terms)}
    assert counts[("乙医院", "院感")] == 3 and counts[("乙医院", "院感督查")] == 1
    assert counts[("乙医院", "drg")] == 1


def test_distinctive_terms_keep_the_top_of_each_group() -> None:
    from reportmine.compare import TOP_TERMS

    words = [f"词{chr(0x4e00 + i)}{chr(0x4e00 + i)}" for i in range(TOP_TERMS + 5)]
    sections = [*_SECTIONS, *[("b.txt#0", 10 + i, w, "infection_control") for i, w in enumerate(words)]]
    result = compare(make_tables(sections=sections), keywords=[*KEYWORDS, *words])
    per_group = result.distinctive_terms.groupby("group").size()
    assert per_group["乙医院"] == TOP_TERMS
    z = list(result.distinctive_terms[result.distinctive_terms.group == "乙医院"].z)
    assert z == sorted(z, reverse=True)


def test_generic_report_words_are_not_distinctive_terms() -> None:
    # 工作 and 加强 (data/stopwords.txt) outnumber everything in 乙's titles, and are in the vocabulary
    # here; they still must not show up.
    sections = [*_SECTIONS, ("b.txt#0", 6, "加强工作，工作，工作", "infection_control")]
    rows = _records(compare(make_tables(sections=sections), keywords=[*KEYWORDS, "工作", "加强"]).distinctive_terms)
    terms = {r["term"] for r in rows}
    assert "工作" not in terms and "加强" not in terms
    assert "院感" in terms


# --- Similarity, plans vs summaries -------------------------------------------------------------


def test_cosine_of_known_vectors() -> None:
    assert cosine({"x": 1, "y": 0}, {"y": 5}) == 0.0
    assert cosine({"x": 2, "y": 2}, {"x": 1, "y": 1}) == 1.0
    assert cosine({"x": 3, "y": 4}, {"x": 4, "y": 3}) == pytest.approx(24 / 25)
    assert cosine({}, {"x": 1}) == 0.0


def test_similarity_of_theme_profiles(comparison: Comparison) -> None:
    # 甲 (nursing 3, infection 1, talent 1) · 乙 (infection 3, nursing 1) = 6 / (√11 · √10); 甲 · c.txt = 2 / (√11 · 2).
    sim = {(r["group_a"], r["group_b"]): r["cosine"] for r in _records(comparison.similarity)}
    assert sim[("甲医院", "乙医院")] == pytest.approx(6 / math.sqrt(110), abs=1e-6)
    assert sim[("乙医院", "甲医院")] == sim[("甲医院", "乙医院")]
    assert sim[("甲医院", "c.txt")] == pytest.approx(1 / math.sqrt(11), abs=1e-6)
    assert sim[("乙医院", "c.txt")] == 0.0
    assert len(sim) == 6 and all(a != b for a, b in sim)


def test_similarity_keeps_nearest_groups_past_the_limit(monkeypatch) -> None:
    import reportmine.compare.statistics as statistics_module

    # Past SIMILARITY_ALL_PAIRS groups, each group keeps its SIMILAR_GROUPS nearest: with one, 甲's and c.txt's
    # nearest is the other's (1/√11 for c.txt, 6/√110 for 甲 → 乙), 乙's is 甲.
    monkeypatch.setattr(statistics_module, "SIMILARITY_ALL_PAIRS", 2)
    monkeypatch.setattr(statistics_module, "SIMILAR_GROUPS", 1)
    sim = {(r["group_a"], r["group_b"]): r["cosine"] for r in _records(compare(make_tables(),
                                                                                keywords=KEYWORDS).similarity)}
    assert sim == {("甲医院", "乙医院"): pytest.approx(6 / math.sqrt(110), abs=1e-6),
                   ("乙医院", "甲医院"): pytest.approx(6 / math.sqrt(110), abs=1e-6),
                   ("c.txt", "甲医院"): pytest.approx(1 / math.sqrt(11), abs=1e-6)}


def test_stored_tables_give_the_same_comparison(tmp_path: Path) -> None:
    # An output folder's Parquet files, read column by column, give what the DataFrames give.
    from reportmine.store.files import StoredTables, write_tables

    tables = _duplicate_tables()
    write_tables(tables, tmp_path)
    first, second = compare(tables, keywords=KEYWORDS), compare(StoredTables(tmp_path), keywords=KEYWORDS)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_dtype=False)
    assert list(second.documents.duplicate_of.fillna("")) == ["", "d1.txt#0", ""]


def test_write_comparison(tmp_path: Path, comparison: Comparison) -> None:
    from reportmine.compare import write_comparison

    written = write_comparison(comparison, tmp_path / "comparison")
    assert sorted(p.name for p in (tmp_path / "comparison").iterdir()) == sorted(p.name for p in written)
    assert len(written) == 2 * len(COLUMNS)
    for name in COLUMNS:
        back = pd.read_parquet(tmp_path / "comparison" / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, getattr(comparison, name), check_dtype=False)
    first = {p.name: p.read_bytes() for p in written}
    assert {p.name: p.read_bytes() for p in write_comparison(comparison, tmp_path / "comparison")} == first


def test_plan_vs_summary_by_hand(comparison: Comparison) -> None:
    # Plan (a.txt#1): nursing 1, talent 1. Summaries: nursing 2+1, infection 1+3, talent 2 (9 sections).
    rows = {r["theme"]: r for r in _records(comparison.plan_vs_summary)}
    assert rows["nursing_care"]["plan_sections"] == 1 and rows["nursing_care"]["summary_sections"] == 3
    assert rows["nursing_care"]["difference"] == pytest.approx(1 / 2 - 3 / 9, abs=1e-6)
    assert rows["infection_control"]["plan_share"] == 0.0
    assert rows["infection_control"]["summary_share"] == pytest.approx(4 / 9, abs=1e-6)
    assert rows["talent_training"]["difference"] == pytest.approx(1 / 2 - 2 / 9, abs=1e-6)
    assert sorted(rows) == ["infection_control", "nursing_care", "talent_training"]


# --- Mentions: quantities per theme and first activities ---------------------------------------------


def test_quantities_per_theme_and_unit(comparison: Comparison) -> None:
    rows = _records(comparison.quantities)
    assert rows == [
        {"theme": "infection_control", "type": "percent", "unit": "%", "mentions": 1, "total": 95.0,
         "median": 95.0, "min": 95.0, "max": 95.0},
        # 18小时 and 8小时 in two nursing sections of 甲.
        {"theme": "nursing_care", "type": "quantity", "unit": "小时", "mentions": 2, "total": 26.0,
         "median": 13.0, "min": 8.0, "max": 18.0},
        # 40项 in 乙's nursing section; 3项 outside any section has no theme and is left out.
        {"theme": "nursing_care", "type": "quantity", "unit": "项", "mentions": 1, "total": 40.0,
         "median": 40.0, "min": 40.0, "max": 40.0},
    ]


def test_first_activities(comparison: Comparison) -> None:
    rows = _records(comparison.first_activities)
    assert rows == [
        # Sorted by group: 甲 mentions 三甲复审 in 2021 (plan) and 2020 (summary, line 9): first 2020.
        {"group": "c.txt", "activity": "护理查房", "first_year": None, "doc_id": "c.txt#0", "line": 2, "documents": 1},
        {"group": "乙医院", "activity": "三甲复审", "first_year": 2020, "doc_id": "b.txt#0", "line": 3, "documents": 1},
        {"group": "甲医院", "activity": "三甲复审", "first_year": 2020, "doc_id": "a.txt#0", "line": 9, "documents": 2},
    ]


# --- Near duplicates --------------------------------------------------------------------------------

TEMPLATE = ("一年来，在院党委的正确领导下，{name}全体医务人员紧紧围绕年初制定的工作目标，以创建二级甲等医院为契机，"
            "狠抓医疗质量和医疗安全，全年完成门急诊{a}人次，出院病人{b}人次，开展新技术{c}项，组织业务培训{d}小时，"
            "护理人员三基考核合格率达{e}%，院内感染发生率控制在{f}%以下，各项工作取得了较好成绩。")
OTHER = ("今年我院认真贯彻落实上级卫生行政部门的工作部署，以预防接种和妇幼保健为重点，加强公共卫生服务能力建设，"
         "规范儿童计划免疫门诊管理，完善孕产妇系统管理档案，全面完成了各项公共卫生指标，群众满意度进一步提高。")


def _duplicate_tables() -> dict:
    docs = [("d1.txt#0", "d1.txt", "summary", "甲医院", "manifest", 2016),
            ("d2.txt#0", "d2.txt", "summary", "乙医院", "manifest", 2016),
            ("d3.txt#0", "d3.txt", "summary", "丙医院", "manifest", 2016)]
    sections = [("d1.txt#0", 2, "加强医疗质量管理", "medical_quality_safety"),
                ("d2.txt#0", 2, "加强医疗质量管理", "medical_quality_safety"),
                ("d3.txt#0", 2, "公共卫生服务", "public_health")]
    bodies = {"d1.txt#0": TEMPLATE.format(name="甲医院", a=52341, b=6120, c=12, d=18, e=96, f=3),
              "d2.txt#0": TEMPLATE.format(name="乙县人民医院", a=31877, b=4020, c=40, d=24, e=98.5, f=2.5),
              "d3.txt#0": OTHER}
    return make_tables(docs, sections, [], bodies)


def test_template_copy_flagged_and_not_counted_twice() -> None:
    result = compare(_duplicate_tables(), keywords=KEYWORDS)
    pairs = _records(result.near_duplicates)
    assert [(p["doc_a"], p["doc_b"], p["group_a"], p["group_b"]) for p in pairs] == [
        ("d1.txt#0", "d2.txt#0", "甲医院", "乙医院")]
    assert DUPLICATE_JACCARD <= pairs[0]["similarity"] < 1.0
    assert pairs[0]["similarity"] == pytest.approx(0.91, abs=0.01)     # the figure quoted beside the threshold
    assert list(result.documents.duplicate_of.fillna("")) == ["", "d1.txt#0", ""]
    # The copy is out of every count: 乙医院 has no profile, no similarity and no distinctive themes.
    assert set(result.theme_profiles.group) == {"甲医院", "丙医院"}
    assert "乙医院" not in set(result.similarity.group_a) | set(result.distinctive_themes.group)
    assert result.plan_vs_summary.summary_sections.sum() == 2


def test_duplicates_found_among_many_documents() -> None:
    # 200 distinct reports (every sentence numbered differently in words, so their shingles differ) and one copy
    # of the 57th: LSH must find that one pair without comparing all 20,000.
    import random

    rng = random.Random(5)
    vocabulary = [chr(c) for c in range(0x4e00, 0x4e00 + 3000)]
    docs, sections, bodies = [], [], {}
    for i in range(201):
        did = f"r{i:03d}.txt#0"
        docs.append((did, f"r{i:03d}.txt", "summary", f"医院{i}", "manifest", 2020))
        sections.append((did, 2, "工作总结", "other"))
        bodies[did] = "".join(rng.choice(vocabulary) for _ in range(400))
    bodies["r200.txt#0"] = bodies["r057.txt#0"][:390] + "另加几句"
    result = compare(make_tables(docs, sections, [], bodies), keywords=KEYWORDS)
    assert [(p["doc_a"], p["doc_b"]) for p in _records(result.near_duplicates)] == [("r057.txt#0", "r200.txt#0")]


def test_short_documents_are_never_duplicates() -> None:
    # Identical two-section documents with little text: a title shared by chance is no copy.
    docs = [("x.txt#0", "x.txt", "plan", None, "unknown", None), ("y.txt#0", "y.txt", "plan", None, "unknown", None)]
    sections = [("x.txt#0", 2, "护理查房", "nursing_care"), ("y.txt#0", 2, "护理查房", "nursing_care")]
    result = compare(make_tables(docs, sections, []), keywords=KEYWORDS)
    assert result.near_duplicates.empty and result.documents.duplicate_of.isna().all()


def test_copies_of_a_copy_point_at_the_original() -> None:
    tables = _duplicate_tables()
    extra = tables["documents"].iloc[[1]].assign(doc_id="d4.txt#0", file="d4.txt", hospital="丁医院")
    tables["documents"] = pd.concat([tables["documents"], extra], ignore_index=True)
    section = tables["sections"].iloc[[1]].assign(section_id="d4.txt#0@L2", doc_id="d4.txt#0", file="d4.txt")
    tables["sections"] = pd.concat([tables["sections"], section], ignore_index=True)
    result = compare(tables, keywords=KEYWORDS)
    assert list(result.documents.duplicate_of.fillna("")) == ["", "d1.txt#0", "", "d1.txt#0"]
    assert [(p["doc_a"], p["doc_b"]) for p in _records(result.near_duplicates)] == [
        ("d1.txt#0", "d2.txt#0"), ("d1.txt#0", "d4.txt#0"), ("d2.txt#0", "d4.txt#0")]


# --- Networks ---------------------------------------------------------------------------------------


def test_theme_cooccurrence_graph(comparison: Comparison) -> None:
    graph = comparison.graphs["theme_cooccurrence"]
    # Theme sets per document (any rank): a#0 {nursing, infection}, a#1 {nursing, talent}, b#0 {infection,
    # nursing}, c#0 {talent}. Only a#0's line 4 holds both nursing and infection within one section.
    assert sorted(graph.nodes) == ["infection_control", "nursing_care", "talent_training"]
    edges = {tuple(sorted((u, v))): d for u, v, d in graph.edges(data=True)}
    assert edges == {("infection_control", "nursing_care"): {"weight": 2, "sections": 1},
                     ("nursing_care", "talent_training"): {"weight": 1, "sections": 0}}
    assert graph.nodes["nursing_care"] == {"kind": "theme", "sections": 4}


def test_activity_group_graph_is_bipartite(comparison: Comparison) -> None:
    graph = comparison.graphs["activity_group"]
    assert {n: d["bipartite"] for n, d in graph.nodes(data=True)} == {
        "c.txt": 0, "乙医院": 0, "甲医院": 0, "三甲复审": 1, "护理查房": 1}
    assert {n for n, d in graph.nodes(data=True) if d["kind"] == "group"} == {"c.txt", "乙医院", "甲医院"}
    assert graph["甲医院"]["三甲复审"] == {"weight": 2, "documents": 2}
    assert graph["乙医院"]["三甲复审"]["weight"] == 1 and graph["c.txt"]["护理查房"]["weight"] == 1
    assert nx.is_bipartite(graph)


def test_keyword_cooccurrence_graph(comparison: Comparison) -> None:
    graph = comparison.graphs["keyword_cooccurrence"]
    # Sections: 院感 in 5, 护理查房 in 3, 手卫生 in 2; 手卫生 and 院感 share a#0 L3 and b#0 L2.
    assert dict(graph.nodes(data="sections")) == {"院感": 5, "护理查房": 3, "手卫生": 2}
    assert [(*sorted((u, v)), d["weight"]) for u, v, d in graph.edges(data=True)] == [("手卫生", "院感", 2)]


def test_centrality_by_hand() -> None:
    path = nx.Graph()
    path.add_edge("a", "b", weight=2)
    path.add_edge("b", "c", weight=1)
    rows = {r["node"]: r for r in _records(centrality({"p": path}))}
    assert (rows["b"]["degree"], rows["b"]["weighted_degree"], rows["b"]["betweenness"]) == (2, 3.0, 1.0)
    assert rows["a"]["betweenness"] == 0.0 and rows["a"]["weighted_degree"] == 2.0
    assert rows["b"]["eigenvector"] > rows["a"]["eigenvector"] > rows["c"]["eigenvector"] > 0


def test_eigenvector_never_crashes_on_tiny_or_disconnected_graphs(comparison: Comparison) -> None:
    single = nx.Graph()
    single.add_node("x", kind="theme")
    isolated = nx.Graph()
    isolated.add_nodes_from(["x", "y"])
    split = nx.Graph([("a", "b"), ("c", "d"), ("d", "e")])
    star = nx.star_graph(4)                                   # bipartite: plain power iteration oscillates
    table = centrality({"empty": nx.Graph(), "single": single, "isolated": isolated, "split": split, "star": star})
    assert set(table.graph) == {"single", "isolated", "split", "star"}
    assert table.loc[table.graph.isin(["single", "isolated"]), "eigenvector"].eq(0.0).all()
    star_rows = table[table.graph == "star"].set_index("node")
    assert star_rows.loc["0", "eigenvector"] > star_rows.loc["1", "eigenvector"]
    assert table.eigenvector.notna().all()
    # Each component is scored on its own: the pair a–b gets 1/√2 each, the path c–d–e peaks at d.
    split_rows = table[table.graph == "split"].set_index("node").eigenvector
    assert split_rows["a"] == split_rows["b"] == pytest.approx(1 / math.sqrt(2), abs=1e-5)
    assert split_rows["d"] > split_rows["c"] > 0
    assert split_rows["c"] == pytest.approx(split_rows["e"], abs=1e-6)
    assert list(comparison.centrality.columns) == list(COLUMNS["centrality"])
    assert set(comparison.centrality.graph) == {"theme_cooccurrence", "activity_group", "keyword_cooccurrence"}
    kinds = comparison.centrality.set_index(["graph", "node"]).kind
    assert kinds[("activity_group", "甲医院")] == "group" and kinds[("activity_group", "三甲复审")] == "activity"


# --- Export -----------------------------------------------------------------------------------------


def test_export_round_trip(tmp_path: Path, comparison: Comparison) -> None:
    graphs = dict(comparison.graphs)
    odd = nx.Graph()
    odd.add_node("a", kind=None, score=float("nan"), n=3)
    odd.add_edge("a", 2, weight=1.5, note=None)
    graphs["odd"] = odd
    written = export_graphs(graphs, tmp_path / "graphs")
    names = sorted(p.name for p in (tmp_path / "graphs").iterdir())
    assert names == sorted(p.name for p in written)          # nothing else, no temporary files
    assert len(written) == 2 * len(graphs)
    for name, graph in comparison.graphs.items():
        for reader, suffix in ((nx.read_gexf, "gexf"), (nx.read_graphml, "graphml")):
            back = reader(tmp_path / "graphs" / f"{name}.{suffix}")
            assert sorted(back.nodes) == sorted(graph.nodes), (name, suffix)
            weights = {tuple(sorted((u, v))): float(d["weight"]) for u, v, d in back.edges(data=True)}
            assert weights == {tuple(sorted((u, v))): float(d["weight"]) for u, v, d in graph.edges(data=True)}
            kinds = {n: d.get("kind") for n, d in back.nodes(data=True)}
            assert kinds == {n: d["kind"] for n, d in graph.nodes(data=True)}
    back = nx.read_graphml(tmp_path / "graphs" / "odd.graphml")
    assert back.nodes["a"]["kind"] == "" and back["a"]["2"]["note"] == ""
    # Same graphs, same bytes (GEXF carries no date).
    first = {p.name: p.read_bytes() for p in written}
    again = export_graphs(graphs, tmp_path / "graphs")
    assert {p.name: p.read_bytes() for p in again} == first


# --- Empty input, determinism ------------------------------------------------------------------------


def _empty_tables() -> dict:
    return {name: pd.DataFrame(columns=list(columns)) for name, columns in SCHEMAS.items()}


@pytest.mark.parametrize("tables", [
    _empty_tables(),
    {},                                                        # no tables at all
    {**make_tables(), "mentions": _frame("mentions", [])},     # sections but no mentions
    {**make_tables(), "section_themes": _frame("section_themes", [])},   # no classify stage
], ids=["empty", "missing", "no-mentions", "no-themes"])
def test_empty_inputs_give_empty_results(tables: dict, tmp_path: Path) -> None:
    result = compare(tables, keywords=KEYWORDS)
    for name, columns in COLUMNS.items():
        assert list(getattr(result, name).columns) == list(columns), name
    assert set(result.graphs) == {"theme_cooccurrence", "activity_group", "keyword_cooccurrence"}
    assert len(export_graphs(result.graphs, tmp_path)) == 6
    if not len(tables.get("mentions", [])):
        assert result.quantities.empty and result.first_activities.empty
        assert result.graphs["activity_group"].number_of_nodes() == 0
    if not len(tables.get("sections", [])):
        assert result.theme_profiles.empty and result.similarity.empty and result.centrality.empty


def test_without_themes_every_section_is_other() -> None:
    tables = make_tables()
    tables["section_themes"] = _frame("section_themes", [])
    tables["sections"]["primary_theme"] = None
    result = compare(tables, keywords=KEYWORDS)
    assert set(result.theme_profiles.theme) == {"other"}
    assert result.distinctive_themes.empty       # one item: nothing to contrast


def test_same_input_same_output() -> None:
    first, second = compare(make_tables(), keywords=KEYWORDS), compare(make_tables(), keywords=KEYWORDS)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    pd.testing.assert_frame_equal(first.documents, second.documents)
    # Shuffling the theme rows of the tables changes nothing.
    tables = make_tables()
    tables["section_themes"] = tables["section_themes"].iloc[::-1].reset_index(drop=True)
    third = compare(tables, keywords=KEYWORDS)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(third, name))


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from("abcd"), st.dictionaries(st.sampled_from("wxyz"), st.integers(0, 30)),
                       max_size=4))
def test_log_odds_properties(raw: dict) -> None:
    counts = {g: Counter(c) for g, c in raw.items()}
    rows = log_odds_dirichlet(counts)
    for r in rows:
        assert math.isfinite(r["log_odds"]) and math.isfinite(r["z"])
        assert (r["log_odds"] > 0) == (r["z"] > 0)
    # Sorted by group, then z descending.
    keys = [(r["group"], -r["z"]) for r in rows]
    assert keys == sorted(keys)


def test_eigenvector_of_a_large_component_agrees_with_power_iteration() -> None:
    # Components past SMALL_COMPONENT go to a sparse power iteration; the values must be networkx's own.
    from reportmine.compare.graphs import SMALL_COMPONENT, eigenvector

    graph = nx.barabasi_albert_graph(SMALL_COMPONENT * 3, 2, seed=1)
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = 1 + (a + b) % 3
    want = nx.eigenvector_centrality(graph, max_iter=1000, tol=1e-9, weight="weight")
    got = eigenvector(graph)
    assert got == pytest.approx(want, abs=1e-6)
    assert eigenvector(graph) == got  # deterministic: the same bytes every run


def test_batched_minhash_equals_the_minhash_of_each_text_alone() -> None:
    # minhash_into hashes a batch of texts at once; each signature must be the plain per-text MinHash
    # (multiply-shift hashes of the polynomial hash of every 5-character shingle), windows across texts excluded.
    import numpy as np

    from reportmine.compare.duplicates import EMPTY_HASH, HASHES, SHINGLE_CHARS, hash_params, minhash_into

    a_col, b_col = hash_params()
    a, b = [int(x) for x in a_col[:, 0]], [int(x) for x in b_col[:, 0]]
    mask = (1 << 64) - 1

    def alone(text: str) -> list[int]:
        signature = [EMPTY_HASH] * HASHES
        for i in range(len(text) - SHINGLE_CHARS + 1):
            h = 0
            for ch in text[i:i + SHINGLE_CHARS]:
                h = (h * 1_000_003 + ord(ch)) & mask
            for j in range(HASHES):
                signature[j] = min(signature[j], ((a[j] * h + b[j]) & mask) >> 32)
        return signature

    texts = ["", "短", "院感督查", "院感督查0次", "加强院感管理,落实手卫生制度0", "𠀀𠀁 mixed ascii 与中文", "护理" * 40]
    rows = [3, 0, 5, 1, 6, 2, 4]  # batch order differs from row order
    signatures = np.full((len(texts), HASHES), EMPTY_HASH, dtype=np.uint64)
    minhash_into(signatures, rows, texts)
    for row, text in zip(rows, texts, strict=True):
        assert signatures[row].tolist() == alone(text), text


# --- Text passes precomputed by the workers of a streamed run -----------------------------------------


def _stream(tables: dict, out: Path, rows_per_part: int, keywords: list[str]) -> None:
    """Write ``tables`` as a streamed run does: sections cut into parts of a few rows, each with its features.

    The cut ignores documents, so a document's sections may lie in two parts (their signatures must combine).
    """
    from reportmine.compare import write_features
    from reportmine.store.files import finish_tables, start_parts, write_part

    staging = start_parts(out)
    sections = tables["sections"]
    for index, begin in enumerate(range(0, max(len(sections), 1), rows_per_part)):
        chunk = sections.iloc[begin:begin + rows_per_part].reset_index(drop=True)
        part = {name: frame if index == 0 else frame.iloc[0:0] for name, frame in tables.items() if name != "sections"}
        write_part({**part, "sections": chunk}, staging, index)
        write_features(chunk, staging, index, keywords)
    finish_tables(staging, out)


def _assert_same_comparison(first: Comparison, second: Comparison) -> None:
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_dtype=False)
    for name, graph in first.graphs.items():
        other = second.graphs[name]
        assert sorted(graph.nodes(data=True)) == sorted(other.nodes(data=True)), name
        assert sorted(graph.edges(data=True)) == sorted(other.edges(data=True)), name


@pytest.fixture(scope="module")
def sample_tables() -> dict:
    import reportmine
    from reportmine.pipeline import run_files
    from reportmine.store.rows import build_tables

    return build_tables(run_files(sorted(reportmine.sample_corpus().glob("*.txt"))))


@pytest.mark.parametrize("rows_per_part", [pytest.param(1, marks=pytest.mark.slow), 37,
                                           pytest.param(10_000, marks=pytest.mark.slow)])
def test_precomputed_text_passes_give_the_same_comparison(sample_tables: dict, tmp_path: Path,
                                                          rows_per_part: int) -> None:
    from reportmine.compare import stored_features
    from reportmine.store.files import StoredTables
    from reportmine.taxonomy import load_taxonomy

    keywords = load_taxonomy().keywords()
    # The sample corpus, plus a template copy and its original, plus a file name used twice (one section id,
    # two sections: the copies must count as the text passes count them).
    extra = _duplicate_tables()
    twin = extra["sections"].iloc[[2]].assign(body=extra["sections"].body.iloc[0])
    tables = {name: pd.concat([sample_tables[name], extra[name]] + ([twin] if name == "sections" else []),
                              ignore_index=True) for name in sample_tables}
    _stream(tables, tmp_path, rows_per_part, keywords)
    stored = StoredTables(tmp_path)
    assert stored_features(stored) is not None
    with_features = compare(stored, keywords=keywords)
    assert not with_features.near_duplicates.empty
    _assert_same_comparison(compare(tables, keywords=keywords), with_features)
    # Another vocabulary than the workers': the parts are not used, and the answer is still right.
    other = [*keywords, "护理查房制度"]
    _assert_same_comparison(compare(tables, keywords=other), compare(StoredTables(tmp_path), keywords=other))


def test_features_of_another_run_are_not_used(tmp_path: Path) -> None:
    from reportmine.compare import FEATURES_DIR, stored_features
    from reportmine.store.files import PARTS_DIR, StoredTables

    tables = _duplicate_tables()
    _stream(tables, tmp_path, 2, KEYWORDS)
    assert stored_features(StoredTables(tmp_path)) is not None
    stored = StoredTables(tmp_path)
    stored["sections"] = tables["sections"]  # sections replaced in memory: not what the parts were made from
    assert stored_features(stored) is None
    next((tmp_path / PARTS_DIR / FEATURES_DIR / "words").glob("*.parquet")).unlink()  # one part missing
    assert stored_features(StoredTables(tmp_path)) is None
    _assert_same_comparison(compare(tables, keywords=KEYWORDS), compare(StoredTables(tmp_path), keywords=KEYWORDS))


def _jaccard_by_sets(candidates, normals, threshold):
    """The first implementation: Python sets of shingle strings."""
    from reportmine.compare import MIN_SHINGLES, SHINGLE_CHARS

    def shingles(text):
        grams = {text[i:i + SHINGLE_CHARS] for i in range(len(text) - SHINGLE_CHARS + 1)}
        return grams if len(grams) >= MIN_SHINGLES else set()

    sets = {d: shingles(t) for d, t in normals.items()}
    pairs = []
    for a, b in candidates:
        x, y = sets[a], sets[b]
        if x and y and len(x & y) / len(x | y) >= threshold:
            pairs.append((a, b, len(x & y) / len(x | y)))
    return sorted(pairs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="甲乙丙丁戊己庚辛𠀀0a", min_size=0, max_size=400), min_size=2, max_size=8),
       st.booleans())
def test_exact_jaccard_equals_set_jaccard(texts: list[str], collide: bool) -> None:
    """Every pair's similarity, by hashed ids (or, when hashes collide, by characters) as by sets of strings."""
    import reportmine.compare.duplicates as duplicates_module

    normals = dict(enumerate(texts))
    candidates = [(a, b) for a in normals for b in normals if a < b]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duplicates_module, "DUPLICATE_JACCARD", 0.0)
        if collide:  # every shingle hashes to its last character: the check must catch it
            patch.setattr(duplicates_module, "SHINGLE_HASH_BASE", 0)
        assert duplicates_module.exact_jaccard(candidates, normals) == _jaccard_by_sets(candidates, normals, 0.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.floats(min_value=0.0, max_value=0.5), st.integers(0, 10_000),
       st.booleans(), st.sampled_from([1, 7, 256]))
def test_betweenness_in_numpy_equals_networkx(n: int, density: float, seed: int, loops: bool, batch: int) -> None:
    """Random graphs, disconnected ones and self-loops included, sources in batches of any size:
    the batched search gives networkx's values."""
    import reportmine.compare.graphs as graphs_module
    from reportmine.compare.graphs import betweenness

    graph = nx.gnp_random_graph(n, density, seed=seed)
    graph = nx.relabel_nodes(graph, {v: f"n{v}" for v in graph})   # string ids, as the comparison's graphs have
    if loops and n:
        graph.add_edge("n0", "n0")
    expected = nx.betweenness_centrality(graph)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(graphs_module, "BETWEENNESS_BATCH", batch)
        found = betweenness(graph)
    assert found.keys() == expected.keys()
    assert all(found[v] == pytest.approx(expected[v], abs=1e-12) for v in graph)


def test_betweenness_of_the_sample_comparison_graphs(comparison: Comparison, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportmine.compare.graphs as graphs_module
    from reportmine.compare.graphs import betweenness

    monkeypatch.setattr(graphs_module, "BETWEENNESS_BATCH", 3)   # several batches of sources

    for graph in comparison.graphs.values():
        expected = nx.betweenness_centrality(graph)
        assert all(betweenness(graph)[v] == pytest.approx(expected[v], abs=1e-12) for v in graph)


def test_betweenness_is_exact_past_the_sample_size() -> None:
    """A graph of 600 nodes (more than BETWEENNESS_SAMPLE): exact values, not a sampled estimate."""
    from reportmine.compare import BETWEENNESS_EXACT, BETWEENNESS_SAMPLE

    graph = nx.relabel_nodes(nx.gnm_random_graph(600, 1500, seed=3), str)
    assert BETWEENNESS_SAMPLE < graph.number_of_nodes() <= BETWEENNESS_EXACT
    exact = nx.betweenness_centrality(graph)
    rows = {r["node"]: r["betweenness"] for r in _records(centrality({"g": graph}))}
    assert all(rows[v] == pytest.approx(exact[v], abs=1e-6) for v in graph)
