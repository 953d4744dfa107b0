"""Every writer accepts any text.

Control characters: a control character in an activity name, a title, a heading or a
file name used to crash ``analyze`` while writing GraphML (and left GEXF
malformed, and no report). Now characters XML and HTML cannot hold are
written as visible ``\\uXXXX`` escapes in the graphs and the report, and kept
raw in CSV, Parquet and DuckDB.

Formula injection: text cells starting with ``= + - @``, tab or CR are prefixed with
``'`` in every CSV output (OWASP's CSV-injection rule); Parquet and DuckDB
keep the raw text, and numbers (negative ones too) stay numbers.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

import reportmine
from reportmine import compare, report
from reportmine.cli import app

# --- Control characters -------------------------------------------------------------------------------------

#: Every C0 control but tab, newline and CR (NUL: see test_nul_and_lone_surrogates; a file holding one is
#: rejected as binary), DEL, a C1 control (NEL), the two BMP noncharacters, and U+2028 (valid: kept as it is).
CONTROLS = ([chr(c) for c in range(1, 0x20) if chr(c) not in "\t\n\r"]
            + ["\x7f", "\x85", "\ufffe", "\uffff", "\u2028"])
#: What XML 1.0 allows (its Char production); the graph files and the page must hold nothing else.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def shown(char: str) -> str:
    """The documented form of ``char`` in the graph files and the report: a visible escape, U+2028 as it is."""
    return char if char == "\u2028" else f"\\u{ord(char):04x}"


def _name(i: int) -> str:
    return f"U+{ord(CONTROLS[i]):04X}"


def _filler(k: int, lines: int = 12) -> str:
    # Figures differ from file to file, so no two reports are near duplicates (those are left out of the graphs).
    return "".join(f"{m}月收治患者{k * 131 + m * 17}人，手术{k * 29 + m * 3}台，床位使用率{k + m * 7}%。\n"
                   for m in range(1, lines + 1))


@pytest.fixture(scope="module")
def control_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A corpus with every control character in an activity name, a heading, a title and a file name, analysed
    and written. Two characters a file, so that every group (a file) is among the report's largest."""
    root = tmp_path_factory.mktemp("controls")
    src, out = root / "in", root / "out"
    src.mkdir()
    files: dict[int, str] = {}
    for k in range(0, len(CONTROLS), 2):
        pair = list(range(k, min(k + 2, len(CONTROLS))))
        chars = [CONTROLS[i] for i in pair]
        text = f"某医院{2000 + k}年工作{''.join(chars)}总结\n"
        for marker, i in zip("一二", pair, strict=False):
            c = CONTROLS[i]
            text += f"{marker}、加强{c}管理{i}\n开展“健康{c}快车{i}”活动，组织义诊{i + 20}次。\n"
        # Enough ordinary text that the controls stay under the share that marks a file as binary.
        text += _filler(k, 40)
        name = f"{k:02d}{''.join(chars)}x.txt"
        try:
            (src / name).write_text(text, encoding="utf-8")
        except (OSError, UnicodeEncodeError):  # a filesystem that refuses the name: the text still has them
            name = f"{k:02d}x.txt"
            (src / name).write_text(text, encoding="utf-8")
        files.update(dict.fromkeys(pair, name))
    analysis = reportmine.analyze(src, out=out)
    analysis.write(out)
    return {"out": out, "files": files, "analysis": analysis}


def _page_text(page: str) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(page)
    parser.close()
    return "".join(parser.parts)


def _check_report(page: str, charts: bool = True) -> str:
    """The page holds only characters XML allows, every inline SVG is well-formed XML; returns its text."""
    bad = NOT_XML.search(page)
    assert bad is None, f"character {bad.group()!r} in the page"
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert bool(svgs) == charts
    for svg in svgs:
        ET.fromstring(svg)
    return _page_text(page)


