"""The HTML report: self-contained, every link lands, Chinese shown, escaped, deterministic, opens in Chromium."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from conftest import need
from reportmine.compare import Comparison
from reportmine.report import appendix as report_appendix
from reportmine.report import data as report_data
from reportmine.report import render_report, write_report
from reportmine.store.schemas import SCHEMAS

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

#: A title with markup, an ampersand and a URL: must come out as text, never as markup or a resource.
NASTY_TITLE = '<script>alert("x")</script> 院感 & 手卫生 见 https://example.org/a?b=1'

# --- Hand-built inputs: two hospitals and one file-only group, plans and summaries ---------------

_DOCS = [
    # doc_id, file, title, kind, hospital, group, group_source, year, start, end
    ("001_a.txt#0", "001_a.txt", "北京协和医院2022年工作总结", "summary", "北京协和医院", "北京协和医院", "manifest", 2022, 1, 40),
    ("001_a.txt#1", "001_a.txt", "北京协和医院2023年工作计划", "plan", "北京协和医院", "北京协和医院", "manifest", 2023, 41, 80),
    ("002_b.txt#0", "002_b.txt", "某县人民医院2022年工作总结", "summary", "某县人民医院", "某县人民医院", "signature", 2022, 1, 30),
    ("003_c.txt#0", "003_c.txt", "护理部工作计划", "plan", None, "003_c.txt", "file", 2023, 1, 20),
]

_SECTIONS = [
    # doc_id, line, outline, title, primary theme
    ("001_a.txt#0", 3, "一", "加强医疗质量与安全管理", "medical_quality_safety"),
    ("001_a.txt#0", 8, "一/（一）", "落实核心制度，开展病历质控", "medical_quality_safety"),
    ("001_a.txt#0", 15, "二", NASTY_TITLE, "infection_control"),
    ("001_a.txt#0", 22, "三", "推进智慧医院建设", "informatization"),
    ("001_a.txt#1", 43, "一", "持续改进医疗质量", "medical_quality_safety"),
    ("001_a.txt#1", 50, "二", "加强院感防控", "infection_control"),
    ("002_b.txt#0", 3, "一", "党建引领，加强行风建设", "party_building_integrity"),
    ("002_b.txt#0", 9, "二", "优质护理服务", "nursing_care"),
    ("002_b.txt#0", 14, "二/1", "开展护理查房和手卫生督查", "nursing_care"),
    ("003_c.txt#0", 2, "一", "护士分层级培训", "nursing_care"),
    ("003_c.txt#0", 7, "二", "其他工作", "other"),
]


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SCHEMAS[name]))


def build_inputs() -> tuple[dict[str, pd.DataFrame], Comparison]:
    files = _frame("files", [
        {"file": "001_a.txt", "path": "c/001_a.txt", "status": "ok", "error": "", "documents": 2, "seconds": 0.25},
        {"file": "002_b.txt", "path": "c/002_b.txt", "status": "ok", "error": "", "documents": 1, "seconds": 0.125},
        {"file": "003_c.txt", "path": "c/003_c.txt", "status": "ok", "error": "", "documents": 1, "seconds": 0.0625},
        {"file": "坏<文件>.txt", "path": "c/坏<文件>.txt", "status": "failed", "stage": "parse",
         "error": "坏<文件>.txt: binary file (NUL bytes)", "seconds": 0.0},
    ])
    documents = _frame("documents", [
        {"doc_id": d, "file": f, "title": t, "kind": k, "hospital": h, "year": y, "start_line": s, "end_line": e,
         "sections": sum(1 for x in _SECTIONS if x[0] == d)}
        for d, f, t, k, h, _g, _src, y, s, e in _DOCS])
    sections = _frame("sections", [
        {"section_id": f"{d}@L{line}", "doc_id": d, "file": d.split("#")[0], "line": line, "outline": outline,
         "title": title, "level": outline.count("/") + 1, "primary_theme": theme, "body": f"{title}。手卫生依从率95%。"}
        for d, line, outline, title, theme in _SECTIONS])
    section_themes = _frame("section_themes", [
        {"section_id": f"{d}@L{line}", "doc_id": d, "file": d.split("#")[0], "line": line, "theme": theme,
         "score": 0.8, "rank": 1, "is_primary": True}
        for d, line, _o, _t, theme in _SECTIONS])
    mentions = _frame("mentions", [
        {"mention_id": "001_a.txt#0:120", "doc_id": "001_a.txt#0", "section_id": "001_a.txt#0@L15",
         "file": "001_a.txt", "line": 16, "start": 120, "type": "percent", "text": "95%", "value": 95.0, "unit": "%"},
        {"mention_id": "001_a.txt#0:20", "doc_id": "001_a.txt#0", "section_id": "001_a.txt#0@L3",
         "file": "001_a.txt", "line": 4, "start": 20, "type": "quantity", "text": "1200份", "value": 1200.0,
         "unit": "份"},
        {"mention_id": "002_b.txt#0:50", "doc_id": "002_b.txt#0", "section_id": "002_b.txt#0@L9",
         "file": "002_b.txt", "line": 10, "start": 50, "type": "activity", "text": "护理查房", "name": "护理查房"},
        {"mention_id": "001_a.txt#0:300", "doc_id": "001_a.txt#0", "section_id": "001_a.txt#0@L22",
         "file": "001_a.txt", "line": 23, "start": 300, "type": "activity", "text": "互联网医院",
         "name": "互联网医院"},
    ])
    tables = {"files": files, "documents": documents, "sections": sections, "mentions": mentions,
              "section_themes": section_themes}

    comp_docs = documents.copy()
    comp_docs["group"] = [g for _d, _f, _t, _k, _h, g, _s, _y, _a, _b in _DOCS]
    comp_docs["group_source"] = [s for _d, _f, _t, _k, _h, _g, s, _y, _a, _b in _DOCS]
    comp_docs["duplicate_of"] = [None, None, None, "001_a.txt#1"]
    group_of = dict(zip(comp_docs.doc_id, comp_docs.group, strict=True))
    year_of = dict(zip(comp_docs.doc_id, comp_docs.year, strict=True))
    counts: dict[tuple, int] = {}
    for d, _line, _o, _t, theme in _SECTIONS:
        key = (group_of[d], year_of[d], theme)
        counts[key] = counts.get(key, 0) + 1
    totals: dict[tuple, int] = {}
    for (g, y, _t), n in counts.items():
        totals[(g, y)] = totals.get((g, y), 0) + n
    profiles = pd.DataFrame([
        {"group": g, "year": y, "theme": t, "sections": n, "chars": 100 * n, "documents": 1,
         "share_sections": n / totals[(g, y)], "share_chars": n / totals[(g, y)], "share_documents": 1.0}
        for (g, y, t), n in sorted(counts.items())])
    theme_graph = nx.Graph()
    theme_graph.add_edge("medical_quality_safety", "infection_control", weight=3)
    theme_graph.add_edge("medical_quality_safety", "informatization", weight=1)
    theme_graph.add_edge("nursing_care", "infection_control", weight=2)
    theme_graph.add_edge("nursing_care", "party_building_integrity", weight=1)
    activity_graph = nx.Graph()
    activity_graph.add_node("北京协和医院", kind="group")
    activity_graph.add_node("某县人民医院", kind="group")
    activity_graph.add_node("互联网医院", kind="activity")
    activity_graph.add_node("护理查房", kind="activity")
    activity_graph.add_edge("北京协和医院", "互联网医院", weight=1)
    activity_graph.add_edge("某县人民医院", "护理查房", weight=2)
    keyword_graph = nx.Graph()
    keyword_graph.add_edge("手卫生", "院感", weight=2)
    keyword_graph.add_edge("病历", "质控", weight=1)
    comparison = Comparison(
        theme_profiles=profiles,
        share_definition="share_sections = sections of the theme / sections of the group in that year",
        distinctive_themes=pd.DataFrame([
            {"group": "北京协和医院", "theme": "medical_quality_safety", "count": 3, "log_odds": 1.2, "z": 2.1},
            {"group": "北京协和医院", "theme": "nursing_care", "count": 0, "log_odds": -1.0, "z": -1.5},
            {"group": "某县人民医院", "theme": "nursing_care", "count": 2, "log_odds": 0.9, "z": 1.7},
        ]),
        distinctive_terms=pd.DataFrame([
            {"group": "北京协和医院", "term": "病历", "count": 4, "log_odds": 1.1, "z": 1.9},
            {"group": "某县人民医院", "term": "护理查房", "count": 2, "log_odds": 0.8, "z": 1.4},
            {"group": "003_c.txt", "term": "<分层级>", "count": 1, "log_odds": 0.5, "z": 0.9},
        ]),
        similarity=pd.DataFrame([
            {"group_a": a, "group_b": b, "cosine": c}
            for a, b, c in [("北京协和医院", "某县人民医院", 0.31), ("某县人民医院", "北京协和医院", 0.31),
                            ("北京协和医院", "003_c.txt", 0.12), ("003_c.txt", "北京协和医院", 0.12),
                            ("某县人民医院", "003_c.txt", 0.74), ("003_c.txt", "某县人民医院", 0.74)]]),
        plan_vs_summary=pd.DataFrame([
            {"theme": "medical_quality_safety", "plan_sections": 1, "summary_sections": 2, "plan_share": 0.25,
             "summary_share": 2 / 7, "difference": 0.25 - 2 / 7},
            {"theme": "nursing_care", "plan_sections": 1, "summary_sections": 2, "plan_share": 0.25,
             "summary_share": 2 / 7, "difference": 0.25 - 2 / 7},
            {"theme": "infection_control", "plan_sections": 1, "summary_sections": 1, "plan_share": 0.25,
             "summary_share": 1 / 7, "difference": 0.25 - 1 / 7},
        ]),
        quantities=pd.DataFrame([
            {"theme": "infection_control", "type": "percent", "unit": "%", "mentions": 1, "total": 95.0,
             "median": 95.0, "min": 95.0, "max": 95.0},
            {"theme": "medical_quality_safety", "type": "quantity", "unit": "份", "mentions": 1, "total": 1200.0,
             "median": 1200.0, "min": 1200.0, "max": 1200.0},
        ]),
        first_activities=pd.DataFrame([
            {"group": "北京协和医院", "activity": "互联网医院", "first_year": 2022, "doc_id": "001_a.txt#0",
             "line": 23, "documents": 1},
            {"group": "某县人民医院", "activity": "护理查房", "first_year": 2022, "doc_id": "002_b.txt#0",
             "line": 10, "documents": 1},
        ]),
        near_duplicates=pd.DataFrame([
            {"doc_a": "001_a.txt#1", "doc_b": "003_c.txt#0", "similarity": 0.93, "group_a": "北京协和医院",
             "group_b": "003_c.txt"}]),
        documents=comp_docs,
        graphs={"theme_cooccurrence": theme_graph, "activity_group": activity_graph,
                "keyword_cooccurrence": keyword_graph},
        centrality=pd.DataFrame([
            {"graph": "theme_cooccurrence", "node": "infection_control", "kind": "theme", "degree": 2,
             "weighted_degree": 5, "betweenness": 0.5, "eigenvector": 0.6},
            {"graph": "activity_group", "node": "护理查房", "kind": "activity", "degree": 1,
             "weighted_degree": 2, "betweenness": 0.0, "eigenvector": 0.5},
        ]),
    )
    return tables, comparison


def empty_inputs() -> tuple[dict[str, pd.DataFrame], Comparison]:
    tables = {name: pd.DataFrame(columns=list(columns)) for name, columns in SCHEMAS.items()}
    empty = pd.DataFrame()
    comparison = Comparison(theme_profiles=empty, share_definition="", distinctive_themes=empty,
                            distinctive_terms=empty, similarity=empty, plan_vs_summary=empty, quantities=empty,
                            first_activities=empty, near_duplicates=empty, documents=empty, graphs={},
                            centrality=None)
    return tables, comparison


RUN_INFO = {"reportmine": "0.1.0", "inputs": ["corpus"], "taxonomy": "shipped", "jobs": 1}


@pytest.fixture(scope="module")
def page() -> str:
    tables, comparison = build_inputs()
    return render_report(tables, comparison, title="测试报告 <v1>", run_info=RUN_INFO)


class _Collect(HTMLParser):
    """Tags, ids, hrefs and every attribute of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "id":
                self.ids.append(value or "")
            if name == "href":
                self.hrefs.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collect:
    parser = _Collect()
    parser.feed(page)
    parser.close()
    return parser


