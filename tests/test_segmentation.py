"""Segmentation: our own jieba tokenizer with the domain dictionary."""

from __future__ import annotations

import pytest

from reportmine import load_taxonomy
from reportmine.segmentation import (
    build_domain_dictionary,
    cut,
    domain_words,
    get_segmenter,
    load_vocabulary,
    normalize,
    normalize_term,
)
from reportmine.themes import _matcher

# (text, tokens that must appear, tokens that must not): keywords are whole
# tokens and never fire inside a longer domain term (issue 4, point 2).
CUT_CASES = [
    # the example: 急诊 not inside 门急诊人次
    ("全年门急诊人次12万", ["门急诊人次"], ["急诊"]),
    ("急诊科加强急诊急救管理", ["急诊科", "急诊", "急救"], []),
    ("严格落实三基三严培训", ["三基三严"], ["三"]),
    ("推进医联体和县域医共体建设", ["医联体", "县域医共体"], ["医共体"]),
    ("加强院感管理，规范手卫生", ["院感", "手卫生"], ["院"]),
    ("深化优质护理服务", ["优质护理"], ["护理"]),
    ("推进DRG付费改革", ["drg"], []),
    # a general compound of jieba's dictionary yields to the domain word (消防安全 -> 消防/安全检查)
    ("开展消防安全检查", ["消防"], ["消防安全"]),
    # buildings are not emergency care (000 line 88: 门诊楼、住院楼、急诊楼)
    ("门诊楼、住院楼、急诊楼", ["急诊楼"], ["急诊"]),
    # the narrower term wins (taxonomy multi-label notes: 控烟宣传 -> tobacco_control)
    ("加强控烟宣传", ["控烟宣传"], ["控烟"]),
]


@pytest.mark.parametrize(("text", "present", "absent"), CUT_CASES)
def test_cut_respects_domain_dictionary(text: str, present: list[str], absent: list[str]) -> None:
    tokens = cut(text)
    for token in present:
        assert token in tokens, (text, tokens)
    for token in absent:
        assert token not in tokens, (text, tokens)


@pytest.mark.parametrize(("raw", "normal"), [
    ("医院流感管理委员会", "医院感染管理委员会"),   # 004 line 519: spun 感染 -> 流感
    ("多重耐药菌医院流感管理", "多重耐药菌医院感染管理"),
    ("流感疫苗接种", "流感疫苗接种"),             # bare 流感 stays influenza
    ("ＤＲＧ", "drg"),                           # NFKC and lower case
])
def test_normalize_synonyms(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


def test_punctuation_and_spaces_dropped() -> None:
    assert cut("一、加强 院感 管理。") == ("一", "加强", "院感", "管理")
    assert cut("") == ()


def test_shipped_dictionary_is_generated_from_sources() -> None:
    from importlib import resources

    shipped = resources.files("reportmine.data").joinpath("jieba_domain.txt").read_text("utf-8")
    assert shipped == build_domain_dictionary(), "regenerate with segmentation.write_domain_dictionary()"


def test_every_keyword_is_in_the_dictionary() -> None:
    words = set(domain_words(load_taxonomy().keywords()))
    missing = [k for k in load_taxonomy().keywords() if normalize_term(k) not in words]
    assert not missing


def test_every_keyword_is_found_alone() -> None:
    """Each taxonomy keyword, written alone, is matched as itself."""
    taxonomy = load_taxonomy()
    matcher = _matcher(taxonomy)
    for theme in taxonomy.themes:
        for keyword in theme.keywords:
            assert list(matcher.find(matcher.segmenter.cut(keyword))) == [normalize_term(keyword)], keyword


def test_vocabulary_words_do_not_swallow_keywords() -> None:
    """A segmentation word holding a keyword hides it; allowed only where that is the point."""
    blockers = {"门急诊", "门急诊量", "急诊楼"}  # 急诊 of a building or a service count is not emergency care
    taxonomy = load_taxonomy()
    matcher = _matcher(taxonomy)
    keywords = {normalize_term(k) for k in taxonomy.keywords()}
    for word in map(normalize_term, load_vocabulary()["segmentation"]["words"]):
        if word in matcher.terms or word in blockers:
            continue
        assert not [k for k in keywords if k in word], word


def test_extra_words_get_their_own_segmenter() -> None:
    custom = get_segmenter(["骨科快速康复"])
    assert "骨科快速康复" in custom.cut("推进骨科快速康复")
    assert get_segmenter() is get_segmenter([])          # shipped words add nothing
    assert get_segmenter(["骨科快速康复"]) is custom       # one per word set


def test_global_jieba_untouched() -> None:
    import jieba

    cut("加强院感管理")
    assert "院感" not in jieba.dt.FREQ or jieba.dt.FREQ.get("院感", 0) < 100_000