def _expected(run: dict, i: int, escaped: bool) -> list[str]:
    """The texts of character ``i`` every output must hold: escaped (graphs, report) or raw (CSV)."""
    def form(text: str) -> str:
        return "".join(shown(x) if escaped and x in CONTROLS else x for x in text)

    texts = [form(f"健康{CONTROLS[i]}快车{i}")]
    if CONTROLS[i] in run["files"][i]:
        texts.append(form(run["files"][i]))
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("i", range(len(CONTROLS)), ids=_name)
@pytest.mark.parametrize("kind", ["gexf", "graphml"])
def test_control_character_in_graph_files(control_run: dict, kind: str, i: int) -> None:
    graphs = sorted((control_run["out"] / "graphs").glob(f"*.{kind}"))
    assert {p.stem for p in graphs} == {"activity_group", "keyword_cooccurrence", "theme_cooccurrence"}
    for path in graphs:
        raw = path.read_text("utf-8")
        assert NOT_XML.search(raw) is None, path
        ET.parse(path)
    graph = (nx.read_gexf if kind == "gexf" else nx.read_graphml)(control_run["out"] / "graphs" / f"activity_group.{kind}")
    for text in _expected(control_run, i, escaped=True):
        assert text in graph.nodes, (text, sorted(graph.nodes))
    # Distinct names stay distinct: one node per activity and per group.
    assert graph.number_of_nodes() == len(CONTROLS) + len(set(control_run["files"].values()))


@pytest.mark.parametrize("i", range(len(CONTROLS)), ids=_name)
def test_control_character_in_report(control_run: dict, i: int) -> None:
    c = CONTROLS[i]
    text = _check_report((control_run["out"] / "report.html").read_text("utf-8"))
    form = shown(c)
    for expected in [*_expected(control_run, i, escaped=True), f"加强{form}管理{i}"]:
        assert expected in text, expected
    k = i - i % 2
    title = f"某医院{2000 + k}年工作{''.join(shown(x) for x in CONTROLS[k:k + 2])}总结"
    assert title in text


@pytest.mark.parametrize("i", range(len(CONTROLS)), ids=_name)
def test_control_character_in_table_csv(control_run: dict, i: int) -> None:
    out, c = control_run["out"], CONTROLS[i]
    sections = pd.read_csv(out / "sections.csv", dtype=str, keep_default_na=False)
    assert f"加强{c}管理{i}" in set(sections["title"])
    documents = pd.read_csv(out / "documents.csv", dtype=str, keep_default_na=False)
    assert any(f"工作{c}" in t or f"{c}总结" in t for t in documents["title"])
    with open(out / "mentions.csv", encoding="utf-8", newline="") as handle:
        names = {row["name"] for row in csv.DictReader(handle)}
    assert f"健康{c}快车{i}" in names
    files = pd.read_csv(out / "files.csv", dtype=str, keep_default_na=False)
    assert control_run["files"][i] in set(files["file"])
    assert set(files["status"]) == {"ok"}


@pytest.mark.parametrize("i", range(len(CONTROLS)), ids=_name)
def test_control_character_in_comparison_csv(control_run: dict, i: int) -> None:
    c = CONTROLS[i]
    first = pd.read_csv(control_run["out"] / "comparison" / "first_activities.csv", dtype=str, keep_default_na=False)
    rows = first[first["activity"] == f"健康{c}快车{i}"]
    assert list(rows["group"]) == [control_run["files"][i]]
    with open(control_run["out"] / "comparison" / "centrality.csv", encoding="utf-8", newline="") as handle:
        assert f"健康{c}快车{i}" in {row["node"] for row in csv.DictReader(handle)}


WEIRD = ["\x00", "\ud800", "\udfff", "\x0b", "\x1b", "\ufffe", "\U0001fffe"]