# --- Unit tests ------------------------------------------------------------------------------------


def test_page_is_self_contained(page: str) -> None:
    parsed = parse(page)
    # Nothing fetched: no external scripts, styles, images, frames or fonts.
    assert not {"link", "img", "iframe", "object", "embed", "image", "use"} & set(parsed.tags)
    assert not [a for a in parsed.attrs if a[1] in {"src", "srcset", "xlink:href", "data", "action"}]
    assert all(href.startswith("#") for href in parsed.hrefs)
    assert not [a for a in parsed.attrs if "http:" in a[2] or "https:" in a[2]]
    assert "@import" not in page and "url(" not in page
    assert "script" not in parsed.tags
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


def test_every_link_has_its_anchor(page: str) -> None:
    parsed = parse(page)
    assert len(parsed.ids) == len(set(parsed.ids)), "duplicate ids"
    missing = sorted({h[1:] for h in parsed.hrefs} - set(parsed.ids))
    assert not missing
    assert len(parsed.hrefs) > 50


def test_every_section_listed_with_provenance(page: str) -> None:
    # Each heatmap cell's block lists its sections: document, outline path, file, line.
    appendix = page.split('id="appendix"')[1]
    blocks = re.findall(r'<div class="block" id="sec-g\d+-nursing_care">.*?</div>', appendix)
    assert len(blocks) == 2                     # 某县人民医院 and 003_c.txt have nursing sections
    block = next(b for b in blocks if "某县人民医院" in b)
    assert "二/1" in block and "002_b.txt" in block and ">14<" in block and "开展护理查房和手卫生督查" in block
    assert "护士分层级培训" not in block
    text = "".join(parse(page).text)
    for _doc, _line, _outline, title, _theme in _SECTIONS:
        assert title in text


