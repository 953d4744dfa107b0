"""analyze end to end: a small corpus of two hospitals whose answers are known, and a corpus with bad files."""

from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

import reportmine
from reportmine.cli import app
from reportmine.store.schemas import SCHEMAS

#: The mention extractor (stage 5) is a separate module; the rest of analyze is tested without it.
HAS_MENTIONS = importlib.util.find_spec("reportmine.mentions") is not None
needs_mentions = pytest.mark.skipif(not HAS_MENTIONS, reason="reportmine.mentions (the extract stage) not there yet")

BENGBU, LIANZHOU = "蚌埠市第一人民医院", "连州市人民医院"

# Two hospitals, two reports each, in the style of the sample corpus (titles as in 000 and 002).
# 蚌埠 writes mostly about nursing, 连州 mostly about infection control; both about talent training.
CORPUS = {
    "bengbu_2016_nursing_summary.txt": """蚌埠市第一人民医院2016年护理工作总结

2016年，在院党委的正确领导下，我院护理部紧紧围绕优质护理服务目标，扎实开展各项护理工作，现总结如下。
一、深化优质护理服务
全院推行责任制整体护理，优质护理病区覆盖率达到100%，护士长每周组织护理查房，分级护理和基础护理落实到位，护理质量持续提高，开展“优质护理服务示范工程”活动。
二、加强护理安全管理
完善护理不良事件上报制度，开展压疮和跌倒坠床风险评估，每月检查护理文书，护理文书合格率达到98%。
三、加强人才培养和业务培训
全年组织业务培训18小时，开展新护士岗前培训2期，选派业务骨干外出进修5人，人才队伍梯队建设初见成效。

蚌埠市第一人民医院护理部
2016年12月30日
""",
    "bengbu_2017_nursing_plan.txt": """蚌埠市第一人民医院2017年护理工作计划

为进一步提高护理质量，结合我院实际，特制定2017年护理工作计划。
一、持续推进优质护理服务
扩大优质护理覆盖面，落实责任制整体护理和专科护理，护士长加强护理质量督查，提高患者满意度，继续开展“优质护理服务示范工程”活动。
二、强化院感防控
严格落实手卫生和消毒隔离制度，院感科每月开展医院感染督查，降低院内感染发生率。
三、加强人才培养
制定人才培养计划，计划开展业务培训20小时，选送青年骨干进修学习，继续医学教育学分达标率100%。

蚌埠市第一人民医院护理部
2017年1月5日
""",
    "lianzhou_2016_infection_summary.txt": """连州市人民医院2016年医院感染管理工作总结

2016年，我院在上级卫生行政部门的指导下，认真落实医院感染管理各项制度，现将全年工作总结如下。
一、健全医院感染管理组织
调整医院感染管理委员会，各科室设立感控医生和感控护士，院感科每月召开院感例会，医院感染管理网络进一步完善。
二、落实手卫生和消毒隔离
开展“手卫生宣传周”活动，全院手卫生依从率达到85%，严格消毒隔离和无菌操作，加强多重耐药菌监测，全年院内感染发生率0.8%。
三、加强人才队伍建设
引进硕士研究生3人，开展新技术40项，开展业务培训24小时，选派业务骨干进修4人，继续医学教育全面完成。

连州市人民医院
2016年12月28日
""",
    "lianzhou_2017_infection_summary.txt": """连州市人民医院2017年医院感染管理工作总结

2017年，我院医院感染管理工作在院领导的重视下稳步推进，现总结如下。
一、加强医院感染控制
院感科全年开展医院感染督查12次，开展“手卫生宣传周”活动，落实消毒隔离和手卫生制度，消毒灭菌效果监测合格率100%。
二、强化目标性监测
开展重症监护室目标性监测和环境卫生学监测，多重耐药菌感染病例全部上报，院内感染发生率控制在1%以下。
三、提升优质护理服务
落实责任制整体护理，护士长每周组织护理查房，优质护理病区达到10个。

连州市人民医院
2017年12月29日
""",
}

