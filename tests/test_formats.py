"""Real-world inputs: Word documents, web pages, markdown and Traditional Chinese.

The .docx and .html files are built here from sample-corpus reports, so each
test knows the structure the parser must find: the parse of the plain-text
original.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

import reportmine
from reportmine import parse_file, parse_text
from reportmine.cli import app
from reportmine.errors import InputError
from reportmine.inputs import iter_input_paths
from reportmine.model import ParsedFile, SourceText
from reportmine.parsing import parse_source
from reportmine.readers import format_number, html_to_text
from reportmine.reading import read_file, simplified_view

CORPUS = reportmine.sample_corpus()
# 002: one report, 一、 over 1、; 000: a compilation, 一、 over （一） over 1、.
SIMPLE = CORPUS / "002_79988078600ed0aa.txt"
NESTED = CORPUS / "000_c78ec01dfc651d77.txt"

# Word numbering levels by marker family, as Word writes them (lvlText, numFmt).
_LEVELS = {
    "cn": ("%{n}、", "chineseCounting"),
    "paren_cn": ("（%{n}）", "chineseCounting"),
    "arabic": ("%{n}、", "decimal"),
    "paren_arabic": ("（%{n}）", "decimal"),
    "circled": ("%{n}", "decimalEnclosedCircle"),
}


def _structure(parsed: ParsedFile) -> list[list[tuple[int, str, str]]]:
    """Per document: (level, family, title) of each section."""
    return [[(s.level, s.family, s.title) for s in d.sections] for d in parsed.documents]


def _assert_provenance(parsed: ParsedFile) -> None:
    text = parsed.source.text
    for doc in parsed.documents:
        for s in doc.sections:
            assert text[s.title_start:s.title_end] == s.title
            assert text[s.start:s.start + len(s.marker)] == s.marker
            assert parsed.source.line_of(s.start) == s.line


def _add_numbering(document, families: list[str]) -> str:
    """An abstract numbering with one level per family; returns its numId."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{_LEVELS[f][1]}"/>'
        f'<w:lvlText w:val="{_LEVELS[f][0].format(n=i + 1)}"/><w:suff w:val="nothing"/></w:lvl>'
        for i, f in enumerate(families)
    )
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90"><w:multiLevelType w:val="multilevel"/>'
        f"{levels}</w:abstractNum>"
    ))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return "90"


