"""Hospital, region, level and year of a document, each with its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportmine import InputError, parse_text
from reportmine.metadata import Manifest, describe_document


def describe(text: str, row: dict | None = None):
    parsed = parse_text(text)
    return describe_document(parsed.documents[0], parsed.source, row)


def test_signature_names_the_issuer_and_title_the_year() -> None:
    # sample corpus 002
    meta = describe("连州市卫生系统创建平安医院2016年工作总结\n\n一、建设情况\n工作。\n\n"
                    "    连州市卫生和计划生育局\n\n    2016年12月2日\n")
    assert (meta.hospital, meta.hospital_source) == ("连州市卫生和计划生育局", "signature")
    assert (meta.region, meta.region_source) == ("连州市", "signature")
    assert (meta.year, meta.year_source) == (2016, "title")


@pytest.mark.parametrize(
    ("body", "hospital", "region"),
    [
        ("医院印发《关于建立蚌埠市第一人民医院消防安全三级网络管理体系的通知》。", "蚌埠市第一人民医院", "蚌埠市"),
        ("20__年，市一院深入开展党的群众路线教育实践活动。", "市一院", None),
        ("20xx年团河中心卫生院三基三严培训计划。", "团河中心卫生院", "团河"),
    ],
)
def test_units_in_the_body(body: str, hospital: str, region: str | None) -> None:
    meta = describe("工作总结\n" + body + "\n")
    assert (meta.hospital, meta.hospital_source, meta.region) == (hospital, "body", region)


@pytest.mark.parametrize(
    "body",
    [
        "二级医院要加强管理，三甲医院要发挥带头作用。",
        "各县区卫生局要高度重视，进一步加强乡镇卫生院建设。",
        "同时为我市医院提供支持，根据县卫生局文件要求开展工作。",
        "创建爱婴医院和平安医院，推进公立医院改革。",
    ],
)
def test_kinds_of_hospital_are_not_hospitals(body: str) -> None:
    meta = describe("工作计划\n" + body + "\n")
    assert (meta.hospital, meta.hospital_source) == (None, "unknown")


def test_masked_signature_keeps_name_without_region() -> None:
    meta = describe("疟疾防治工作计划\n一、加强监测。\n\nxx县铁锁乡医院\n\nxxxx年3月06日\n")
    assert (meta.hospital, meta.hospital_source, meta.region, meta.year) == ("xx县铁锁乡医院", "signature", None, None)


def test_years_unknown_stays_unknown_and_targets_do_not_count() -> None:
    assert describe("工作计划\n20xx年我院将继续努力。\n").year is None
    meta = describe("工作计划\n到2026年，建成区域医疗中心；到2030年全面达标。\n")
    assert (meta.year, meta.year_source) == (None, "unknown")
    meta = describe("工作总结\n2015年我院完成门诊量。2015年取得成绩。\n")
    assert (meta.year, meta.year_source) == (2015, "body")


def test_manifest_wins_and_keeps_extras(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("file,document,hospital,region,level,year,ownership\n"
                    "a.txt,,甲医院,华东,三级,2019,public\n"
                    "a.txt,1,乙分院,,,2020,\n", "utf-8")
    manifest = Manifest.load(path)
    assert manifest.row_for("dir/a.txt", 0)["hospital"] == "甲医院"
    row = manifest.row_for("a.txt", 1)
    assert (row["hospital"], row["year"], row["region"], row["ownership"]) == ("乙分院", "2020", "华东", "public")
    assert manifest.row_for("b.txt", 0) is None
    meta = describe("连州市卫生系统2016年工作总结\n一、情况\n", row)
    assert (meta.hospital, meta.hospital_source, meta.year, meta.year_source) == ("乙分院", "manifest", 2020, "manifest")
    assert meta.extra == {"ownership": "public"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,hospital\na.txt,甲\n", "needs a 'file' column"),
        ("file,year\na.txt,二〇一九\n", "line 2: year '二〇一九' is not a whole number"),
        ("file,document\na.txt,first\n", "is not a document index"),
    ],
)
def test_bad_manifests_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError, match=message) as info:
        Manifest.load(path)
    assert str(path) in str(info.value)