#: Section (file, heading line) -> primary theme, read off the headings and bodies above.
PRIMARY_THEMES = {
    ("bengbu_2016_nursing_summary.txt", 4): "nursing_care",
    ("bengbu_2016_nursing_summary.txt", 6): "nursing_care",
    ("bengbu_2016_nursing_summary.txt", 8): "talent_training",
    ("bengbu_2017_nursing_plan.txt", 4): "nursing_care",
    ("bengbu_2017_nursing_plan.txt", 6): "infection_control",
    ("bengbu_2017_nursing_plan.txt", 8): "talent_training",
    ("lianzhou_2016_infection_summary.txt", 4): "infection_control",
    ("lianzhou_2016_infection_summary.txt", 6): "infection_control",
    ("lianzhou_2016_infection_summary.txt", 8): "talent_training",
    ("lianzhou_2017_infection_summary.txt", 4): "infection_control",
    ("lianzhou_2017_infection_summary.txt", 6): "infection_control",
    ("lianzhou_2017_infection_summary.txt", 8): "nursing_care",
}


@pytest.fixture(scope="module")
def _extract_stage():
    """Without the mention extractor, stand in one that finds nothing, so the other stages still run."""
    if HAS_MENTIONS:
        yield
        return
    stub = types.ModuleType("reportmine.mentions")
    stub.extract_parsed = lambda parsed: []
    sys.modules["reportmine.mentions"] = stub
    yield
    sys.modules.pop("reportmine.mentions", None)


def write_corpus(folder: Path, files: dict[str, str | bytes] = CORPUS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory, _extract_stage):
    base = tmp_path_factory.mktemp("analyze")
    analysis = reportmine.analyze(write_corpus(base / "corpus"), jobs=1)
    out = base / "out"
    written = analysis.write(out)
    return analysis, out, written


def test_every_table_has_its_schema(run) -> None:
    analysis, _, _ = run
    for name, columns in SCHEMAS.items():
        assert list(analysis.tables[name].columns) == list(columns), name
    assert analysis.summary["files"] == 4 and analysis.summary["failed"] == 0
    assert list(analysis.files.status) == ["ok"] * 4


def test_hospitals_years_and_kinds(run) -> None:
    analysis, _, _ = run
    docs = analysis.documents.sort_values("file")
    assert list(docs.hospital) == [BENGBU, BENGBU, LIANZHOU, LIANZHOU]
    assert list(docs.year) == [2016, 2017, 2016, 2017]
    assert list(docs.kind) == ["summary", "plan", "summary", "summary"]
    groups = analysis.comparison.documents.set_index("doc_id")
    assert groups.group.value_counts().to_dict() == {BENGBU: 2, LIANZHOU: 2}
    assert "file" not in set(groups.group_source)
    assert groups.duplicate_of.isna().all()
    assert analysis.comparison.near_duplicates.empty    # two hospitals' own words, no template copied


def test_primary_themes_of_sections(run) -> None:
    analysis, _, _ = run
    sections = analysis.sections
    found = {(f, int(line)): theme for f, line, theme in zip(sections.file, sections.line, sections.primary_theme,
                                                             strict=True)}
    assert found == PRIMARY_THEMES


