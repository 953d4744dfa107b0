"""Numbering markers, levels and titles (the structure guide, GUIDE.md: "Numbering markers", "Levels", "Titles")."""

from __future__ import annotations

import pytest

from reportmine import parse_text
from reportmine.markers import cn_to_int, match_marker
from reportmine.sections import split_title

# (line, family, number, marker) for every family of the guide's table, full- and half-width.
MARKER_ROWS = [
    # Chinese numeral + 、 or ． or .
    ("一、领导重视", "cn", 1, "一、"),
    ("十二、其他工作", "cn", 12, "十二、"),
    ("一.保障网络运行", "cn", 1, "一."),
    ("三. 电子病历系统的维护", "cn", 3, "三."),
    ("二．加强管理", "cn", 2, "二．"),
    ("四、20xx年工作中存在的困难:", "cn", 4, "四、"),
    # parenthesised Chinese numeral
    ("（一）提高认识", "paren_cn", 1, "（一）"),
    ("(一)继续加强学习", "paren_cn", 1, "(一)"),
    ("（一）、更新理论", "paren_cn", 1, "（一）、"),
    ("(二)、更新专业理论知识", "paren_cn", 2, "(二)、"),
    # Arabic numeral + 、 . ． : ： ;
    ("1、领导重视", "arabic", 1, "1、"),
    ("1.医生试用期转正", "arabic", 1, "1."),
    ("12:继续为职工办理保险", "arabic", 12, "12:"),
    ("4;落实考核制度", "arabic", 4, "4;"),
    ("３．加强培训", "arabic", 3, "３．"),
    ("2：发挥工会职能", "arabic", 2, "2："),
    ("10、 完成医院文化体系的建设", "arabic", 10, "10、"),
    # parenthesised or half-bracketed Arabic
    ("（1）严格依法执业", "paren_arabic", 1, "（1）"),
    ("(1)加强培训", "paren_arabic", 1, "(1)"),
    ("1)加强病房管理", "paren_arabic", 1, "1)"),
    ("2）加强门诊费用控制", "paren_arabic", 2, "2）"),
    # circled numerals
    ("①积极开展临床路径", "circled", 1, "①"),
    ("⑳最后一项", "circled", 20, "⑳"),
    # ordinal words
    ("第一，加强领导", "ordinal", 1, "第一，"),
    ("第二、完善制度", "ordinal", 2, "第二、"),
    # chapter / section / article
    ("第一章 总则", "chapter", 1, "第一章"),
    ("第三节 护理管理", "section", 3, "第三节"),
    ("第十二条 本办法自发布之日起施行", "article", 12, "第十二条"),
    # behind bullets and markdown marks, after white space (incl. U+2003 EM SPACE)
    ("- 1、重点加强对新入院护士的考核", "arabic", 1, "1、"),
    ("#### 2、开展公众健康咨询活动", "arabic", 2, "2、"),
    ("### (四)加强护理过程中的安全管理:", "paren_cn", 4, "(四)"),
    ("\u2003\u2003一、思想政治及医德医风方面", "cn", 1, "一、"),
    ("\u3000\u3000（三）抓衔接", "paren_cn", 3, "（三）"),
]


@pytest.mark.parametrize(("line", "family", "number", "marker"), MARKER_ROWS)
def test_marker_families(line: str, family: str, number: int, marker: str) -> None:
    match = match_marker(line)
    assert match is not None
    assert (match.family, match.number, match.marker, match.certain) == (family, number, marker, True)


# Line starts that are not markers (GUIDE.md: false positives stay out).
NOT_MARKERS = [
    "一年来，能够积极参加医院组织的各项学习活动",
    "2型糖尿病患者管理",
    "5.12国际护士节，组织护理技能竞赛",
    "第一季度:1、加强医院后勤仓库的管理工作",
    "首先，要正视困难",
    "30名医务人员参加培训",
    "20__年，市一院深入开展党的群众路线教育实践活动",
    "2016年12月2日",
    "11:02:20 发布",
    "二级医院工作计划篇一",
    "三基:基本理论、基本知识、基本技能。",
    "100%完成任务",
    "1520万元基础扶持资金",
    "一是加强领导",
]


@pytest.mark.parametrize("line", NOT_MARKERS)
def test_false_positives_are_not_markers(line: str) -> None:
    match = match_marker(line)
    assert match is None or not match.certain