def test_figure_links_point_to_the_sections_behind_them(page: str) -> None:
    heatmap = page.split('id="heatmap"')[1].split("</section>")[0]
    hrefs = set(re.findall(r'href="#(sec-[^"]+)"', heatmap))
    assert any(h.endswith("-medical_quality_safety") for h in hrefs)
    assert "sec-t-nursing_care" in hrefs    # column headers: the theme in every group
    networks = page.split('id="networks"')[1].split("</section>")[0]
    assert 'href="#sec-t-infection_control"' in networks
    assert re.search(r'href="#sec-act-[0-9a-f]{8}"', networks)
    quantities = page.split('id="quantities"')[1].split("</section>")[0]
    listed = [page.split(f'id="{a}"')[1].split("</div>")[0] for a in re.findall(r'href="#(sec-q-\d+)"', quantities)]
    assert any("95%" in b and "001_a.txt#0" in b for b in listed) and any("1200份" in b for b in listed)


def test_chinese_theme_names_and_ids_shown(page: str) -> None:
    text = "".join(parse(page).text)
    for name_zh, theme_id in [("医疗质量与安全", "medical_quality_safety"), ("医院感染管理", "infection_control"),
                              ("护理管理与优质护理服务", "nursing_care"), ("其他", "other")]:
        assert name_zh in text and theme_id in text
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page
    assert '<html lang="zh-CN">' in page


