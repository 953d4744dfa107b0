"""Segmentation: our own jieba tokenizer with the domain dictionary."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportmine
from reportmine import ReportmineError, load_taxonomy
from reportmine.errors import SettingsError
from reportmine.matching import get_matcher
from reportmine.segmentation import (
    TOKENIZERS,
    WORDLIKE,
    build_domain_dictionary,
    cut,
    domain_words,
    get_segmenter,
    load_vocabulary,
    normalize,
    normalize_term,
    resolve_tokenizer,
)

# (text, tokens that must appear, tokens that must not): keywords are whole
# tokens and never fire inside a longer domain term.
CUT_CASES = [
    # the classic case: 急诊 not inside 门急诊人次
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
    matcher = get_matcher(taxonomy)
    for theme in taxonomy.themes:
        for keyword in theme.keywords:
            assert list(matcher.find(matcher.segmenter.cut(keyword))) == [normalize_term(keyword)], keyword


def test_vocabulary_words_do_not_swallow_keywords() -> None:
    """A segmentation word holding a keyword hides it; allowed only where that is the point."""
    blockers = {"门急诊", "门急诊量", "急诊楼"}  # 急诊 of a building or a service count is not emergency care
    taxonomy = load_taxonomy()
    matcher = get_matcher(taxonomy)
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


# --- Speed work: the same tokens, faster ------------------------------------------


def _sample_texts() -> list[str]:
    """Every line, heading and body of the sample corpus, and every document title."""
    texts: list[str] = []
    for path in sorted(reportmine.sample_corpus().glob("*.txt")):
        parsed = reportmine.parse_file(path)
        texts.extend(parsed.text.splitlines())
        for doc in parsed.documents:
            texts.append(doc.title or "")
            for section in doc.sections:
                texts.extend([section.title, section.body])
    return [t for t in texts if t.strip()]


def _jieba_reference(text: str) -> tuple[str, ...]:
    """What jieba's own ``Tokenizer.cut`` gives on our dictionary, filtered as Segmenter.cut filters."""
    tokenizer = get_segmenter().tokenizer
    return tuple(t for t in tokenizer.cut(normalize(text), HMM=False) if WORDLIKE.search(t))


# Runs jieba treats specially: single ASCII letters and digits joined, its symbols
# (+#&._%-) inside runs, spaces, CJK extension A (outside jieba's runs), full-width forms.
EDGE_TEXTS = [
    "a1b2 c d 3.5% x-y+z#&w",
    "ＤＲＧ付费和DIP付费，ｂ超",
    "㐀㐁加强管理\u9fe0",
    "   \t\r\n",
    "第3.2.1条 ...--- %%%",
    "2019年门急诊人次12.5万,同比增长3%",
]


def test_fast_cut_gives_jiebas_tokens() -> None:
    """_jieba_cut is jieba's algorithm re-written: every sample text cuts as jieba cuts it."""
    segmenter = get_segmenter()
    texts = _sample_texts() + EDGE_TEXTS
    assert len(texts) > 1000
    differ = [t for t in texts if list(segmenter.cut(t)) != list(_jieba_reference(t))]
    assert not differ, differ[:3]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("医院感染管理门急诊人次护理质量安全三基严培训的了是和中心科室")
                                        + list("abcXYZ0129 .%+-#&_，。、\n㐀") + ["\u9fe0"]), max_size=60))
def test_fast_cut_property(text: str) -> None:
    assert list(get_segmenter().cut(text)) == list(_jieba_reference(text))


def test_rjieba_agrees_with_jieba_on_every_sample_text() -> None:
    """rjieba loads jieba's main dictionary (its own copy) and our words: same tokens."""
    pytest.importorskip("rjieba")
    fast = get_segmenter(tokenizer="rjieba")
    plain = get_segmenter(tokenizer="jieba")
    texts = _sample_texts() + EDGE_TEXTS
    differ = [t for t in texts if fast.cut(t) != plain.cut(t)]
    assert not differ, differ[:3]


def test_rjieba_agrees_with_extra_words() -> None:
    pytest.importorskip("rjieba")
    words = ["骨科快速康复", "日间手术中心"]
    text = "推进骨科快速康复，建成日间手术中心，加强院感管理"
    assert get_segmenter(words, "rjieba").cut(text) == get_segmenter(words, "jieba").cut(text)
    assert "骨科快速康复" in get_segmenter(words, "rjieba").cut(text)


def test_tokenizer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_tokenizer() == "jieba"
    assert resolve_tokenizer("rjieba") == "rjieba"
    monkeypatch.setenv("REPORTMINE_TOKENIZER", "rjieba")  # the tokenizer is passed, never read from the environment
    assert resolve_tokenizer() == "jieba"
    assert get_segmenter().engine == "jieba"
    assert set(TOKENIZERS) == {"jieba", "rjieba"}
    with pytest.raises(SettingsError, match="unknown tokenizer 'pkuseg'") as info:
        resolve_tokenizer("pkuseg")
    assert info.value.setting == "tokenizer" and isinstance(info.value, ReportmineError)


def test_missing_rjieba_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from reportmine import segmentation

    monkeypatch.setitem(sys.modules, "rjieba", None)  # import fails as if not installed
    monkeypatch.setattr(segmentation, "_SEGMENTERS", {})
    with pytest.raises(SettingsError, match="pip install rjieba"):
        get_segmenter(["某个新词"], "rjieba")


def test_jieba_loads_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    """No "Building prefix dict…" lines on stderr: the theme tokenizer and the tagger of metadata."""
    from reportmine.metadata import pos_tokenizer
    from reportmine.segmentation import Segmenter

    Segmenter(["静默加载测试词"]).cut("加强院感管理")
    pos_tokenizer.cache_clear()
    list(pos_tokenizer().cut("蚌埠市第一人民医院"))
    assert capfd.readouterr().err == ""


def test_only_short_texts_are_cached() -> None:
    from reportmine.segmentation import CACHE_MAX_CHARS, Segmenter

    segmenter = Segmenter()
    segmenter.cut("加强院感管理")
    segmenter.cut("加强院感管理" * (CACHE_MAX_CHARS // 6 + 1))
    assert segmenter._cut_cached.cache_info().currsize == 1