def test_months_list_is_a_candidate_only() -> None:
    # ``5、7月份`` reads as a list of months unless the numbering says item 5.
    match = match_marker("5、7月份分阶段组织开展了两次检查")
    assert match is not None and not match.certain


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105), ("两", 2), ("一二", None)],
)
def test_cn_to_int(text: str, value: int | None) -> None:
    assert cn_to_int(text) == value


def sections_of(text: str) -> list[tuple[str, int, str, bool]]:
    parsed = parse_text(text)
    return [(s.marker, s.level, s.title, s.inline_body) for d in parsed.documents for s in d.sections]


# GUIDE.md "Levels": depth in the reader's outline, compressed to the families used.
LEVEL_CASES = {
    "only arabic is level 1": ("1、甲\n2、乙\n", [("1、", 1), ("2、", 1)]),
    "cn then arabic": ("一、甲\n1、子\n2、子\n二、乙\n", [("一、", 1), ("1、", 2), ("2、", 2), ("二、", 1)]),
    "four families": (
        "一、甲\n（一）乙\n1、丙\n（1）丁\n",
        [("一、", 1), ("（一）", 2), ("1、", 3), ("（1）", 4)],
    ),
    "orphans before the first cn": (
        "1、甲\n2、乙\n一、丙\n1、丁\n",
        [("1、", 1), ("2、", 1), ("一、", 1), ("1、", 2)],
    ),
    "skipped and repeated numbers": (
        "一、甲\n1、a\n3、b\n4、c\n4、d\n",
        [("一、", 1), ("1、", 2), ("3、", 2), ("4、", 2), ("4、", 2)],
    ),
    "one restart is an orphan run, not an inversion": (
        "1、a\n2、b\n1) c\n2) d\n1、e\n2、f\n",
        [("1、", 1), ("2、", 1), ("1)", 2), ("2)", 2), ("1、", 1), ("2、", 1)],
    ),
    "circled under arabic": ("1、甲\n①子\n②子\n2、乙\n", [("1、", 1), ("①", 2), ("②", 2), ("2、", 1)]),
    "own order wins when plainly inverted": (
        "（一）甲\n一、a\n二、b\n（二）乙\n一、c\n二、d\n（三）丙\n一、e\n二、f\n",
        [("（一）", 1), ("一、", 2), ("二、", 2), ("（二）", 1), ("一、", 2), ("二、", 2), ("（三）", 1), ("一、", 2),
         ("二、", 2)],
    ),
    "chapter above article": (
        "第一章 总则\n第一条 目的\n第二条 范围\n第二章 职责\n第三条 分工\n",
        [("第一章", 1), ("第一条", 2), ("第二条", 2), ("第二章", 1), ("第三条", 2)],
    ),
}


@pytest.mark.parametrize("case", LEVEL_CASES, ids=list(LEVEL_CASES))
def test_levels(case: str) -> None:
    text, expected = LEVEL_CASES[case]
    assert [(m, lvl) for m, lvl, _, _ in sections_of(text)] == expected


def test_parent_is_nearest_open_higher_family() -> None:
    parsed = parse_text("一、甲\n（一）乙\n1、丙\n（二）丁\n2、戊\n二、己\n")
    doc = parsed.documents[0]
    outline = [s.outline for s in doc.sections]
    assert outline == ["一", "一/（一）", "一/（一）/1", "一/（二）", "一/（二）/2", "二"]  # the form ``二/（三）/2``
    assert doc.parent_of(doc.sections[4]) == doc.sections[3]
    assert [c.marker for c in doc.children_of(doc.sections[0])] == ["（一）", "（二）"]


# GUIDE.md "Titles".
TITLE_ROWS = [
    ("一、领导重视，认识创建爱婴医院工作的重大意义", "领导重视，认识创建爱婴医院工作的重大意义", False),
    ("1、领导重视,措施有力。为了进一步抓好卫生系统平安单位创建工作", "领导重视,措施有力", True),
    ("2、坚决抵制商业贿赂行为。", "坚决抵制商业贿赂行为", False),
    ("四、20xx年工作中存在的困难:", "20xx年工作中存在的困难", False),
    ("2、培训办法:", "培训办法", False),
    ("1、培训对象:全体医务人员", "培训对象", True),
    ("3、加强专科技能的培训；各科制定出培训计划", "加强专科技能的培训", True),
    ("（三）、加强人文知识的学习,提高护士的整体素养", "加强人文知识的学习,提高护士的整体素养", False),
    ("4、 严格安全管理,建立制度。", "严格安全管理,建立制度", False),
    # GUIDE.md "Titles": ASCII ";" ends a heading as "；" does
    ("5、加强院感监测;每月对重点科室进行督查", "加强院感监测", True),
    ("（二）强化职工培训;全年举办讲座十二次;考核合格率100%", "强化职工培训", True),
]