def test_all_figures_drawn(page: str) -> None:
    for chart in ("heatmap", "legend", "bars", "similarity", "plan-summary", "qbar", "dbar", "network", "bipartite"):
        assert f'class="chart {chart}' in page or f'class="{chart}"' in page or f" {chart}\"" in page, chart
    assert page.count("<svg") >= 10


def test_text_is_escaped(page: str) -> None:
    assert "<script>" not in page and '<script>alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 院感 &amp; 手卫生" in page
    assert "测试报告 &lt;v1&gt;" in page
    assert "坏&lt;文件&gt;.txt: binary file" in page        # the failed file and its error
    assert "&lt;分层级&gt;" in page


def test_summary_counts(page: str) -> None:
    summary = page.split('id="summary"')[1].split("</section>")[0]
    cards = dict((label, value) for value, label in re.findall(r"<b>([^<]*)</b>([^<]+)</div>", summary))
    assert cards["files"] == "4" and cards["failed"] == "1" and cards["documents"] == "4"
    assert cards["sections"] == str(len(_SECTIONS)) and cards["mentions"] == "4"
    assert "binary file (NUL bytes)" in summary


def test_deterministic() -> None:
    one = render_report(*build_inputs(), run_info=RUN_INFO)
    tables, comparison = build_inputs()
    # Row and node order of the inputs must not change the page.
    tables = {name: frame.iloc[::-1].reset_index(drop=True) for name, frame in tables.items()}
    reversed_graph = nx.Graph()
    graph = comparison.graphs["theme_cooccurrence"]
    reversed_graph.add_nodes_from(sorted(graph.nodes, reverse=True))
    reversed_graph.add_edges_from(reversed(list(graph.edges(data=True))))
    comparison.graphs["theme_cooccurrence"] = reversed_graph
    comparison.theme_profiles = comparison.theme_profiles.iloc[::-1]
    two = render_report(tables, comparison, run_info=RUN_INFO)
    assert one == two