def test_theme_profiles_and_similarity(run) -> None:
    comparison = run[0].comparison
    shares = {(g, int(y), t): s for g, y, t, s in comparison.theme_profiles[["group", "year", "theme",
                                                                             "share_sections"]].itertuples(index=False)}
    # 蚌埠 2016: nursing 2 of 3 sections, talent 1; 2017 (the plan): nursing, infection, talent one each.
    assert shares[(BENGBU, 2016, "nursing_care")] == pytest.approx(2 / 3, abs=1e-6)
    assert shares[(BENGBU, 2017, "infection_control")] == pytest.approx(1 / 3, abs=1e-6)
    assert shares[(LIANZHOU, 2017, "infection_control")] == pytest.approx(2 / 3, abs=1e-6)
    assert len(shares) == 9
    # Pooled profiles (nursing, infection, talent): 蚌埠 (3, 1, 2), 连州 (1, 4, 1): cosine 9 / √(14·18).
    sim = comparison.similarity
    assert len(sim) == 2
    assert sim.cosine.tolist() == pytest.approx([9 / math.sqrt(14 * 18)] * 2, abs=1e-6)
    top = comparison.distinctive_themes.groupby("group").head(1).set_index("group").theme.to_dict()
    assert top == {BENGBU: "nursing_care", LIANZHOU: "infection_control"}
    # Plan (蚌埠 2017) vs the three summaries' nine sections.
    pvs = comparison.plan_vs_summary.set_index("theme")
    assert pvs.loc["infection_control", "plan_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert pvs.loc["infection_control", "summary_share"] == pytest.approx(4 / 9, abs=1e-6)
    theme_graph = comparison.graphs["theme_cooccurrence"]
    # Each document holds three themes; nursing and infection meet in 蚌埠 2017 and 连州 2017.
    assert theme_graph["infection_control"]["nursing_care"]["weight"] == 2


def test_written_outputs(run) -> None:
    analysis, out, written = run
    for name in SCHEMAS:
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert list(frame.columns) == list(SCHEMAS[name])
        assert len(frame) == len(analysis.tables[name])
        assert list(pd.read_csv(out / f"{name}.csv").columns) == list(SCHEMAS[name])
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT d.hospital, count(*) FROM sections s JOIN documents d USING (doc_id) "
                           "GROUP BY d.hospital ORDER BY d.hospital").fetchall()
    assert dict(rows) == {BENGBU: 6, LIANZHOU: 6}
    graphs = sorted(p.name for p in (out / "graphs").iterdir())
    assert graphs == sorted(f"{g}.{ext}" for g in ("theme_cooccurrence", "activity_group", "keyword_cooccurrence")
                            for ext in ("gexf", "graphml"))
    back = nx.read_graphml(out / "graphs" / "theme_cooccurrence.graphml")
    assert sorted(back.nodes) == ["infection_control", "nursing_care", "talent_training"]
    html = (out / "report.html").read_text("utf-8")
    assert BENGBU in html and LIANZHOU in html and "医院感染管理" in html
    assert {p.name for p in written["report"]} == {"report.html"}
    assert reportmine.load_tables(out)["sections"].primary_theme.tolist() == analysis.sections.primary_theme.tolist()


def test_comparison_tables_written(run) -> None:
    from reportmine.compare import COLUMNS

    analysis, out, written = run
    assert sorted(p.name for p in written["comparison"]) == sorted(
        f"{name}.{ext}" for name in COLUMNS for ext in ("csv", "parquet"))
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        for name, columns in COLUMNS.items():
            expected = getattr(analysis.comparison, name)
            frame = pd.read_parquet(out / "comparison" / f"{name}.parquet")
            assert list(frame.columns) == list(columns) and len(frame) == len(expected), name
            assert list(pd.read_csv(out / "comparison" / f"{name}.csv").columns) == list(columns), name
            assert con.execute(f'SELECT count(*) FROM "comparison_{name}"').fetchone()[0] == len(expected), name
    profiles = pd.read_parquet(out / "comparison" / "theme_profiles.parquet")
    pd.testing.assert_frame_equal(profiles, analysis.comparison.theme_profiles)


def test_same_corpus_same_bytes(tmp_path: Path, monkeypatch, _extract_stage) -> None:
    # Relative paths, so that the path column is the same in both runs; files.csv holds timings.
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "corpus")
    for out in ("out1", "out2"):
        reportmine.analyze("corpus", jobs=1).write(out)
    names = [*(f"{t}.csv" for t in SCHEMAS if t != "files"), *(f"graphs/{p.name}" for p in Path("out1/graphs").iterdir()),
             *(f"comparison/{p.name}" for p in Path("out1/comparison").iterdir()), "report.html"]
    assert len(names) == 4 + 6 + 18 + 1
    for name in names:
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes(), name


