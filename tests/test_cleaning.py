"""Noise, metadata and title lines (the structure guide, GUIDE.md: "Units")."""

from __future__ import annotations

import pytest

from reportmine.cleaning import classify_lines
from reportmine.reading import read_text

# (line, look) rows; the source of each row is a GUIDE.md example or a corpus line.
LOOK_ROWS = [
    # page furniture and navigation
    ("首页 > 文章中心 > 麻醉科业务工作计划", "noise"),
    ("头部", "noise"),
    ("footer底部", "noise"),
    ("下载此文档", "noise"),
    ("全文阅读已结束,如果需要下载本文请点击", "noise"),
    ("【本文地址:http://www.xuefen.com.cn/zuowen/4796919.html】", "noise"),
    # document-viewer furniture (GUIDE.md "Document-viewer furniture"; lines written for these tests)
    ("第2页共5页", "noise"),
    ("精选优质文档-倾情为你奉上", "noise"),
    ("……此处隐藏3180个字……", "noise"),
    ("当前位置:范文网 > 工作总结", "noise"),
    ("|计划", "noise"),
    ("｜工作总结", "noise"),
    ("文档贡献者:护理部小王", "noise"),
    # site blurbs
    ("本文将为您呈现一篇医院感染管理工作计划,供参考。", "noise"),
    ("下面是小编整理的护理工作总结8篇,欢迎阅读参考。", "noise"),
    ("前言:想要写出一篇令人眼前一亮的文章吗?我们特意为您整理了5篇麻醉科业务工作计划范文", "noise"),
    ("计划是指为了实现特定目标而制定的一系列有条理的行动步骤。计划怎么写才能发挥它最大的作用呢?", "noise"),
    ("制定计划可以帮助我们认识到自己的优势和不足,从而更好地发挥所长。", "noise"),
    # collection titles
    ("优质二级医院工作计划大全(18篇)", "noise"),
    ("体检医院年度工作总结及明年工作计划 医院工作计划(优质6篇)", "noise"),
    # "people also read"
    ("看了“医师试用期工作总结”的人还看了", "noise"),
    # metadata
    ("来源:连州市卫生和计划生育局 发布时间:2017-01-11 11:02:20 字体大小: 浏览次数:-", "header_meta"),
    ("格式:DOC 上传日期:2023-10-29 13:04:02", "header_meta"),
    ("时间:2023-10-29 13:04:02     小编:文锋", "header_meta"),
    # signature lines
    ("连州市卫生和计划生育局", "signature"),
    ("2016年12月2日", "signature"),
    ("20xx年11月20日", "signature"),
    ("xxxx年3月06日", "signature"),
    ("信息科", "signature"),
    # titles and compilation labels
    ("连州市卫生系统创建平安医院2016年工作总结", "title"),
    ("医院医生进修个人总结", "title"),
    ("医院人才工作总结报告五", "label"),
    ("二级医院工作计划篇十二", "label"),
    ("麻醉科业务工作计划范文第2篇", "label"),
    ("医师试用期工作总结范文二", "label"),
    ("## 体检医院年度工作总结及明年工作计划篇二", "label"),
    # titles inside the wrappers of scraped pages (GUIDE.md "Document fields")
    ("篇一:《2023年护理部工作总结》", "title"),
    ("第三篇：药剂科年度工作计划", "title"),
    ("【www.example.cn--计划】2025年医院感染管理工作计划", "title"),
    ("《门诊部上半年工作总结》", "title"),
    # content, not metadata or titles
    ("资金来源:医院自筹。", "content"),
    ("具体工作安排如下:", "content"),
    ("一、加强组织领导", "content"),
    ("今年我局按照“平安医院”创建的要求,深入开展了全市医疗机构创建“平安医院”建设工作。", "content"),
]


@pytest.mark.parametrize(("line", "look"), LOOK_ROWS)
def test_line_looks(line: str, look: str) -> None:
    [info] = classify_lines(read_text(line))
    assert info.look == look


def test_also_read_list_is_noise() -> None:
    text = "看了“医师试用期工作总结”的人还看了\n\n1.医生试用期转正工作总结\n\n2.医生试用期个人工作总结\n\n麻醉科业务工作计划范文第3篇\n"
    looks = [i.look for i in classify_lines(read_text(text)) if i.look != "blank"]
    assert looks == ["noise", "noise", "noise", "label"]


def test_teaser_repeats_report_start_and_gives_title() -> None:
    # sample corpus 000, line 1: a teaser holding the report's title.
    text = " 医院人才工作总结报告一一、领导重视，认识创建爱婴医院工作的重大意义自决定创建...\n 一、领导重视，认识创建爱婴医院工作的重大意义\n"
    first = classify_lines(read_text(text))[0]
    assert first.look == "noise"
    assert first.teaser_title == "医院人才工作总结报告一"


def test_line_ending_in_dots_without_repeat_is_content() -> None:
    text = "医院将继续加强管理，做好各项工作...\n二、其他工作\n"
    assert classify_lines(read_text(text))[0].look == "content"