@pytest.mark.parametrize("case", ["empty tables", "no tables", "missing columns"])
def test_empty_inputs_render(case: str) -> None:
    tables, comparison = empty_inputs()
    if case == "no tables":
        tables = {}
    elif case == "missing columns":
        tables = {"sections": pd.DataFrame({"x": [1]})}
        comparison.similarity = pd.DataFrame({"group_a": ["甲"]})
    page = render_report(tables, comparison)
    parsed = parse(page)
    assert "Nothing to show" in page
    assert not sorted({h[1:] for h in parsed.hrefs} - set(parsed.ids))
    for anchor in ("summary", "heatmap", "profiles", "networks", "appendix"):
        assert anchor in parsed.ids


def test_write_report_is_atomic(tmp_path: Path, page: str) -> None:
    out = tmp_path / "out"
    path = write_report(page, out)
    assert path == out / "report.html"
    assert path.read_text("utf-8") == page
    write_report("<!DOCTYPE html><title>2</title>", out)
    assert path.read_text("utf-8") == "<!DOCTYPE html><title>2</title>"
    assert [p.name for p in out.iterdir()] == ["report.html"]     # no temporary files left behind


# --- In a real browser -----------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


#: Flags for headless Chromium on a machine with no network and no GPU, run as root
#: (without the background-networking flags it tries Google's hosts at every start).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
def test_report_opens_in_chromium(tmp_path: Path, page: str) -> None:
    chromium = _chromium()
    # Skips without a browser, except in CI (REPORTMINE_REQUIRE_BROWSER), where it fails.
    need("a chromium binary on PATH", chromium is not None, "Debian: apt-get install chromium fonts-noto-cjk")
    assert chromium is not None
    path = write_report(page, tmp_path / "out")
    url = path.resolve().as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)

    shot = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile1'}", f"--screenshot={screenshot}",
         "--window-size=1400,2400", "--hide-scrollbars", url],
        capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.is_file()
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 1400 and int.from_bytes(png[20:24], "big") == 2400
    print(f"\nscreenshot: {screenshot}")

    dump = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = dump.stdout
    # The DOM is the page after the browser parsed it: the charts are there as SVG elements.
    for chart in ("chart heatmap", "chart bars", "chart similarity", "chart plan-summary", "chart network"):
        assert f'<svg class="{chart}' in dom, chart
    assert dom.count("<svg") == page.count("<svg")
    assert "北京协和医院" in dom and "医院感染管理" in dom
    for problem in ("Uncaught", "Failed to load resource", "ERR_FILE_NOT_FOUND"):
        assert problem not in dump.stderr, dump.stderr[-2000:]