@needs_mentions
def test_quantities_per_theme(run) -> None:
    quantities = run[0].comparison.quantities
    hours = quantities[(quantities.theme == "talent_training") & (quantities.unit == "小时")]
    # 培训18小时 (蚌埠 2016), 培训20小时 (蚌埠 2017), 培训24小时 (连州 2016): all in talent sections.
    assert hours[["mentions", "total", "median", "min", "max"]].values.tolist() == [[3, 62.0, 20.0, 18.0, 24.0]]
    items = quantities[(quantities.theme == "talent_training") & (quantities.unit == "项")]
    assert items.total.tolist() == [40.0]                  # 开展新技术40项


@needs_mentions
def test_first_activities(run) -> None:
    first = run[0].comparison.first_activities
    rows = {(g, a): (int(y), d, n) for g, a, y, d, n in
            first[["group", "activity", "first_year", "doc_id", "documents"]].itertuples(index=False)}
    assert rows[(BENGBU, "优质护理服务示范工程")] == (2016, "bengbu_2016_nursing_summary.txt#0", 2)
    assert rows[(LIANZHOU, "手卫生宣传周")] == (2016, "lianzhou_2016_infection_summary.txt#0", 2)
    graph = run[0].comparison.graphs["activity_group"]
    assert graph[BENGBU]["优质护理服务示范工程"]["weight"] == 2


# --- Bad files ------------------------------------------------------------------------------------

BAD = {
    "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "empty.txt": b"",
    "garbled.txt": bytes([0x81, 0x30, 0xFF, 0xFE, 0xC0, 0x80] * 30),     # neither UTF-8, GB18030 nor UTF-16
}


def test_bad_files_are_listed_and_the_rest_analysed(tmp_path: Path, _extract_stage) -> None:
    folder = write_corpus(tmp_path / "corpus", {**CORPUS, **BAD})
    analysis = reportmine.analyze(folder, jobs=1)
    files = analysis.files.set_index("file")
    assert set(files.index[files.status == "failed"]) == set(BAD)
    for name in BAD:
        assert name in files.loc[name, "error"]
    assert "empty" in files.loc["empty.txt", "error"] and "binary" in files.loc["binary.txt", "error"]
    assert set(files.index[files.status == "ok"]) == set(CORPUS)
    assert len(analysis.documents) == 4 and set(analysis.comparison.documents.group) == {BENGBU, LIANZHOU}
    analysis.write(tmp_path / "out")
    assert (tmp_path / "out" / "report.html").is_file()


def test_cli_exits_1_when_a_file_fails(tmp_path: Path, _extract_stage) -> None:
    folder = write_corpus(tmp_path / "corpus", {**CORPUS, "binary.txt": BAD["binary.txt"]})
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(folder), "-o", str(out), "--jobs", "1", "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "binary.txt" in result.stderr
    files = reportmine.load_tables(out)["files"]
    assert files.set_index("file").status.to_dict()["binary.txt"] == "failed"
    assert (files.status == "ok").sum() == 4


def test_every_file_failing_still_writes_a_run(tmp_path: Path, _extract_stage) -> None:
    folder = write_corpus(tmp_path / "corpus", BAD)
    analysis = reportmine.analyze(folder, jobs=1)
    assert analysis.summary["ok"] == 0 and analysis.documents.empty
    assert analysis.comparison.theme_profiles.empty and analysis.comparison.near_duplicates.empty
    analysis.write(tmp_path / "out")
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "reportmine.duckdb").is_file()


def test_run_info_names_the_processes_used(tmp_path) -> None:
    """--jobs 0 (the default: all cores) is recorded as the number of processes it meant."""
    import json
    import os

    from typer.testing import CliRunner

    from reportmine.cli import app

    result = CliRunner().invoke(app, ["analyze", "-o", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "run.json").read_text("utf-8"))["run_info"]["jobs"] == (os.cpu_count() or 1)