@pytest.mark.parametrize(("line", "title", "inline_body"), TITLE_ROWS)
def test_titles(line: str, title: str, inline_body: bool) -> None:
    [(_, _, got_title, got_inline)] = sections_of(line + "\n")
    assert (got_title, got_inline) == (title, inline_body)


def test_split_title_columns() -> None:
    line = "1、领导重视,措施有力。为了进一步抓好"
    begin, end, inline = split_title(line, 2)
    assert line[begin:end] == "领导重视,措施有力" and inline


# Markers without punctuation count only when the numbering makes them certain (GUIDE.md).
def test_missing_punctuation_confirmed_by_sequence() -> None:
    # sample corpus 004, 篇十: ``1省、市级…`` ``2院…`` ``3重点…``
    text = "一、资金扶持\n1省、市级重点学科给予资金匹配。\n2院重点专科给予扶持资金。\n3重点专科开展新业务。\n"
    assert [m for m, *_ in sections_of(text)] == ["一、", "1", "2", "3"]


def test_lone_bare_number_is_not_a_section() -> None:
    assert sections_of("一、慢病管理\n2型糖尿病患者规范管理率达到60%。\n") == [("一、", 1, "慢病管理", False)]


def test_bare_chinese_numeral_with_heading_verb() -> None:
    # sample corpus 003, 篇五: ``六开展形式多样的活动`` among ``三、`` ``四、``.
    text = "三、获得荣誉\n六开展形式多样的活动,增强职工凝聚力。\n四、下半年工作\n"
    assert [m for m, *_ in sections_of(text)] == ["三、", "六", "四、"]


def test_months_list_confirmed_by_sequence() -> None:
    # sample corpus 003 line 139-140: ``2、3月8日`` and ``3、4—6月`` are items 2 and 3.
    text = "1、春节期间召开座谈会。\n2、3月8日,组织职工观看电教片。\n3、4—6月,开展党务活动。\n"
    assert [m for m, *_ in sections_of(text)] == ["1、", "2、", "3、"]
    assert sections_of("我院组织检查。\n5、7月份分阶段组织开展了两次检查。\n") == []


def test_enumeration_inside_a_paragraph_is_not_a_section() -> None:
    text = "一、工作情况\n1、领导重视。为了进一步抓好工作。 2、大力开展宣传动员工作。\n"
    assert [m for m, *_ in sections_of(text)] == ["一、", "1、"]


def test_section_offsets_and_bodies() -> None:
    text = "一、加强管理\n医院加强管理。\n1、建立制度。制度要落实。\n2、强化考核\n考核到人。\n二、其他\n"
    parsed = parse_text(text)
    doc = parsed.documents[0]
    first, child1, child2, second = doc.sections
    assert text[first.start:first.end] == "一、加强管理\n医院加强管理。\n1、建立制度。制度要落实。\n2、强化考核\n考核到人。"
    assert first.body.strip() == "医院加强管理。"
    assert child1.body == "制度要落实。"
    assert child2.text == "2、强化考核\n考核到人。"
    assert text[second.title_start:second.title_end] == "其他"
    assert (first.end_line, child2.end_line, second.end_line) == (5, 5, 6)
    assert doc.section_at(5) == child2 and doc.section_at(2) == first


# GUIDE.md "Units": line-start 一是 二是 … items are sections (ordinal family) when at least two of them
# open lines in sequence; a lone one, or one inside a sentence, is text. Pages written for these tests.
SHI_ROWS = [
    ("今年主要做了以下工作：\n一是加强制度建设，修订了院感制度。\n二是强化培训，全年培训八次。\n",
     [("一是", "加强制度建设，修订了院感制度"), ("二是", "强化培训，全年培训八次")]),
    ("一、加强管理\n一是完善制度；二是落实责任。\n二是健全考核，每月考核一次。\n",
     [("一、", "加强管理"), ("一是", "完善制度"), ("二是", "健全考核，每月考核一次")]),
    ("一是加强领导，成立了领导小组。\n其他工作按计划推进。\n", []),
    ("我们做到一是早发现，二是早报告，三是早处置。\n", []),
    ("一是一，二是二，这是原则。\n", []),
]


@pytest.mark.parametrize(("text", "expected"), SHI_ROWS)
def test_shi_items_open_sections_only_in_a_run_of_lines(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(marker, title) for marker, _, title, _ in sections_of(text)] == expected