def test_renders_the_real_tables_of_the_sample_corpus() -> None:
    # The tables' own dtypes (nullable Int64, string, boolean) and ids, from a real run of the sample corpus;
    # the comparison is a minimal one, so that this test does not wait on compare.py.
    import reportmine
    from reportmine.pipeline import run_files
    from reportmine.settings import Settings
    from reportmine.store.rows import build_tables

    # Parse and classify only: mention extraction is not this module's concern (and comes later).
    options = Settings(stages=("parse", "classify"))
    tables = build_tables(run_files(sorted(reportmine.sample_corpus().glob("*.txt")), options))
    assert len(tables["sections"]) and len(tables["section_themes"])
    documents = tables["documents"].copy()
    documents["group"] = documents["hospital"].fillna(documents["file"])
    documents["group_source"] = "file"
    documents["duplicate_of"] = None
    _, empty = empty_inputs()
    empty.documents = documents
    page = render_report(tables, empty)
    parsed = parse(page)
    assert not sorted({h[1:] for h in parsed.hrefs} - set(parsed.ids))
    text = "".join(parsed.text)
    first = tables["sections"].iloc[0]
    assert first["title"][:20] in text and str(first["doc_id"]) in text
    assert page == render_report(tables, empty)


# --- Size: bounded by the groups and themes shown, not by the sections -------------------------------

_THEMES = ("medical_quality_safety", "infection_control", "nursing_care", "informatization", "talent_training")
_HANZI = [chr(c) for c in range(0x4e00, 0x9fa5)]
_PHRASES = ("加强院感防控，落实手卫生", "开展护理查房和优质护理服务", "推进智慧医院建设，完善电子病历",
            "落实核心制度，开展病历质控", "人才培养，组织业务培训")


def _corpus_tables(docs_per_group: int, groups: int = 32) -> dict[str, pd.DataFrame]:
    """``groups`` hospitals of ``docs_per_group`` reports, five sections each, one per theme, with mentions.

    Each body ends in random characters, so that no report is a near duplicate of another.
    """
    import random

    rng = random.Random(3)
    documents, sections, themes, mentions = [], [], [], []
    for g in range(groups):
        for k in range(docs_per_group):
            did = f"h{g:02d}_{k:04d}.txt#0"
            documents.append({"doc_id": did, "file": did[:-2], "kind": ("summary", "plan")[k % 2],
                              "hospital": f"第{g}人民医院", "year": 2015 + k % 5, "start_line": 1, "end_line": 30})
            for j in range(5):
                theme = _THEMES[(g + j) % 5 if j else g % 5]
                sid = f"{did}@L{2 + 5 * j}"
                sections.append({"section_id": sid, "doc_id": did, "file": did[:-2], "line": 2 + 5 * j,
                                 "outline": "一二三四五"[j], "title": _PHRASES[(g + j) % 5],
                                 "primary_theme": theme, "body": f"{_PHRASES[j]}，全年完成{k + j}项。"
                                 + "".join(rng.choices(_HANZI, k=40))})
                themes.append({"section_id": sid, "doc_id": did, "theme": theme, "rank": 1, "is_primary": True})
                mentions.append({"mention_id": f"{did}:{j}", "doc_id": did, "section_id": sid, "file": did[:-2],
                                 "line": 3 + 5 * j, "start": 100 * j, "type": "quantity", "text": f"{k + j}项",
                                 "value": float(k + j), "unit": "项"})
    return {"files": _frame("files", [{"file": d["file"], "status": "ok", "error": ""} for d in documents]),
            "documents": _frame("documents", documents), "sections": _frame("sections", sections),
            "section_themes": _frame("section_themes", themes), "mentions": _frame("mentions", mentions)}