def test_nul_and_lone_surrogates(tmp_path: Path) -> None:
    """Characters no input file can carry (NUL; lone surrogates, as undecodable file names become) still
    reach neither a graph file nor the page raw."""
    graph = nx.Graph()
    for i, c in enumerate(WEIRD):
        graph.add_node(f"n{c}{i}", kind=f"k{c}", note=None, score=float("nan"))
        graph.add_edge(f"n{c}{i}", "hub", label=f"e{c}")
    paths = compare.export_graphs({"g": graph}, tmp_path / "graphs")
    assert [p.name for p in paths] == ["g.gexf", "g.graphml"]
    for path, read in zip(paths, (nx.read_gexf, nx.read_graphml), strict=True):
        assert NOT_XML.search(path.read_text("utf-8")) is None
        back = read(path)
        assert back.number_of_nodes() == len(WEIRD) + 1
        for i, c in enumerate(WEIRD):
            form = f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
            assert f"n{form}{i}" in back.nodes
            assert back.nodes[f"n{form}{i}"]["kind"] == f"k{form}"
    title = "报告" + "".join(WEIRD)
    page = report.render_report({}, compare.compare({}), title=title)
    written = report.write_report(page, tmp_path)
    text = _check_report(written.read_text("utf-8"), charts=False)
    assert "报告\\u0000\\ud800\\udfff\\u000b\\u001b\\ufffe\\U0001fffe" in text
    # A page built elsewhere is written too, never half: escaped the same way.
    report.write_report(f"<p>{title}</p>", tmp_path / "other")
    assert NOT_XML.search((tmp_path / "other" / "report.html").read_text("utf-8")) is None


def test_graph_node_ids_stay_unique(tmp_path: Path) -> None:
    """Names differing only in a control character, or in its escape's text, or str vs int, stay apart."""
    names = ["a\x0bb", "ab", "a\\u000bb", "a\x0cb", 1, "1"]
    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_edges_from((n, "hub") for n in names)
    gexf, graphml = compare.export_graphs({"g": graph}, tmp_path)
    for back in (nx.read_gexf(gexf), nx.read_graphml(graphml)):
        assert back.number_of_nodes() == len(names) + 1
        assert back.number_of_edges() == len(names)
        assert {"a\\u000bb", "ab", "a\\u000cb", "1"} <= set(back.nodes)


def test_graph_files_are_replaced_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer failing half-way leaves the previous file as it was and no temporary file."""
    graph = nx.path_graph(["甲", "乙", "丙"])
    compare.export_graphs({"g": graph}, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(_graph: object, path: str, **_: object) -> None:
        Path(path).write_text("<graphml><node id=", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(nx, "write_graphml", broken)
    with pytest.raises(OSError, match="disk full"):
        compare.export_graphs({"g": nx.path_graph(["丁", "戊"])}, tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == set(before)                      # no temporary file left
    assert after["g.graphml"] == before["g.graphml"]      # the previous graph, whole
    nx.read_graphml(tmp_path / "g.graphml")
    nx.read_gexf(tmp_path / "g.gexf")                     # the new GEXF, whole


# --- CSV formula injection -----------------------------------------------------------------------------------

#: Leading characters spreadsheets read as a formula (OWASP).
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
#: Those the analysed corpus starts cells with. Not CR: the parsers strip it from text, so only a file name
#: carries it, and Python 3.11's csv module (under pandas' to_csv with "\n" line ends) leaves a field holding
#: a CR unquoted, which splits its row whatever the first character; the CR rule is checked on frames above.
RUN_TRIGGERS = TRIGGERS[:-1]
DTYPES = ["object", "string", "str", "category"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_spreadsheet_safe_prefixes_text_cells_only(trigger: str, dtype: str) -> None:
    from reportmine.safetext import spreadsheet_safe

    frame = pd.DataFrame({
        "text": pd.Series([f"{trigger}SUM(A1)", "医院", None, f"x{trigger}"], dtype=dtype),
        "number": [-1.5, -2.0, 3.0, float("nan")],
        "count": pd.array([-1, None, 3, -4], dtype="Int64"),
        "mixed": [-7, f"{trigger}1", None, 2.5],
    })
    original = frame.copy()
    safe = spreadsheet_safe(frame)
    pd.testing.assert_frame_equal(frame, original)        # the input is left alone
    assert safe["text"].tolist()[:2] == [f"'{trigger}SUM(A1)", "医院"]
    assert pd.isna(safe["text"].tolist()[2]) and safe["text"].tolist()[3] == f"x{trigger}"
    assert safe["mixed"].tolist()[:2] == [-7, f"'{trigger}1"]
    pd.testing.assert_series_equal(safe["number"], frame["number"])
    pd.testing.assert_series_equal(safe["count"], frame["count"])
    if trigger != "\r":  # Python 3.11's csv module leaves a CR unquoted with "\n" line ends (see test below)
        rows = list(csv.reader(safe.to_csv(index=False, lineterminator="\n").splitlines(keepends=True)))
        assert rows[1][:3] == [f"'{trigger}SUM(A1)", "-1.5", "-1"]


@pytest.fixture(scope="module")
def injection_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Reports, file names and a manifest whose text starts with each formula character, analysed and written."""
    root = tmp_path_factory.mktemp("injection")
    src, out = root / "in", root / "out"
    src.mkdir()
    rows = ["file,hospital,region"]
    for i, s in enumerate(RUN_TRIGGERS):
        text = (f"某医院{2010 + i}年工作总结\n一、{s}加强管理{i}\n"
                f"开展“{s}健康快车{i}”活动，门诊量增长-{i + 3}%，亏损-{i + 5}万元。\n" + _filler(i))
        (src / f"{s}cmd{i}.txt").write_text(text, encoding="utf-8")
        rows.append(f'"{s}cmd{i}.txt","{s}SUM(1+{i})医院","{s}区{i}"')
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    analysis = reportmine.analyze(src, out=out, meta=manifest)
    analysis.write(out)
    return {"out": out}