def _restart(document, num_id: str) -> str:
    """A new list on the same definition that restarts at 1 (Word's "restart numbering")."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    new_id = str(int(num_id) + 1)
    document.part.numbering_part.element.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="{new_id}"><w:abstractNumId w:val="90"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
    ))
    return new_id


def _number(paragraph, num_id: str, ilvl: int) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
    ))


def build_docx(source: Path, mode: str, out: Path) -> ParsedFile:
    """A .docx of ``source``'s text; returns the parse of the plain-text original.

    Modes: ``numbering`` (section markers removed from the text, Word auto
    numbering in their place), ``headings`` (markers removed, Heading 1/2/3
    styles instead; report titles in the Title style), ``heading_title`` (the
    report title as the lone Heading 1, sections as Heading 2/3),
    ``chinese_styles`` (as ``headings``, styles named 标题 1/2/3), ``typed``
    (text as it is, markers typed, no styles).
    """
    from docx.enum.style import WD_STYLE_TYPE

    original = parse_file(source)
    document = docx.Document()
    heads = {s.line: s for d in original.documents for s in d.sections}
    titles = {d.title_line for d in original.documents if d.title_line}
    families = []
    for s in heads.values():
        if s.family not in families:
            families.append(s.family)
    num_id = _add_numbering(document, families) if mode == "numbering" else ""
    if mode == "chinese_styles":
        for level in (1, 2, 3):
            document.styles.add_style(f"标题 {level}", WD_STYLE_TYPE.PARAGRAPH)
    for number, start, end in original.source.lines():
        line = original.source.text[start:end].strip()
        if not line:
            continue
        section = heads.get(number)
        if mode == "typed" or (section is None and number not in titles):
            document.add_paragraph(line)
        elif section is None:
            if mode == "numbering":
                num_id = _restart(document, num_id)
            if mode == "heading_title":
                document.add_heading(line, 1)
            elif mode == "chinese_styles":
                document.add_paragraph(line)
            else:
                document.add_heading(line, 0)
        else:
            rest = original.source.text[section.start + len(section.marker):end].strip()
            if mode == "numbering":
                _number(document.add_paragraph(rest), num_id, families.index(section.family))
            elif mode == "chinese_styles":
                document.add_paragraph(rest, style=f"标题 {section.level}")
            else:
                document.add_heading(rest, section.level + (mode == "heading_title"))
    document.save(out)
    return original


# ------------------------------------------------------------------ docx


# Heading styles cannot carry 000's orphan 1、 items nor its untitled reports'
# restarts, so the heading modes run on 002 only; 3-level headings are below.
@pytest.mark.parametrize(
    ("source", "mode"),
    [(SIMPLE, "numbering"), (SIMPLE, "headings"), (SIMPLE, "chinese_styles"), (SIMPLE, "typed"),
     (NESTED, "numbering"), (NESTED, "typed")],
    ids=["002-numbering", "002-headings", "002-chinese_styles", "002-typed", "000-numbering", "000-typed"],
)
def test_docx_gives_the_structure_of_the_text(tmp_path: Path, source: Path, mode: str) -> None:
    path = tmp_path / f"{source.stem}.docx"
    original = build_docx(source, mode, path)
    parsed = parse_file(path)
    assert parsed.source.encoding == "docx"
    # A Word paragraph carries no indentation or blank lines in its text, and
    # document splitting reads those: the reference is the text so laid out.
    flat = "\n".join(line.strip() for line in original.source.text.split("\n") if line.strip())
    want = [[(s.level, s.title) for s in d.sections] for d in parse_text(flat).documents]
    assert [[(s.level, s.title) for s in d.sections] for d in parsed.documents] == want
    if source == SIMPLE:
        assert want == [[(s.level, s.title) for s in d.sections] for d in original.documents]
    _assert_provenance(parsed)



def test_docx_first_line_indent_splits_untitled_reports(tmp_path: Path) -> None:
    # 000 holds six reports, five of them untitled: each opens with an indented
    # paragraph. In Word that indent is paragraph formatting, not spaces.
    from docx.shared import Pt

    original = parse_file(NESTED)
    document = docx.Document()
    for _number, start, end in original.source.lines():
        line = original.source.text[start:end]
        if not line.strip():
            continue
        paragraph = document.add_paragraph(line.strip())
        if line[:1].isspace():
            paragraph.paragraph_format.first_line_indent = Pt(21)  # two characters of 10.5 pt
    path = tmp_path / "000-indented.docx"
    document.save(path)
    parsed = parse_file(path)
    assert len(original.documents) == 6
    assert [[s.title for s in d.sections] for d in parsed.documents] == [
        [s.title for s in d.sections] for d in original.documents]
    _assert_provenance(parsed)

def test_docx_auto_numbering_renders_word_markers(tmp_path: Path) -> None:
    # 000 uses 一、 （一） 1、: rendered from chineseCounting and decimal levels.
    path = tmp_path / "000.docx"
    original = build_docx(NESTED, "numbering", path)
    parsed = parse_file(path)
    got = [(s.family, s.marker) for d in parsed.documents for s in d.sections]
    assert [f for f, _ in got] == [s.family for d in original.documents for s in d.sections]
    assert {m for _, m in got} >= {"一、", "二、", "（一）", "（二）", "1、"}
    # The markers are Word's rendering: the paragraphs' own text holds none.
    document = docx.Document(path)
    first = next(p for p in document.paragraphs if p._p.pPr is not None and p._p.pPr.numPr is not None)
    assert not first.text.startswith("一") and parsed.source.text.count("\n一、" + first.text) == 1


def test_docx_headings_get_markers_by_depth(tmp_path: Path) -> None:
    path = tmp_path / "002.docx"
    build_docx(SIMPLE, "headings", path)
    parsed = parse_file(path)
    [doc] = parsed.documents
    assert doc.title == "连州市卫生系统创建平安医院2016年工作总结"
    assert [s.marker for s in doc.roots] == ["一、", "二、"]
    assert [s.marker for s in doc.children_of(doc.roots[1])] == ["（一）", "（二）"]


def test_docx_three_heading_levels_and_typed_markers(tmp_path: Path) -> None:
    # Headings of sample corpus 000's second part; a heading that types its
    # own marker keeps it, and still counts.
    document = docx.Document()
    document.add_heading("医院人才工作总结报告", 0)
    for text, level in [
        ("进一步健全社会治安综合治理、安全生产管理体系", 1),
        ("努力提高医疗服质量，保证医疗安全", 1),
        ("开展医疗质量与安全专项治理活动", 2),
        ("设置禁烟标识", 3), ("加强控烟监督管理", 3),
        ("（二）定期召开医师论坛", 2),
        ("积极开展优质服务活动", 1),
    ]:
        document.add_heading(text, level)
        document.add_paragraph("正文。")
    path = tmp_path / "h.docx"
    document.save(path)
    [doc] = parse_file(path).documents
    assert doc.title == "医院人才工作总结报告"
    assert [(s.outline, s.title) for s in doc.sections] == [
        ("一", "进一步健全社会治安综合治理、安全生产管理体系"),
        ("二", "努力提高医疗服质量，保证医疗安全"),
        ("二/（一）", "开展医疗质量与安全专项治理活动"),
        ("二/（一）/1", "设置禁烟标识"), ("二/（一）/2", "加强控烟监督管理"),
        ("二/（二）", "定期召开医师论坛"),
        ("三", "积极开展优质服务活动"),
    ]


def test_docx_lone_top_heading_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "002.docx"
    original = build_docx(SIMPLE, "heading_title", path)
    parsed = parse_file(path)
    assert _structure(parsed) == [[(s.level, "cn" if s.level == 1 else "paren_cn", s.title)
                                   for s in original.documents[0].sections]]
    assert parsed.documents[0].title == original.documents[0].title


def test_docx_paragraphs_and_table_rows_are_lines(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("2016年医院工作总结")
    document.add_paragraph("一、门诊工作")
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, [("科室", "门诊人次", "增长"), ("内科", "12000", "5%")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("二、存在问题")
    path = tmp_path / "t.docx"
    document.save(path)
    assert read_file(path).text == "2016年医院工作总结\n一、门诊工作\n科室\t门诊人次\t增长\n内科\t12000\t5%\n二、存在问题\n"
    sections = parse_file(path).documents[0].sections
    assert [s.title for s in sections] == ["门诊工作", "存在问题"]


@pytest.mark.parametrize(
    ("n", "fmt", "want"),
    [
        (1, "chineseCounting", "一"), (10, "chineseCounting", "十"), (12, "chineseCounting", "十二"),
        (20, "chineseCounting", "二十"), (105, "chineseCounting", "一百零五"), (3, "decimal", "3"),
        (3, "decimalEnclosedCircle", "③"), (2, "decimalEnclosedParen", "⑵"), (4, "decimalFullWidth", "４"),
        (3, "ideographTraditional", "丙"), (2, "lowerLetter", "b"), (28, "upperLetter", "BB"),
        (4, "lowerRoman", "iv"), (3, "chineseLegalSimplified", "叁"), (7, "unknownFormat", "7"),
    ],
)
def test_word_number_formats(n: int, fmt: str, want: str) -> None:
    assert format_number(n, fmt) == want


def test_docx_numbering_restart_and_bullets(tmp_path: Path) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    num_id = _add_numbering(document, ["cn", "paren_cn"])
    numbering = document.part.numbering_part.element
    # A second list on the same definition restarting at 1 (Word's "restart numbering").
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="91"><w:abstractNumId w:val="90"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
    ))
    for text, num, ilvl in [("甲", num_id, 0), ("乙", num_id, 1), ("丙", num_id, 1), ("丁", num_id, 0),
                            ("戊", num_id, 1), ("己", "91", 0), ("庚", num_id, 0)]:
        _number(document.add_paragraph(text), num, ilvl)
    document.add_paragraph("要点", style="List Bullet")  # a bullet carries no number
    path = tmp_path / "r.docx"
    document.save(path)
    assert read_file(path).text.split("\n")[:-1] == [
        "一、甲", "（一）乙", "（二）丙", "二、丁", "（一）戊", "一、己", "二、庚", "要点"
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00", "not a readable .docx"),
        (b"this is not a zip file at all", "not a readable .docx"),
        (b"", "not a readable .docx"),
    ],
    ids=["truncated-zip", "text", "empty"],
)
def test_corrupt_docx_raises_input_error(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_file(path)
    assert str(path) in str(info.value) and reason in info.value.reason


def test_truncated_and_partless_docx(tmp_path: Path) -> None:
    good = tmp_path / "good.docx"
    build_docx(SIMPLE, "numbering", good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(data[: len(data) // 2])
    # A zip whose main document part is missing.
    partless = tmp_path / "partless.docx"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(partless, "w") as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item))
    empty = tmp_path / "empty.docx"
    docx.Document().save(empty)
    for path, reason in [(truncated, "not a readable .docx"), (partless, "not a readable .docx"),
                         (empty, "holds no text")]:
        with pytest.raises(InputError, match=reason) as info:
            read_file(path)
        assert info.value.path == str(path)


def test_directories_pick_up_docx(tmp_path: Path) -> None:
    for name in ("a.docx", "b.txt", "c.html", "d.md", "e.doc", "f.pdf", "~$a.docx"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in iter_input_paths([tmp_path])] == ["a.docx", "b.txt", "c.html", "d.md"]


# ------------------------------------------------------------------ html

_FURNITURE = ("范文网", "首页", "当前位置", "相关推荐", "医院护理工作总结范文", "版权所有", "ICP备", "关于我们",
              "var tracker")


def build_html(source: Path, encoding: str = "utf-8") -> bytes:
    """A web page holding ``source``'s report (one <p> per line), with site furniture around it."""
    lines = [line.strip() for line in source.read_text("utf-8").split("\n") if line.strip()]
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = f"""<!DOCTYPE html><html><head><meta charset="{encoding}"><title>工作总结 - 范文网</title>
<script>var tracker = "一、不是报告";</script><style>p {{ text-indent: 2em; }}</style></head><body>
<header><div class="logo">范文网</div><nav><ul><li><a href="/">首页</a></li><li><a href="/zj">工作总结</a></li>
<li><a href="/jh">工作计划</a></li><li><a href="/xd">心得体会</a></li></ul></nav></header>
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/zj">工作总结</a></div>
<div class="main"><article class="content">
{body}
</article>
<aside class="sidebar"><h3>相关推荐</h3><ul><li><a href="/1">医院护理工作总结范文</a></li>
<li><a href="/2">医院工作计划范文</a></li><li><a href="/3">2017年医院工作计划</a></li></ul></aside></div>
<footer><p>版权所有 © 2017 范文网 粤ICP备12345678号</p><p><a href="/about">关于我们</a></p></footer>
</body></html>"""
    return page.encode(encoding)