@pytest.mark.slow
def test_report_size_is_bounded_by_groups_not_sections() -> None:
    from reportmine.compare import compare

    sizes, pages = [], []
    # 3,200 and 32,000 sections of the same 32 groups and 5 themes: every block of the smaller one is full already.
    for docs_per_group in (20, 200):
        tables = _corpus_tables(docs_per_group)
        page = render_report(tables, compare(tables), run_info=RUN_INFO)
        sizes.append(len(page.encode("utf-8")))
        pages.append(page)
    assert sizes[1] < 1.5 * sizes[0], sizes
    big = pages[1]
    parsed = parse(big)
    assert not sorted({h[1:] for h in parsed.hrefs} - set(parsed.ids))
    # The largest 30 groups are drawn, the other 2 named as being in the comparison tables.
    assert "2 more are in" in big and "OUT/comparison/" in big
    # A block lists its first sections, says how many there are and how to list them all.
    block = big.split('id="sec-t-nursing_care"')[1].split('<div class="block"')[0]
    assert block.count("<tr>") == 1 + 20 and "First 20 of 6,400" in block
    assert "SELECT s.doc_id, s.outline, s.file, s.line, s.title FROM sections s" in block
    assert "p.theme = &#x27;nursing_care&#x27;" in block


# --- The appendix blocks: filled in DuckDB and numpy, as the first heap-based pass filled them ------------

def _reference_keep(block, key: tuple[Any, ...], row: Any) -> Any:
    """Count a row in ``block`` and keep it if among the block's first :data:`report_data.SECTION_CAP` by ``key``.

    ``row`` is the row's dict, or a function making it: most rows of a large
    corpus are only counted, so their dict is built only when a block keeps
    one. Returns the row's dict if it was made, else ``row`` as given.
    """
    import heapq

    block.total += 1
    heap = block.__dict__.setdefault("reference_heap", [])   # the block's own heap, in the first version
    if len(heap) < report_data.SECTION_CAP or key < heap[0][0].key:
        if callable(row):
            row = row()
        item = (_ReferenceNeg(key), block.total, row)   # a max-heap of the smallest keys: the largest is dropped first
        if len(heap) < report_data.SECTION_CAP:
            heapq.heappush(heap, item)
        else:
            heapq.heapreplace(heap, item)
    return row


