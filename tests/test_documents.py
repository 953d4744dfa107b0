"""Splitting pages into reports, and document fields (the structure guide, GUIDE.md: "Units", "Document fields")."""

from __future__ import annotations

import pytest

from reportmine import parse_text
from reportmine.documents import document_kind


def starts(text: str) -> list[tuple[int, str | None]]:
    return [(d.start_line, d.title) for d in parse_text(text).documents]


def test_compilation_labels_start_documents() -> None:
    text = (
        "二级医院工作计划大全(3篇)\n\n二级医院工作计划篇一\n\n一、加强管理\n1、建立制度。\n\n"
        "二级医院工作计划篇二\n\n一、改善服务\n二、提高质量\n"
    )
    parsed = parse_text(text)
    assert [(d.start_line, d.title) for d in parsed.documents] == [(3, "二级医院工作计划篇一"), (8, "二级医院工作计划篇二")]
    assert parsed.noise_lines == (1,)
    assert [len(d.sections) for d in parsed.documents] == [2, 2]


def test_markdown_labels() -> None:
    text = "## 体检医院工作计划篇一\n\n- 1、加强考核\n\n## 体检医院工作计划篇二\n\n#### 1、举办讲座\n"
    assert starts(text) == [(1, "体检医院工作计划篇一"), (5, "体检医院工作计划篇二")]


def test_untitled_report_starts_at_indented_opening_with_restart() -> None:
    # sample corpus 000 lines 24-25: an indented opening paragraph, then numbering restarts at 1.
    text = (
        "一、开展活动\n活动内容。\n二、引进人才\n人才内容。\n"
        " 面向新世纪，卫生事业要快速发展。\n1、大力弘扬先进。\n2、进行人事制度改革。\n"
    )
    assert [d.start_line for d in parse_text(text).documents] == [1, 5]


def test_restart_without_indented_opening_stays_in_report() -> None:
    # A summary followed by next year's plan under the same title (GUIDE.md).
    text = "2016年工作总结\n一、工作情况\n情况。\n二、存在问题\n问题。\n明年我院将继续努力。\n一、指导思想\n二、工作目标\n"
    docs = parse_text(text).documents
    assert len(docs) == 1
    assert [s.marker for s in docs[0].sections] == ["一、", "二、", "一、", "二、"]


def test_single_report_title_and_meta() -> None:
    # sample corpus 002: title, header metadata, body, signature block.
    text = (
        "头部\n\n连州市卫生系统创建平安医院2016年工作总结\n\n来源:连州市卫生和计划生育局 发布时间:2017-01-11 11:02:20\n\n"
        "  今年我局深入开展了平安医院建设工作。\n\n  一、建设工作情况\n\n"
        "              连州市卫生和计划生育局\n\n              2016年12月2日\n\nfooter底部\n"
    )
    parsed = parse_text(text)
    [doc] = parsed.documents
    assert (doc.title, doc.title_line, doc.start_line, doc.end_line) == (
        "连州市卫生系统创建平安医院2016年工作总结", 3, 3, 13)
    assert doc.meta_lines == (5, 11, 13)
    assert parsed.noise_lines == (1, 15)
    assert doc.kind == "summary"


def test_page_meta_of_a_compilation() -> None:
    text = (
        "优质二级医院工作计划大全(2篇)\n格式:DOC 上传日期:2023-10-29 13:04:02\n\n"
        "二级医院工作计划篇一\n一、加强管理\n\n二级医院工作计划篇二\n一、改善服务\n"
    )
    parsed = parse_text(text)
    assert parsed.page_meta_lines == (2,)
    assert parsed.noise_lines == (1,)
    assert all(2 not in d.meta_lines for d in parsed.documents)


def test_teaser_title_points_at_noise_line() -> None:
    text = " 医院人才工作总结报告一一、领导重视，认识创建爱婴医院工作的重大意义自决定创建...\n 一、领导重视，认识创建爱婴医院工作的重大意义\n自决定创建爱婴医院以来。\n"
    parsed = parse_text(text)
    [doc] = parsed.documents
    assert (doc.title, doc.title_line, doc.start_line) == ("医院人才工作总结报告一", 1, 2)
    assert parsed.noise_lines == (1,)


def test_collection_title_above_labels_is_noise() -> None:
    # sample corpus 001: the page title ``麻醉科业务工作计划`` names the collection.
    text = "麻醉科业务工作计划\n\n麻醉科业务工作计划范文第1篇\n\n一、加强管理\n"
    parsed = parse_text(text)
    assert parsed.noise_lines == (1,)
    assert [d.start_line for d in parsed.documents] == [3]


def test_label_then_report_title_open_one_report() -> None:
    text = "麻醉科业务工作计划范文第2篇\n\n医师试用期工作总结范文一\n\n一、加强学习\n"
    [doc] = parse_text(text).documents
    assert (doc.start_line, doc.title, doc.title_line, doc.kind) == (1, "医师试用期工作总结范文一", 3, "summary")


