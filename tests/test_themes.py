"""Themes: taxonomy, keyword coder, inheritance, documents, determinism, custom taxonomies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import reportmine
from conftest import DEV_FILES, GOLD, corpus_file
from reportmine import TaxonomyError, classify_parsed, classify_text, codebook, load_taxonomy, parse_text
from reportmine.cli import app
from reportmine.evaluate import score_themes
from reportmine.matching import get_matcher
from reportmine.taxonomy import OTHER
from reportmine.themes import SCOPES

# --- Taxonomy -----------------------------------------------------------------


def test_shipped_taxonomy_loads() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.themes) == 20
    assert len(set(taxonomy.ids)) == 20 and OTHER not in taxonomy.ids
    assert all(t.keywords and t.name_zh and t.definition for t in taxonomy.themes)
    assert taxonomy.label.startswith("themes/")


GOOD_THEME = 'id = "a"\nname_zh = "甲"\ndefinition = "A."\nkeywords = ["甲乙"]\n'

# (file text, words the error message must hold): each names the file and the entry.
BAD_TAXONOMIES = [
    ("not toml [[", ["not valid TOML"]),
    ('name = "x"\n', ["no [[theme]] entries"]),
    ('[[theme]]\nid = "a"\nname_zh = "甲"\ndefinition = "A."\n', ["theme #1 (a)", "missing keywords"]),
    ('[[theme]]\nid = "Bad Id"\nname_zh = "甲"\ndefinition = "A."\nkeywords = ["甲"]\n', ["theme #1", "id must be"]),
    ('[[theme]]\nid = "other"\nname_zh = "甲"\ndefinition = "A."\nkeywords = ["甲"]\n', ["reserved"]),
    ("[[theme]]\n" + GOOD_THEME + "[[theme]]\n" + GOOD_THEME, ["theme #2 (a)", "id also used by theme #1"]),
    ('[[theme]]\nid = "a"\nname_zh = "甲"\ndefinition = "A."\nkeywords = []\n', ["keywords must be a non-empty list"]),
    ('[[theme]]\nid = "a"\nname_zh = "甲"\ndefinition = "A."\nkeywords = ["甲", 3]\n', ["keyword 3"]),
    ("[[theme]]\n" + GOOD_THEME + '[[theme]]\nid = "b"\nname_zh = "乙"\ndefinition = "B."\nkeywords = ["甲乙"]\n',
     ["theme #2 (b)", "'甲乙'", "also in a"]),
    ('[[theme]]\nid = "a"\nname_zh = ""\ndefinition = "A."\nkeywords = ["甲"]\n', ["name_zh must be"]),
    ("[[theme]]\n" + GOOD_THEME + 'colour = "red"\n', ["unknown key colour"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_TAXONOMIES)
def test_bad_taxonomy_is_reported(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert str(path) in message
    for words in expected:
        assert words in message


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read") as info:
        load_taxonomy(tmp_path / "none.toml")
    assert info.value.path == str(tmp_path / "none.toml") and info.value.entry is None


@pytest.mark.parametrize(("text", "entry", "reason"), [
    ('[[theme]]\nid = "a"\nname_zh = "甲"\ndefinition = "A."\n', "theme #1 (a)", "missing keywords"),
    ("[[theme]]\n" + GOOD_THEME + "[[theme]]\n" + GOOD_THEME, "theme #2 (a)", "id also used by theme #1"),
    ('[[theme]]\nid = 3\nname_zh = "甲"\ndefinition = "A."\nkeywords = ["甲"]\n', "theme #1",
     "id must be lower-case ascii letters, digits and _"),
    ("not toml [[", None, None),
    ('name = "x"\n', None, "no [[theme]] entries"),
    ("theme = [1]\n", None, "theme #1 is not a table"),  # worded as before the entry field
])
def test_taxonomy_error_fields(tmp_path: Path, text: str, entry: str | None, reason: str | None) -> None:
    """The error names the file and the entry apart; its message joins them as "path: entry: reason"."""
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    error = info.value
    assert error.path == str(path) and error.entry == entry
    if reason is not None:
        assert error.reason == reason
    assert str(error) == ": ".join(part for part in (error.path, error.entry, error.reason) if part)


# --- Sections --------------------------------------------------------------------


def section_themes(text: str) -> dict[str, list[str]]:
    """Title -> theme ids of every section of a one-document text."""
    classified = classify_text(text)
    doc, themes = classified.parsed.documents[0], classified.documents[0]
    return {s.title: [t.id for t in st.themes] for s, st in zip(doc.sections, themes.sections, strict=True)}


def test_keyword_as_token_not_substring() -> None:
    # 急诊 must not fire inside 门急诊人次
    got = section_themes("医院工作总结\n一、业务指标\n全年门急诊人次、出院人次稳步增长，病床使用率提高。\n")
    assert got["业务指标"][0] == "reform_operations_performance"


def test_heading_weighs_above_body() -> None:
    got = section_themes("医院工作总结\n一、加强院感管理\n组织护士学习，护理部督查。\n")
    assert got["加强院感管理"][0] == "infection_control"


# GUIDE_themes.md "Sections": a generic heading takes its body's theme, else its parent's.
INHERITANCE = """医院控烟工作总结
一、创建无烟医院
（一）领导重视，措施有力
成立了领导小组，明确职责，定期召开会议。
（二）加强组织领导，明确职责
设置禁烟标识，控烟监督员每日巡查，劝阻吸烟。
二、存在的问题
今后继续努力。
"""


def test_generic_heading_takes_body_theme_else_parent() -> None:
    classified = classify_text(INHERITANCE)
    doc, themes = classified.parsed.documents[0], classified.documents[0]
    by_title = dict(zip((s.title for s in doc.sections), themes.sections, strict=True))
    generic_body = by_title["领导重视，措施有力"]
    assert generic_body.primary == "tobacco_control" and generic_body.basis == "context"   # its parent's
    assert by_title["加强组织领导，明确职责"].primary == "tobacco_control"
    assert by_title["加强组织领导，明确职责"].basis == "text"                              # its own body
    assert by_title["存在的问题"].primary == "tobacco_control"                               # the document's


def test_subsections_count_toward_parent() -> None:
    text = "医院工作计划\n一、重点工作\n1、加强手卫生依从性监测。\n2、规范医疗废物处置。\n3、开展多重耐药菌监测。\n"
    assert section_themes(text)["重点工作"][0] == "infection_control"


def test_themes_are_ranked_and_bounded() -> None:
    for path in sorted(reportmine.sample_corpus().glob("*.txt")):
        for doc in classify_parsed(reportmine.parse_file(path)).documents:
            assert doc.scope in SCOPES and 1 <= len(doc.themes) <= 3
            for section in doc.sections:
                scores = [t.score for t in section.themes]
                assert 1 <= len(scores) <= 3 and scores == sorted(scores, reverse=True)
                assert len({t.id for t in section.themes}) == len(scores)


# --- Documents ----------------------------------------------------------------------

OFF_DOMAIN = """电厂安全生产工作计划
一、安全目标
1、杜绝人身重伤及死亡事故；
2、不发生恶性误操作事故；
二、组织安全教育培训及《安规》学习、考试
工人(含新入厂及转岗人员)必须全部经过三级安全教育，考试合格后方可上岗；每年底进行一次下年度《安规》考试，班组每周举行一次安全活动。
"""


def test_off_domain_document() -> None:
    # 004 line 115: a power-plant safety plan in a hospital compilation gets other/off_domain
    classified = classify_text(OFF_DOMAIN)
    doc = classified.documents[0]
    assert doc.scope == "off_domain"
    assert [t.id for t in doc.themes] == [OTHER]
    assert {s.primary for s in doc.sections} == {OTHER}


@pytest.mark.parametrize(("text", "scope"), [
    ("医院工作总结\n一、加强管理\n我院全院职工认真落实各项制度，我院成绩显著。\n", "hospital"),
    ("护理部工作计划\n一、护理质量\n护理部每月检查，我科护士长督导，我科室落实。\n", "department"),
    ("医师试用期工作总结\n一、工作学习\n我认真学习，我努力工作，我虚心请教，我不断进步。\n", "individual"),
    ("我市卫生系统平安医院工作总结\n一、工作情况\n全市各医疗机构落实责任，全市卫生系统稳定。\n", "authority"),
])
def test_document_scope(text: str, scope: str) -> None:
    assert classify_text(text).documents[0].scope == scope


# --- Determinism, JSON, dev gold ---------------------------------------------------------


def test_deterministic() -> None:
    path = corpus_file(DEV_FILES[0])
    first = classify_parsed(reportmine.parse_file(path)).to_dict()
    second = classify_parsed(reportmine.parse_file(path)).to_dict()
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)


def test_json_shape(parsed_corpus: dict) -> None:
    out = classify_parsed(parsed_corpus[DEV_FILES[1]]).to_dict()
    doc = out["documents"][0]
    assert doc["scope"] in SCOPES and doc["kind"] in ("summary", "plan", "other")
    assert all(set(t) == {"id", "score"} for t in doc["themes"])
    assert all(s["themes"] and set(s["themes"][0]) == {"id", "score"} for s in doc["sections"])


def test_dev_gold_acceptance(parsed_corpus: dict) -> None:
    """The accepted scores on the dev gold (eval_themes.py's metrics)."""
    pairs = [(json.loads((GOLD / f"{stem}.themes.json").read_text("utf-8")),
              classify_parsed(parsed_corpus[stem]).to_dict()) for stem in DEV_FILES]
    scores = score_themes(pairs)
    assert scores["primary_acc"] >= 0.90
    assert scores["lenient_acc"] >= 0.97
    assert scores["scope_acc"] == 1.0


@pytest.mark.slow
def test_learned_model_runs(parsed_corpus: dict) -> None:
    """The weakly supervised model (off by default) trains and classifies deterministically."""
    from reportmine.learned import weak_training_set

    examples = weak_training_set()
    assert len(examples) > 100
    assert {label for _, label in examples} == set(load_taxonomy().ids)
    first = classify_parsed(parsed_corpus[DEV_FILES[1]], use_model=True).to_dict()
    second = classify_parsed(parsed_corpus[DEV_FILES[1]], use_model=True).to_dict()
    assert first == second


# --- Custom taxonomy and codebook -------------------------------------------------------

CUSTOM = """name = "mini"
version = "1"

[[theme]]
id = "bone_rehab"
name_zh = "骨科康复"
definition = "Orthopaedic rehabilitation."
keywords = ["骨科快速康复", "康复训练"]

[[theme]]
id = "security"
name_zh = "安保"
definition = "Security."
keywords = ["保安", "巡逻"]
"""


def test_custom_taxonomy_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(CUSTOM, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.label == "mini/1"
    parsed = parse_text("科室工作总结\n一、推进骨科快速康复\n指导患者康复训练。\n二、其他工作\n保安每日巡逻。\n")
    classified = classify_parsed(parsed, taxonomy)
    assert [s.primary for s in classified.documents[0].sections] == ["bone_rehab", "security"]
    assert classified.to_dict()["taxonomy"] == "mini/1"
    table = codebook([classified], taxonomy)
    assert list(table["theme"]) == ["bone_rehab", "security", OTHER]
    assert list(table["sections"]) == [1, 1, 0]

    text = tmp_path / "report.txt"
    text.write_text("科室工作总结\n一、推进骨科快速康复\n指导患者康复训练。\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(text), "--format", "json", "--taxonomy", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"][0]["sections"][0]["themes"][0]["id"] == "bone_rehab"


def test_cli_bad_taxonomy_is_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[theme]]\nid = 3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", "--taxonomy", str(path)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "Traceback" not in result.output


def test_cli_classify_table_and_codebook(tmp_path: Path) -> None:
    out = tmp_path / "codebook.csv"
    result = CliRunner().invoke(app, ["classify", str(corpus_file(DEV_FILES[1])), "--codebook", str(out)])
    assert result.exit_code == 0, result.output
    assert "safe_hospital_security" in result.stdout
    import pandas as pd

    table = pd.read_csv(out)
    assert len(table) == 21 and table["sections"].sum() == 10


def test_codebook_without_results() -> None:
    table = codebook()
    assert len(table) == 21 and table["sections"].sum() == 0
    assert {"theme", "name_zh", "definition", "keywords", "example_sections", "sections", "documents"} <= set(table)


# --- Speed work: same output, less work ---------------------------------------------


def _find_by_trying_every_run(matcher, tokens):
    """The matcher as first written: at each token, every run up to max_len characters."""
    i, n = 0, len(tokens)
    while i < n:
        best, joined = None, ""
        for j in range(i, n):
            joined += tokens[j]
            if len(joined) > matcher.max_len:
                break
            if joined in matcher.terms:
                best = (j, joined)
        if best is None:
            i += 1
        else:
            yield best[1]
            i = best[0] + 1


def _token_pieces() -> list[str]:
    """Keywords, their halves and a few other words: runs that start terms, end them, or neither."""
    terms = sorted(get_matcher(load_taxonomy()).terms)[::7]
    return terms + [t[: len(t) // 2] for t in terms if len(t) > 1] + [t[len(t) // 2:] for t in terms] + ["的", "工作"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_token_pieces()), max_size=30))
def test_prefix_pruned_find_matches_every_run(tokens: list[str]) -> None:
    matcher = get_matcher(load_taxonomy())
    assert list(matcher.find(tokens)) == list(_find_by_trying_every_run(matcher, tokens))


def test_rjieba_classifies_the_sample_corpus_identically(parsed_corpus: dict) -> None:
    pytest.importorskip("rjieba")
    for stem, parsed in parsed_corpus.items():
        plain = classify_parsed(parsed, tokenizer="jieba").to_dict()
        fast = classify_parsed(parsed, tokenizer="rjieba").to_dict()
        assert fast == plain, stem


def test_cli_tokenizer_option() -> None:
    pytest.importorskip("rjieba")
    path = str(corpus_file(DEV_FILES[1]))
    plain = CliRunner().invoke(app, ["classify", path, "--format", "json"])
    fast = CliRunner().invoke(app, ["classify", path, "--format", "json", "--tokenizer", "rjieba"])
    assert plain.exit_code == fast.exit_code == 0
    assert fast.stdout == plain.stdout
    bad = CliRunner().invoke(app, ["classify", path, "--tokenizer", "pkuseg"])
    assert bad.exit_code == 2


def test_scope_counts_health_characters_as_a_loop_would() -> None:
    """The off-domain density, counted with str.count, is the per-character count."""
    from reportmine.segmentation import load_vocabulary
    from reportmine.themes import HAN_RUN, health_chars

    medical = set(load_vocabulary()["health"]["chars"])
    text = reportmine.sample_corpus().joinpath(f"{DEV_FILES[0]}.txt").read_text("utf-8") + "abc㐀\u9fff"
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    assert len(text) - len(HAN_RUN.sub("", text)) == len(han)
    assert sum(text.count(ch) for ch in health_chars()) == sum(ch in medical for ch in han)


def _sample_texts(parsed_corpus: dict) -> list[str]:
    """Every heading, body and line of the sample corpus."""
    texts = []
    for parsed in parsed_corpus.values():
        texts.extend(parsed.source.text.split("\n"))
        texts.extend(t for doc in parsed.documents for s in doc.sections for t in (s.title, s.body))
    return texts


@pytest.mark.parametrize("tokenizer", ["jieba", "rjieba"])
def test_text_hits_equal_hits_of_the_full_cut(parsed_corpus: dict, tokenizer: str) -> None:
    """Cutting only the blocks around possible terms finds what cutting everything finds."""
    if tokenizer == "rjieba":
        pytest.importorskip("rjieba")
    matcher = get_matcher(load_taxonomy(), tokenizer)
    texts = _sample_texts(parsed_corpus)
    assert len(texts) > 2000
    differ = [t for t in texts if matcher.text_hits(t) != matcher.hits(matcher.segmenter.cut(t))]
    assert differ == []
    # The prefilter does skip work: most lines hold a term, yet not every block is cut.
    assert sum(any(matcher.text_hits(t)) for t in texts) > len(texts) // 3


def _glued_text_pieces() -> list[str]:
    """Terms, halves of terms, punctuation, spaces, Latin and digits: terms split or joined across symbols."""
    terms = sorted(get_matcher(load_taxonomy()).terms)[::5]
    halves = [t[: len(t) // 2] for t in terms if len(t) > 1] + [t[len(t) // 2:] for t in terms]
    return terms + halves + ["，", "。", "、", " ", "\n", "（", "）", "-", ".", "+", "%", "ICU", "3", "ｄｒｇ", "㐀", "的"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_glued_text_pieces()), max_size=40))
def test_text_hits_equal_hits_on_random_text(pieces: list[str]) -> None:
    matcher = get_matcher(load_taxonomy())
    text = "".join(pieces)
    assert matcher.text_hits(text) == matcher.hits(matcher.segmenter.cut(text))


def test_text_hits_joins_tokens_across_punctuation_as_find_does() -> None:
    """院，感 has the tokens 院 and 感: the term 院感 is found across the comma, by both paths."""
    matcher = get_matcher(load_taxonomy())
    text = "加强院，感管理"
    assert "院感" in list(matcher.find(matcher.segmenter.cut(text)))
    assert matcher.text_hits(text) == matcher.hits(matcher.segmenter.cut(text))
    assert any(matcher.text_hits(text))