def _csv_column(path: Path, column: str) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def _raw_everywhere(out: Path, table: str, column: str) -> tuple[list[str], list[str], list[str]]:
    """The column as the CSV, the Parquet file and the DuckDB database hold it."""
    import duckdb

    parquet = [None if pd.isna(v) else v for v in pd.read_parquet(out / f"{table}.parquet")[column]]
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        database = [r[0] for r in con.execute(f'SELECT "{column}" FROM "{table}"').fetchall()]
    return _csv_column(out / f"{table}.csv", column), parquet, database


#: (table, column, text) of each trigger s (index i) that the run above writes.
CELLS = [
    ("files", "file", "{s}cmd{i}.txt"),
    ("documents", "file", "{s}cmd{i}.txt"),
    ("sections", "file", "{s}cmd{i}.txt"),
    ("mentions", "file", "{s}cmd{i}.txt"),
    ("documents", "hospital", "{s}SUM(1+{i})医院"),
    ("documents", "region", "{s}区{i}"),
    ("sections", "title", "{s}加强管理{i}"),
    ("mentions", "name", "{s}健康快车{i}"),
]
#: The parsers strip a leading tab from headings and activity names, and the manifest's keys and values:
#: only file names start with one.
CASES = [(i, cell) for i, s in enumerate(RUN_TRIGGERS) for cell in CELLS if s != "\t" or cell[1] == "file"]


@pytest.mark.parametrize(("i", "cell"), CASES, ids=[f"{RUN_TRIGGERS[i]!r}-{t}.{c}" for i, (t, c, _) in CASES])
def test_table_csv_neutralises_formulas(injection_run: dict, i: int, cell: tuple[str, str, str]) -> None:
    table, column, pattern = cell
    text = pattern.format(s=RUN_TRIGGERS[i], i=i)
    in_csv, in_parquet, in_duckdb = _raw_everywhere(injection_run["out"], table, column)
    assert f"'{text}" in in_csv and text not in in_csv
    assert text in in_parquet and text in in_duckdb
    assert f"'{text}" not in in_parquet and f"'{text}" not in in_duckdb


