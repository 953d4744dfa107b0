"""Fuzz the writers: random text holding every control character goes through the graph
files and the report page, and whatever it holds, every output is written whole and parses.

Control characters, DEL, U+FFFE/U+FFFF, U+2028 and (for the graphs, where a node id can come from an
undecodable file name) lone surrogates are mixed with Chinese, markup characters and backslashes, and put in
node ids, attribute keys and values, titles, file names, hospital (group) names, headings and activity names.
"""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportmine import compare, report

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\ufffe", "\uffff", "\u2028"]
SURROGATES = ["\ud800", "\udbff", "\udc80", "\udfff"]
ORDINARY = list("医院健康快车管理总结一二、“”（）&<>\"'\\u0b=+-@ ab1")
#: XML 1.0's Char production: all the outputs may hold.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

text = st.text(alphabet=st.sampled_from(CONTROLS + ORDINARY), min_size=1, max_size=12)
graph_text = st.text(alphabet=st.sampled_from(CONTROLS + SURROGATES + ORDINARY), min_size=1, max_size=12)


#: What the writers escape: XML's forbidden characters, DEL and the C1 controls.
ESCAPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def shown(value: str) -> str:
    """``value`` in its documented form: those characters as visible ``\\uXXXX`` escapes."""
    return ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _parses_as_page(page: str) -> str:
    """Checks the page parses (its inline SVG as XML too) and holds only XML characters; returns its text."""
    assert NOT_XML.search(page) is None
    parser = _Text()
    parser.feed(page)
    parser.close()
    for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        ET.fromstring(svg)
    return "".join(parser.parts)


@settings(max_examples=30, deadline=None)
@given(groups=st.lists(graph_text, min_size=1, max_size=4),
       activities=st.lists(graph_text, min_size=1, max_size=8),
       key=graph_text, value=graph_text)
def test_graph_files_parse_whatever_the_names(groups: list[str], activities: list[str], key: str,
                                              value: str) -> None:
    graph = nx.Graph()
    for g in groups:
        graph.add_node(("group", g), kind="group", bipartite=0)
    for i, a in enumerate(activities):
        graph.add_node(a, kind="activity", bipartite=1, **{key: value})
        graph.add_edge(("group", groups[i % len(groups)]), a, weight=i + 1, note=value)
    with tempfile.TemporaryDirectory() as folder:
        # Nodes are exported by str(): ("group", g) keeps groups apart from activities of the same text.
        written = compare.export_graphs({"g": graph}, folder)
        assert [p.name for p in written] == ["g.gexf", "g.graphml"]
        assert sorted(p.name for p in Path(folder).iterdir()) == ["g.gexf", "g.graphml"]  # no temporary left
        for path, read in zip(written, (nx.read_gexf, nx.read_graphml), strict=True):
            assert NOT_XML.search(path.read_text("utf-8")) is None
            ET.parse(path)
            back = read(path)
            assert back.number_of_nodes() == graph.number_of_nodes()   # no two nodes merged
            assert back.number_of_edges() == graph.number_of_edges()
            assert {shown(a) for a in activities} <= set(back.nodes)


def _tables(names: list[str]) -> dict[str, pd.DataFrame]:
    """Minimal tables whose files, titles, hospitals, headings and activity names are ``names``."""
    documents, sections, mentions = [], [], []
    for i, name in enumerate(names):
        file = f"{name}{i}.txt"
        doc_id, section_id = f"{file}#0", f"{file}#0@L2"
        documents.append({"doc_id": doc_id, "file": file, "path": file, "doc_index": 0, "title": name,
                          "hospital": name, "year": 2016 + i % 2, "kind": ("summary", "plan")[i % 2]})
        sections.append({"section_id": section_id, "doc_id": doc_id, "file": file, "line": 2, "outline": "一",
                         "title": name, "body": f"加强{name}医院管理", "primary_theme": "medical_quality_safety"})
        mentions.append({"doc_id": doc_id, "section_id": section_id, "file": file, "line": 3, "start": 10,
                         "type": "activity", "text": f"“{name}”活动", "name": name})
        mentions.append({"doc_id": doc_id, "section_id": section_id, "file": file, "line": 3, "start": 20,
                         "type": "quantity", "text": f"{i}{name}", "value": -float(i), "unit": name})
    return {"documents": pd.DataFrame(documents), "sections": pd.DataFrame(sections),
            "mentions": pd.DataFrame(mentions)}


@settings(max_examples=30, deadline=None)
@given(names=st.lists(text, min_size=1, max_size=5), title=graph_text)
def test_report_page_parses_whatever_the_text(names: list[str], title: str) -> None:
    tables = _tables(names)
    comparison = compare.compare(tables)
    page = report.render_report(tables, comparison, title=title)
    def lines(value: str) -> str:  # HTML reads CR LF and CR as LF
        return value.replace("\r\n", "\n").replace("\r", "\n")

    assert lines(shown(title)) in lines(_parses_as_page(page))
    with tempfile.TemporaryDirectory() as folder:
        written = report.write_report(page, folder)
        _parses_as_page(written.read_text("utf-8"))
        # The graphs of the same comparison parse too.
        for path in compare.export_graphs(comparison.graphs, folder):
            ET.parse(path)
