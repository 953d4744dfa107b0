"""Mention extraction (reportmine.mentions) against the mentions guide (GUIDE_mentions.md)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportmine
from conftest import DEV_FILES, GOLD
from reportmine.evaluate import score_mentions
from reportmine.mentions import extract, extract_parsed

SKIP = {"type", "text", "start", "end", "line", "col_start", "col_end", "path", "doc_index", "section_outline",
        "section_line", "resolved_year"}


def fields_of(text: str) -> list[tuple[str, str, dict]]:
    return [(m.type, m.text, {k: v for k, v in m.to_dict().items() if k not in SKIP}) for m in extract(text)]


# Rows of the guide's type table and qualifier list, in a sentence; (input, type, span, fields).
GUIDE_ROWS = [
    # quantity
    ("共11名", "quantity", "11名", {"value": 11, "unit": "名"}),
    ("新项目40余项", "quantity", "40余项", {"value": 40, "unit": "项", "qualifier": "approx"}),
    ("有60多人", "quantity", "60多人", {"value": 60, "unit": "人", "qualifier": "approx"}),
    ("立项两项", "quantity", "两项", {"value": 2, "unit": "项"}),
    ("培训1—2项", "quantity", "1—2项", {"low": 1, "high": 2, "unit": "项"}),
    ("出诊x例", "quantity", "x例", {"unit": "例", "masked": True}),
    ("达到200个", "quantity", "200个", {"value": 200, "unit": "个"}),
    ("业务用房30万平方米", "quantity", "30万平方米", {"value": 300000, "unit": "万平方米"}),
    ("进行了18小时以上的培训", "quantity", "18小时以上", {"value": 18, "unit": "小时", "qualifier": "at_least"}),
    ("组织近30名医务人员", "quantity", "近30名", {"value": 30, "unit": "名", "qualifier": "approx"}),
    ("不少于12次", "quantity", "不少于12次", {"value": 12, "unit": "次", "qualifier": "at_least"}),
    ("半小时内进行", "quantity", "半小时内", {"value": 0.5, "unit": "小时", "qualifier": "at_most"}),
    ("30人左右", "quantity", "30人左右", {"value": 30, "unit": "人", "qualifier": "approx"}),
    ("不超过5次", "quantity", "不超过5次", {"value": 5, "unit": "次", "qualifier": "at_most"}),
    ("超过3次", "quantity", "超过3次", {"value": 3, "unit": "次", "qualifier": "more_than"}),
    ("低于3次", "quantity", "低于3次", {"value": 3, "unit": "次", "qualifier": "less_than"}),
    ("约１２００人", "quantity", "约１２００人", {"value": 1200, "unit": "人", "qualifier": "approx"}),
    ("一千二百人", "quantity", "一千二百人", {"value": 1200, "unit": "人"}),
    ("1,234名", "quantity", "1,234名", {"value": 1234, "unit": "名"}),
    ("3.5小时", "quantity", "3.5小时", {"value": 3.5, "unit": "小时"}),
    ("十余年", "quantity", "十余年", {"value": 10, "unit": "年", "qualifier": "approx"}),
    ("1～2小时", "quantity", "1～2小时", {"low": 1, "high": 2, "unit": "小时"}),
    ("3至5天", "quantity", "3至5天", {"low": 3, "high": 5, "unit": "天"}),
    ("两个多月", "quantity", "两个多月", {"value": 2, "unit": "个月", "qualifier": "approx"}),
    # percent
    ("合格率100%", "percent", "100%", {"value": 100}),
    ("达到百分之九十", "percent", "百分之九十", {"value": 90}),
    ("合格率__%", "percent", "__%", {"masked": True}),
    ("满意度均>95%", "percent", ">95%", {"value": 95, "qualifier": "more_than"}),
    ("占比95%以上", "percent", "95%以上", {"value": 95, "qualifier": "at_least"}),
    ("院感发生率为零", "percent", "零", {"value": 0}),
    ("患者投诉率保持零水平", "percent", "零", {"value": 0}),
    ("提高90%-95%", "percent", "90%-95%", {"low": 90, "high": 95}),
    # money
    ("投入1520万元", "money", "1520万元", {"value": 15200000, "unit": "万元"}),
    ("给予15-20万元基础扶持资金", "money", "15-20万元", {"low": 150000, "high": 200000, "unit": "万元"}),
    ("这个手机壳五元三毛", "money", "五元三毛", {"value": 5.3, "unit": "元"}),
    ("投入7000多万元", "money", "7000多万元", {"value": 70000000, "unit": "万元", "qualifier": "approx"}),
    ("奖励三十万元", "money", "三十万元", {"value": 300000, "unit": "万元"}),
    ("__万元", "money", "__万元", {"unit": "万元", "masked": True}),
    # date
    ("于2016年12月2日", "date", "2016年12月2日", {"year": 2016, "month": 12, "day": 2}),
    ("于5月31日", "date", "5月31日", {"month": 5, "day": 31}),
    ("20__年，", "date", "20__年", {"masked": True}),
    ("发布时间:2017-01-11 11:02:20", "date", "2017-01-11 11:02:20",
     {"year": 2017, "month": 1, "day": 11, "hour": 11, "minute": 2, "second": 20}),
    ("于4—6月开展", "date", "4—6月", {"month": 4, "end_month": 6}),
    ("20xx—20xx年度", "date", "20xx—20xx年度", {"masked": True}),
    ("2016—2017年", "date", "2016—2017年", {"year": 2016, "end_year": 2017}),
    ("12月22日18时起", "date", "12月22日18时", {"month": 12, "day": 22, "hour": 18}),
    ("20__年12月10日", "date", "20__年12月10日", {"masked": True, "month": 12, "day": 10}),
    ("4月份召开", "date", "4月份", {"month": 4}),
    ("二〇一六年十二月", "date", "二〇一六年十二月", {"year": 2016, "month": 12}),
    ("5.12国际护士节", "date", "5.12", {"month": 5, "day": 12}),
    ("1月19号下午5:00", "date", "1月19号下午5:00", {"month": 1, "day": 19, "hour": 17, "minute": 0}),
    # period
    ("今年我局", "period", "今年", {"period": "this_year"}),
    ("上半年我局", "period", "上半年", {"period": "first_half"}),
    ("第二季度", "period", "第二季度", {"period": "q2"}),
    ("年初，", "period", "年初", {"period": "year_start"}),
    ("力争年底开工", "period", "年底", {"period": "year_end"}),
    ("今年年初，", "period", "今年年初", {"period": "year_start"}),
    ("去年同期", "period", "去年", {"period": "last_year"}),
    # frequency
    ("每月开展", "frequency", "每月", {"per": "month", "count": 1}),
    ("每周2次对", "frequency", "每周2次", {"per": "week", "count": 2}),
    ("每年进行两次考核", "frequency", "每年进行两次", {"per": "year", "count": 2}),
    ("每季度召开", "frequency", "每季度", {"per": "quarter", "count": 1}),
    ("每半年考评", "frequency", "每半年", {"per": "half_year", "count": 1}),
    ("每天晨会", "frequency", "每天", {"per": "day", "count": 1}),
    # activity
    ("开展“队伍建设年”活动", "activity", "“队伍建设年”活动", {"name": "队伍建设年"}),
    ("开展\"三好一满意\"活动", "activity", "\"三好一满意\"活动", {"name": "三好一满意"}),
    ("坚持开展青年志愿者“365伴医”行动", "activity", "“365伴医”行动", {"name": "365伴医"}),
    # document
    ("学习《执业医师法》", "document", "《执业医师法》", {"name": "执业医师法"}),
]


@pytest.mark.parametrize(("text", "kind", "span", "fields"), GUIDE_ROWS)
def test_guide_rows(text: str, kind: str, span: str, fields: dict) -> None:
    assert (kind, span, fields) in fields_of(text)


# GUIDE_mentions.md "What is not a mention": markers, names, words, idioms; near-misses beside them.
NOT_MENTIONS = [
    "一、领导重视", "（二）完善制度", "3、加强管理", "第一名", "入院第一天",
    "青年志愿者“365伴医”行动", "“三好一满意”活动", "五四红旗团委", "“十二五”规划",
    "一把手工程", "实施“一对一”服务", "三查房", "二级医院", "三级医院引进", "三甲医院",
    "一如既往", "置身于一个良好的氛围", "一项社会系统工程", "千方百计", "十分重要", "优质护理服务",
    "重点培训“三十条”", "新的一年", "党的十七届四中全会", "院内110", "国办发〔20xx〕18号",
    "全年无假日医疗", "每日吸烟量", "一级对一级负责", "二类障碍", "镜匾8块", "提出3点要求", "五分之一",
]


@pytest.mark.parametrize("text", NOT_MENTIONS)
def test_not_a_mention(text: str) -> None:
    numeric = [m for m in extract(text) if m.type in ("quantity", "percent", "money", "date", "period", "frequency")]
    assert numeric == []


def test_numbers_inside_names_are_not_counts() -> None:
    assert [m.type for m in extract("坚持开展青年志愿者“365伴医”行动")] == ["activity"]


def test_month_list_and_marker() -> None:
    """Corpus 000 line 100 ("5、7月份") versus a marker before a date (corpus 003 line 149)."""
    assert [(m.text, m.month) for m in extract("我院于5、7月份分阶段")] == [("5", 5), ("7月份", 7)]
    assert [m.text for m in extract("4、3月7日,参加") if m.type == "date"] == ["3月7日"]


def test_year_resolution() -> None:
    found = extract("2016年工作总结\n今年上半年完成5月31日的检查")
    resolved = {m.text: m.resolved_year for m in found}
    assert resolved["今年上半年"] == 2016
    assert resolved["5月31日"] == 2016
    raw = extract("今年完成")
    assert raw[0].period == "this_year" and raw[0].resolved_year is None


def test_bare_numbers_only_when_asked() -> None:
    assert extract("四百五十") == []
    assert [m.value for m in extract("四百五十", bare_numbers=True)] == [450]


# General-text forms (bare_numbers=True), from the peer suite's Chinese number specs.
BARE_ROWS = [
    ("一千二百", 1200), ("两百", 200), ("拾万零五十六", 100056), ("四万万", 400000000), ("1,050,000,000", 1050000000),
    ("五分之一", 0.2), ("3又一千分之23", 3.023), ("2e5", 200000), ("负1.1", -1.1), ("十打", 120), ("40k", 40000),
    ("五兆六十二亿四万五千二", 5006200045200), ("３／５", 0.6), ("答案是四", 4),
]


@pytest.mark.parametrize(("text", "value"), BARE_ROWS)
def test_bare_number_values(text: str, value: float) -> None:
    assert [m.value for m in extract(text, bare_numbers=True)] == [pytest.approx(value)]


@pytest.mark.parametrize("text", ["四川", "我一看你就笑", "这个人很放肆", "小明拾起石子", "https://a.cn/q=30%25"])
def test_bare_number_words(text: str) -> None:
    assert extract(text, bare_numbers=True) == []


def test_cli_extract_jsonl_matches_library() -> None:
    from typer.testing import CliRunner

    from conftest import corpus_file
    from reportmine.cli import app

    path = corpus_file("002_79988078600ed0aa")
    result = CliRunner().invoke(app, ["extract", str(path), "--format", "jsonl"])
    assert result.exit_code == 0
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [m.to_dict() for m in extract_parsed(reportmine.parse_file(path))]
    assert printed == expected and printed[0]["text"] == "2016年"


@pytest.mark.parametrize("stem", DEV_FILES)
def test_dev_gold_spans_and_fields(parsed_corpus, stem: str) -> None:
    gold = [json.loads(x) for x in (GOLD / f"{stem}.mentions.jsonl").read_text("utf-8").splitlines() if x]
    parsed = parsed_corpus[stem]
    pred = [m.to_dict() for m in extract_parsed(parsed)]
    rows = score_mentions([(gold, pred, parsed.text)])
    assert rows["ALL"]["f1"] >= 0.93 and rows["ALL"]["strict_f1"] >= 0.85 and rows["ALL"]["fields"] >= 0.90, rows


def test_mentions_located_in_documents(parsed_corpus) -> None:
    for stem, parsed in parsed_corpus.items():
        source = parsed.source
        for m in extract_parsed(parsed):
            assert source.text[m.start:m.end] == m.text, (stem, m)
            assert source.line_text(m.line)[m.col_start:m.col_end] == m.text
            assert parsed.line_roles[m.line - 1] not in ("noise", "blank"), (stem, m)
    m = next(x for x in extract_parsed(parsed_corpus["002_79988078600ed0aa"]) if x.text == "3例")
    assert (m.doc_index, m.section_outline, m.line) == (0, "一/3", 14)


def test_public_api() -> None:
    assert reportmine.extract is extract and reportmine.extract_parsed is extract_parsed


PIECES = [*"0123456789０１二两三十百千万亿零半余多近约以上下%％-—～至到年月日号时点每周天次人名个元万“”\"《》、，。 \nx_×",
          "活动", "今年", "上半年"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_never_raises_and_spans_round_trip(text: str) -> None:
    for m in extract(text, bare_numbers=True):
        assert text[m.start:m.end] == m.text
        assert m.end > m.start


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_any_text(text: str) -> None:
    for m in extract(text):
        assert text[m.start:m.end] == m.text


@pytest.mark.slow
def test_huge_line_of_numerals_finishes() -> None:
    """A 10 MB line of digits and Chinese numerals (untimed: linear scanning keeps it short)."""
    chunk = "1234567890一二三四五六七八九十百千万两零"
    text = chunk * (10_000_000 // len(chunk))
    assert isinstance(extract(text), list)
    assert isinstance(extract("9" * 10_000_000 + "人"), list)



def _prefiltered_pairs() -> list:
    from reportmine.mentions import dates, numbers, vocab

    p = vocab.patterns()
    return [(vocab.TOKEN_RE, numbers.TOKEN_STARTS), (p.date, dates.DATE_STARTS),
            (p.iso, dates.ISO_STARTS), (p.festival, dates.FESTIVAL_STARTS),
            (dates.TIME_OF_DAY, dates.TIME_OF_DAY_STARTS)]


def _same_as_finditer(text: str) -> None:
    from reportmine.mentions import vocab

    norm = text.translate(vocab.FOLD)
    for pattern, starts in _prefiltered_pairs():
        expected = [(m.span(), m.group()) for m in pattern.finditer(norm)]
        assert [(m.span(), m.group()) for m in vocab.matches(pattern, starts, norm)] == expected, (text, pattern)


# First characters of every alternative of the prefiltered patterns, what may stand before them, and what
# ends them (年月日, clock times, 节, ISO separators).
SCAN_PIECES = ["1", "2", "0", "9", ".", "_", "__", "x", "×", "〇", "一", "二", "三", "十", "拾", "半", "两", "a", "年",
               "月", "日", "号", "-", "至", ":", "30", "下午", "晚上", "5.1", "10.1", "节", "2016-1-", "1999-1-", "12:30", " "]


def test_prefiltered_scans_match_finditer_on_all_triples() -> None:
    """Each pattern, tried only where its start filter points, finds exactly what finditer finds."""
    import itertools

    for triple in itertools.product(SCAN_PIECES, repeat=3):
        _same_as_finditer("".join(triple))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*SCAN_PIECES, *"０Ｘ:点时分万亿上中今明夜早凌傍、，~—\n"]), min_size=3, max_size=30)
       .map("".join))
def test_prefiltered_scans_match_finditer(text: str) -> None:
    _same_as_finditer(text)