def test_negative_numbers_stay_numbers(injection_run: dict) -> None:
    out = injection_run["out"]
    with open(out / "mentions.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    percents = {r["text"]: r["value"] for r in rows if r["type"] == "percent"}
    assert percents["'-3%"] == "-3.0"                     # the text cell neutralised, the number as it was
    assert "-3%" not in percents
    negative = [float(r["value"]) for r in rows if r["value"].startswith("-")]
    assert len(negative) == 2 * len(RUN_TRIGGERS) and all(v < 0 for v in negative)   # -N% and -N万元 of each file
    assert not [r for r in rows if r["value"].startswith("'")]
    values = pd.read_csv(out / "mentions.csv")["value"]
    assert values.dtype == float and (values < 0).sum() == 2 * len(RUN_TRIGGERS)
    assert "-3%" in set(pd.read_parquet(out / "mentions.parquet")["text"])


def test_comparison_csv_neutralises_formulas(injection_run: dict) -> None:
    folder = injection_run["out"] / "comparison"
    groups = set(_csv_column(folder / "first_activities.csv", "group"))
    activities = set(_csv_column(folder / "first_activities.csv", "activity"))
    raw = pd.read_parquet(folder / "first_activities.parquet")
    for i, s in enumerate("=+-@"):
        assert f"'{s}SUM(1+{i})医院" in groups and f"'{s}健康快车{i}" in activities
        assert f"{s}SUM(1+{i})医院" in set(raw["group"]) and f"{s}健康快车{i}" in set(raw["activity"])
    doc_ids = set(_csv_column(folder / "first_activities.csv", "doc_id"))
    # The tab-led file's document counts too, its id clean of the tab (reportmine.store.query.clean_text).
    assert {f"'{s}cmd{i}.txt#0" for i, s in enumerate("=+-@")} | {"cmd4.txt#0"} == doc_ids
    # Cell by cell: text prefixed exactly when it starts with a formula character, numbers (the quantities'
    # negative totals and minima among them) as they were.
    negative = 0
    for name in ("theme_profiles", "similarity", "first_activities", "quantities", "centrality"):
        frame = pd.read_parquet(folder / f"{name}.parquet")
        with open(folder / f"{name}.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(frame) > 0
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            for cell, value in zip((r[column] for r in rows), frame[column], strict=True):
                if pd.isna(value):
                    continue
                if numeric:
                    assert float(cell) == pytest.approx(float(value))
                    negative += float(value) < 0
                else:
                    assert cell == (f"'{value}" if value.startswith(tuple(TRIGGERS)) else value)
    assert negative > 0
    nodes = _csv_column(folder / "centrality.csv", "node")
    assert not [n for n in nodes if n[:1] in TRIGGERS]


def test_cli_extract_csv_neutralises_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "=cmd.txt").write_text("某医院2016年工作总结\n一、加强管理\n开展“=健康快车”活动，门诊量增长-3%。\n",
                                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["extract", "=cmd.txt", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines(keepends=True)))
    assert {r["file"] for r in rows} == {"'=cmd.txt"}
    assert "'=健康快车" in {r["name"] for r in rows}
    percent = next(r for r in rows if r["type"] == "percent")
    assert (percent["text"], percent["value"]) == ("'-3%", "-3")


def test_cli_codebook_neutralises_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "=cmd.txt").write_text(
        "某医院2010年工作总结\n一、加强医疗质量管理\n落实核心制度，提高医疗质量和医疗安全，开展三级查房和病历质量检查。\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["classify", "=cmd.txt", "--codebook", "codebook.csv"])
    assert result.exit_code == 0, result.output
    examples = _csv_column(tmp_path / "codebook.csv", "example_sections")
    assert "'=cmd.txt:2 加强医疗质量管理" in examples
    assert all(e[:1] not in TRIGGERS for e in examples if e)


def test_a_lone_carriage_return_in_a_cell_keeps_its_row_whole(tmp_path: Path) -> None:
    """With "\\n" line ends Python's csv writer left a cell holding a lone CR unquoted: its row split in two."""
    import csv

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "mac.txt").write_bytes("某医院2016年工作总结\n一、加强管理\r完善制度20项。\n二、改善服务\r开展义诊5次。\n".encode())
    reportmine.analyze(folder, out=tmp_path / "out").write(tmp_path / "out")
    for name in ("sections", "mentions", "documents"):
        with open(tmp_path / "out" / f"{name}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        parquet = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert len(rows) == len(parquet), name
    sections = pd.read_parquet(tmp_path / "out" / "sections.parquet")
    assert any("\r" in str(text) for column in ("title", "inline_body", "body") for text in sections[column])