@pytest.mark.parametrize("source", [SIMPLE, NESTED], ids=["002", "000"])
def test_html_main_text_without_furniture(tmp_path: Path, source: Path) -> None:
    path = tmp_path / f"{source.stem}.html"
    path.write_bytes(build_html(source))
    parsed = parse_file(path)
    assert parsed.source.encoding == "html/utf-8"
    assert not [w for w in _FURNITURE if w in parsed.source.text]
    original = parse_file(source)
    assert [(s.marker, s.title) for d in parsed.documents for s in d.sections] == [
        (s.marker, s.title) for d in original.documents for s in d.sections
    ]
    # A line per block element: every paragraph of the report is a line of its own.
    lines = {line.strip() for line in parsed.source.text.split("\n")}
    assert original.source.line_text(original.documents[0].sections[0].line).strip() in lines
    _assert_provenance(parsed)


def test_html_in_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gbk.htm"
    path.write_bytes(build_html(SIMPLE, "gb18030"))
    parsed = parse_file(path)
    assert parsed.source.encoding == "html/gb18030"
    assert [s.marker for s in parsed.documents[0].roots] == ["一、", "二、"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><head><script>var a = 1;</script></head><body><img src='a.png'></body></html>",
         r"no main text found in the HTML page \(markup only\?\)"),
        (("<html><body>" + "<div>" * 300 + "<p>一、加强管理。</p>" + "</div>" * 300 + "</body></html>").encode(),
         "its elements nest 303 deep, past the HTML parser's limit of 255"),
        (("<html><body><p>" + "一、加强医院感染管理工作。" * 1_700_000 + "</p></body></html>").encode(),
         "the page has 22,100,033 characters, more than the 20,000,000 trafilatura reads"),
        (b"", "empty file"),
        (b"\x00\x01\x02\x03" * 64, "binary data"),
    ],
    ids=["markup-only", "too-deep", "too-large", "empty", "binary"],
)
def test_unreadable_html_raises_input_error(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.html"
    path.write_bytes(data)
    with pytest.raises(InputError, match=reason) as info:
        read_file(path)
    assert info.value.path == str(path)


def test_html_to_text_keeps_block_lines() -> None:
    paragraphs = "".join(f"<p>{i}、第{i}项工作按计划完成，取得了较好的成效，群众满意度明显提升。</p>" for i in range(1, 8))
    page = f"<html><body><nav><a href='/'>首页</a></nav><article><h1>医院工作总结</h1>{paragraphs}</article></body></html>"
    lines = html_to_text(page).strip().split("\n")
    assert lines[0] == "医院工作总结"
    assert [line[:2] for line in lines[1:]] == [f"{i}、" for i in range(1, 8)]


# -------------------------------------------------------------- markdown


def test_markdown_headings_parse(tmp_path: Path) -> None:
    # Sample corpus 003: a compilation whose labels (…篇一) become ## headings
    # and whose section headings become ### headings.
    source = CORPUS / "003_09f1d77eabb805aa.txt"
    original = parse_file(source)
    labels = {d.title_line for d in original.documents}
    heads = {s.line: s.start for d in original.documents for s in d.sections}
    text = original.source.text
    out = []
    for number, start, end in original.source.lines():
        if number in labels:
            out.append("## " + text[start:end].strip().lstrip("#").strip())
        elif number in heads:
            out.append("### " + text[heads[number]:end])  # from the marker on
        else:
            out.append(text[start:end])
    path = tmp_path / "003.md"
    path.write_text("\n".join(out), "utf-8")
    parsed = parse_file(path)
    assert [d.title for d in parsed.documents] == [d.title for d in original.documents]
    assert _structure(parsed) == _structure(original)
    _assert_provenance(parsed)


# ----------------------------------------------------- Traditional Chinese


@pytest.mark.parametrize("stem", ["000_c78ec01dfc651d77", "002_79988078600ed0aa", "003_09f1d77eabb805aa"])
def test_traditional_text_parses_like_simplified(tmp_path: Path, stem: str) -> None:
    opencc = pytest.importorskip("opencc")
    simplified = (CORPUS / f"{stem}.txt").read_text("utf-8")
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert traditional != simplified and len(traditional) == len(simplified)
    path = tmp_path / f"{stem}.txt"
    path.write_text(traditional, "utf-8")
    parsed = parse_file(path)
    original = parse_file(CORPUS / f"{stem}.txt")
    source = parsed.source
    assert source.text == traditional and source.normalized is not None

    def shape(p: ParsedFile) -> list:
        return [(d.start_line, d.end_line, d.kind, [(s.line, s.level, s.start, s.end, s.title_start, s.title_end)
                                                    for s in d.sections]) for d in p.documents]

    assert shape(parsed) == shape(original)
    assert parsed.noise_lines == original.noise_lines
    for doc in parsed.documents:
        if doc.title is not None:
            assert doc.title in source.line_text(doc.title_line)  # the Traditional title
        for s in doc.sections:
            assert s.title == traditional[s.title_start:s.title_end]
            assert s.marker == traditional[s.start:s.start + len(s.marker)]
            assert s.text == traditional[s.start:s.end]



def test_traditional_text_gives_the_same_mentions(tmp_path: Path) -> None:
    # Mentions match on the Simplified view; spans and text still point into the Traditional original.
    opencc = pytest.importorskip("opencc")
    from reportmine.mentions import extract_parsed

    stem = "002_79988078600ed0aa"
    simplified = (CORPUS / f"{stem}.txt").read_text("utf-8")
    traditional = opencc.OpenCC("s2t").convert(simplified)
    path = tmp_path / f"{stem}.txt"
    path.write_text(traditional, "utf-8")
    got = extract_parsed(parse_file(path))
    want = extract_parsed(parse_file(CORPUS / f"{stem}.txt"))
    assert len(want) > 10
    assert [(m.type, m.start, m.end, m.value, m.section_outline) for m in got] == [
        (m.type, m.start, m.end, m.value, m.section_outline) for m in want]
    assert all(m.text == traditional[m.start:m.end] for m in got)

def test_traditional_titles_come_from_the_original() -> None:
    parsed = parse_text("醫院2016年工作總結\n一、加強醫療質量管理\n（一）建立健全規章制度。\n第二節 護理工作\n")
    [doc] = parsed.documents
    assert doc.title == "醫院2016年工作總結" and doc.kind == "summary"
    assert [(s.marker, s.title, s.outline) for s in doc.sections] == [
        ("一、", "加強醫療質量管理", "一"), ("（一）", "建立健全規章制度", "一/（一）"), ("第二節", "護理工作", "第二節"),
    ]


@pytest.mark.parametrize(
    ("text", "traditional"),
    [
        ("醫院工作總結", True),
        ("医院工作总结", False),
        ("一、加强管理", False),         # no Traditional-only characters
        ("医院工作总结，於是", False),    # one Traditional character in Simplified text
        ("2016 report", False),
        ("", False),
    ],
)
def test_simplified_view_detection(text: str, traditional: bool) -> None:
    view = simplified_view(text)
    assert (view is not None) == traditional
    if view is not None:
        assert len(view) == len(text)


def test_normalized_view_must_keep_offsets() -> None:
    with pytest.raises(ValueError):
        SourceText.from_text("醫院", normalized="医")
    source = SourceText.from_text("醫院\n總結", normalized="医院\n总结")
    assert parse_source(source).source.text == "醫院\n總結"


# ------------------------------------------------------ CLI and analyze


def test_cli_parse_docx_json(tmp_path: Path) -> None:
    path = tmp_path / "002.docx"
    build_docx(SIMPLE, "numbering", path)
    result = CliRunner().invoke(app, ["parse", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == parse_file(path).to_dict()
    assert out["encoding"] == "docx"
    assert [s["marker"] for s in out["documents"][0]["sections"]][:2] == ["一、", "1、"]


def test_cli_parse_corrupt_docx_fails_with_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(b"PK\x03\x04broken")
    result = CliRunner().invoke(app, ["parse", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert "bad.docx" in result.stderr and "not a readable .docx" in result.stderr


def test_analyze_mixed_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(SIMPLE.read_text("utf-8"), "utf-8")
    (tmp_path / "b.md").write_text("# 医院2016年工作总结\n\n## 一、加强管理\n\n建立制度。\n\n## 二、存在问题\n\n人员不足。\n",
                                   "utf-8")
    (tmp_path / "c.html").write_bytes(build_html(NESTED))
    build_docx(SIMPLE, "headings", tmp_path / "d.docx")
    (tmp_path / "e.docx").write_bytes(b"PK\x03\x04broken")
    analysis = reportmine.analyze(tmp_path)
    files = analysis.tables["files"]
    by_name = {row.file: row for row in files.itertuples()}
    assert sorted(by_name) == ["a.txt", "b.md", "c.html", "d.docx", "e.docx"]
    assert {n: r.status for n, r in by_name.items()} == {
        "a.txt": "ok", "b.md": "ok", "c.html": "ok", "d.docx": "ok", "e.docx": "failed"
    }
    assert "e.docx" in by_name["e.docx"].error
    sections = analysis.tables["sections"]
    per_file = sections.groupby("file").size().to_dict()
    assert per_file["b.md"] == 2 and per_file["d.docx"] == per_file["a.txt"] == 10
    assert per_file["c.html"] == 65