class _ReferenceNeg:
    """A sort key reversed, so that heapq's min-heap keeps the smallest keys."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _ReferenceNeg) -> bool:
        return self.key > other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ReferenceNeg) and self.key == other.key



def _reference_fill_blocks(facts, blocks) -> None:
    """The first implementation: every row through a bounded heap per block, in Python."""
    if not blocks.by_anchor:
        return
    source = report_data.open_source(facts.tables, facts.documents)
    try:
        wanted: set[str] = set()
        if blocks.by_mention:
            query = (f"SELECT m.doc_id, m.section_id, m.file, m.line, m.start, m.type, m.text, m.unit, "
                     f"coalesce(m.name, m.text) AS activity, s.theme FROM mentions m "
                     f"LEFT JOIN (SELECT section_id, theme FROM {report_data.SECTIONS}) s ON s.section_id = m.section_id")
            for batch in source.batches(query):
                columns = list(batch.items())
                doc_ids, files, starts = batch["doc_id"], batch["file"], batch["start"]
                types, units, themes, activities = batch["type"], batch["unit"], batch["theme"], batch["activity"]
                for i in range(len(doc_ids)):
                    row: Any = functools.partial(report_data.row_at, columns, i)   # a dict only if a block keeps it
                    kind = types[i] or "unknown"
                    targets = [blocks.by_mention.get(("type", kind))]
                    if types[i] == "activity":
                        targets.append(blocks.by_mention.get(("activity", activities[i])))
                    targets.append(blocks.by_mention.get(("quantity", (kind, units[i] or "", themes[i]))))
                    key = (str(doc_ids[i] or files[i]), starts[i] or 0)
                    for block in targets:
                        if block is not None:
                            row = _reference_keep(block, key, row)
            for block in blocks.by_mention.values():
                wanted.update(str(r[2]["section_id"]) for r in block.__dict__.get("reference_heap", []) if r[2]["section_id"])
        lookup: dict[str, dict[str, Any]] = {}
        # Text blocks by group, so that a section is searched only for its own group's needles and the global ones.
        everywhere = [(needle, block) for needle, where, block in blocks.by_text if where is None]
        by_text_group: dict[str, list[tuple[str, Any]]] = {}
        for needle, where, block in blocks.by_text:
            if where is not None:
                by_text_group.setdefault(where, list(everywhere)).append((needle, block))
        if blocks.by_group_theme or blocks.by_theme or blocks.by_kind_theme or blocks.by_text or wanted:
            for batch in source.batches(f"SELECT * FROM {report_data.SECTIONS}"):
                columns = list(batch.items())
                section_ids, doc_ids, lines = batch["section_id"], batch["doc_id"], batch["line"]
                groups, themes, kinds = batch["grp"], batch["theme"], batch["kind"]
                outlines, titles, bodies = batch["outline"], batch["title"], batch["body"]
                for i in range(len(section_ids)):
                    row = functools.partial(report_data.row_at, columns, i)
                    section_id = section_ids[i]
                    if section_id in wanted:
                        lookup[section_id] = {"outline": outlines[i], "title": titles[i]}
                    group, theme = groups[i], themes[i]
                    key = (str(doc_ids[i]), lines[i] or 0, section_id)
                    for block in (blocks.by_group_theme.get((group, theme)), blocks.by_theme.get(theme),
                                  blocks.by_kind_theme.get((kinds[i], theme))):
                        if block is not None:
                            row = _reference_keep(block, key, row)
                    needles = by_text_group.get(group, everywhere) if blocks.by_text else ()
                    if needles:
                        text = f"{titles[i] or ''}\n{bodies[i] or ''}".lower()
                        for needle, block in needles:
                            if needle in text:
                                row = _reference_keep(block, key, row)
    finally:
        source.close()
    for block in blocks.by_anchor.values():
        block.rows = [item[2] for item in sorted(block.__dict__.get("reference_heap", []), key=lambda item: item[0].key)]
        block.__dict__.pop("reference_heap", None)
        if block.mentions:
            for row in block.rows:
                row["section"] = lookup.get(str(row.get("section_id")), {})


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["sample", "generated"])
def test_blocks_are_filled_as_the_heap_pass_filled_them(corpus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same page, every block's rows and totals included, from the SQL/numpy fill and the reference."""
    import reportmine
    from reportmine.compare import compare

    if corpus == "sample":
        tables = reportmine.analyze().tables.copy()
    else:
        tables = _corpus_tables(docs_per_group=12)
    comparison = compare(tables)
    page = render_report(tables, comparison)
    monkeypatch.setattr(report_appendix, "fill_blocks", _reference_fill_blocks)
    assert render_report(tables, comparison) == page
    assert "sec-kw-" in page and "sec-m-" in page   # keyword (text) and mention blocks were filled