@pytest.mark.parametrize(
    ("title", "body", "kind"),
    [
        ("医院人才工作总结报告五", "", "summary"),
        ("连州市卫生系统创建平安医院2016年工作总结", "", "summary"),
        ("2024年护理部工作计划", "", "plan"),
        ("医院工作要点", "", "plan"),
        ("医院医生进修个人总结", "我于xx年到齐鲁医院进修学习一年，我收获很大。", "other"),
        # a personal title over a long impersonal text: the page mislabelled it (sample corpus 001 line 31)
        ("医院医生进修个人总结", "科室领导班子率领全科医护人员完成了各项任务，取得了成绩。" * 60, "summary"),
        ("院长在职工大会上的讲话", "", "other"),
        # GUIDE.md "Document fields": one person's report of the work done is a summary ...
        ("护士试用期工作总结", "我于今年三月到科室工作，我认真学习了各项制度，完成了护理任务。", "summary"),
        ("个人年度工作总结", "一年来我在护理部的领导下完成了各项工作，我取得了进步。", "summary"),
        ("内科主任述职报告", "我任主任以来，科室完成了各项指标。", "summary"),
        # ... reflections, study reports, speeches and notices are "other"
        ("护士学习心得体会", "通过学习，我有以下几点体会。", "other"),
        ("关于开展爱国卫生月活动的通知", "各科室：现将有关事项通知如下。", "other"),
        ("进修学习报告", "我于去年到上级医院进修，收获很大。", "other"),
        # the title decides first: a plan word in the body does not make a summary a plan
        ("2019年预防保健科工作总结", "全年计划免疫接种率达到98%，明年目标及计划如下：将继续开展。", "summary"),
        ("2023年工作总结及下一步工作计划", "今年完成了改造，取得了成绩。下一步将继续加强。", "summary"),
        (None, "我于今年到医院工作，我完成了各项任务，取得了进步。", "summary"),
        (None, "我有如下心得：学习使我成长。", "other"),
        ("年度工作总结及明年工作计划", "今年以来完成了门诊改造，取得了成效，荣获先进。明年将继续。", "summary"),
        ("年度工作总结及明年工作计划", "明年将加强管理，力争提高质量，计划开展培训。", "plan"),
        (None, "我院开展了培训，完成了改造，取得了成绩。", "summary"),
        (None, "我院将加强培训，计划开展改造，力争达标。", "plan"),
    ],
)
def test_document_kind(title: str | None, body: str, kind: str) -> None:
    assert document_kind(title, body) == kind


def test_compilation_label_kind_follows_text() -> None:
    # A plan compilation can hold a summary (sample corpus 004 篇三): the label alone does not decide.
    body = "我院在除四害专项工作中积极开展了工作，取得了成效，完成了全年任务，荣获先进单位。"
    assert document_kind("二级医院工作计划篇三", body, title_is_label=True) == "summary"
    assert document_kind("二级医院工作计划篇三", "明年将继续加强管理。", title_is_label=True) == "plan"


def test_title_wrappers_and_viewer_furniture_leave_the_report_title() -> None:
    """A compilation page of our own with the wrappers and furniture of document sites (GUIDE.md v2)."""
    page = (
        "护理工作总结8篇\n"
        "下面是小编整理的护理工作总结8篇，欢迎阅读参考。\n"
        "篇一:《2023年护理部工作总结》\n"
        "精选优质文档-倾情为你奉上\n"
        "一年来，护理部在院领导的支持下完成了各项工作。\n"
        "一、加强护理质量管理\n"
        "全年开展质量检查12次。\n"
        "第1页共3页\n"
        "二、强化培训\n"
        "……此处隐藏4620个字……\n"
        "|计划\n"
        "篇二:《2024年护理部工作计划》\n"
        "明年将继续加强管理。\n"
        "一、加强培训\n"
    )
    parsed = parse_text(page)
    assert parsed.noise_lines == (1, 2, 4, 8, 10, 11)
    first, second = parsed.documents
    assert (first.title, first.title_line, first.kind) == ("2023年护理部工作总结", 3, "summary")
    assert [s.title for s in first.sections] == ["加强护理质量管理", "强化培训"]
    assert (second.title, second.title_line, second.kind) == ("2024年护理部工作计划", 12, "plan")


# GUIDE.md "Parts of one report": unnumbered part headings one level below the report's title, with one
# signature at the end and no 篇N label, are content of one report. Pages written for these tests:
# (page, [(start_line, title, title_line, kind)]).
PART_ROWS = {
    "parts under one title": (
        "# 某县人民医院2023年度工作报告\n## 2023年工作总结\n一年来完成了各项任务。\n一、医疗质量持续提升\n"
        "## 2024年工作计划\n明年将继续加强管理。\n一、加强学科建设\n某县人民医院\n2024年1月5日\n",
        [(1, "某县人民医院2023年度工作报告", 1, "summary")]),
    "a foreword before the parts": (
        "# 某院年度报告\n前言：今年全院完成了各项任务。\n## 2023年工作总结\n一、医疗质量\n"
        "## 2024年工作计划\n一、学科建设\n某院\n2024年1月\n",
        [(1, "某院年度报告", 1, "summary")]),
    "reports each signed stay reports": (
        "# 护理工作总结精选\n## 2023年内科护理工作总结\n一、加强管理\n内科护理部\n2023年12月\n"
        "## 2023年外科护理工作总结\n一、强化培训\n外科护理部\n2023年12月\n",
        [(1, "2023年内科护理工作总结", 2, "summary"), (6, "2023年外科护理工作总结", 6, "summary")]),
    "labelled reports stay reports": (
        "# 医院工作计划\n## 医院工作计划篇一\n一、加强管理\n## 医院工作计划篇二\n一、强化培训\n",
        [(2, "医院工作计划篇一", 2, "plan"), (4, "医院工作计划篇二", 4, "plan")]),
}


@pytest.mark.parametrize("name", PART_ROWS)
def test_report_parts(name: str) -> None:
    page, expected = PART_ROWS[name]
    parsed = parse_text(page)
    assert [(d.start_line, d.title, d.title_line, d.kind) for d in parsed.documents] == expected
