"""Word segmentation for the theme stage: our own jieba tokenizer.

In: text of a section title or body. Out: a tuple of tokens, normalised
(NFKC, ASCII lower-cased, spun synonyms replaced), punctuation and spaces
dropped. The tokenizer is a private ``jieba.Tokenizer`` instance built lazily
with the domain dictionary ``data/jieba_domain.txt`` (taxonomy keywords plus
the hospital vocabulary of ``data/vocabulary.toml``), so that a keyword
matches as whole tokens and never inside a longer term (急诊 does not fire in
门急诊人次). jieba's global tokenizer is never touched. Each distinct text is
cut once and the tokens are cached.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

#: Frequency given to every domain word in the jieba dictionary. jieba picks
#: the segmentation with the highest product of word probabilities, so a high
#: flat frequency makes the longest domain term win over splits into shorter
#: domain terms (门急诊人次 over 门/急诊/人次) and over general compounds of
#: jieba's own dictionary (消防/安全 over 消防安全, frequency 3), while a
#: three-way split of common words still loses (确保/安全, not 确/保安/全).
DOMAIN_FREQ = 100_000
#: Part-of-speech tag written for domain words (jieba's "other proper noun").
DOMAIN_TAG = "nz"
#: Name and version of the segmentation rules, written into outputs.
SEGMENTER_VERSION = "reportmine-jieba-domain/0.1"

_DICT_FILE = "jieba_domain.txt"
_VOCAB_FILE = "vocabulary.toml"
_TOKEN_CACHE = 65_536
# A token worth keeping has a CJK character, a letter or a digit.
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")


def _load_toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def load_vocabulary() -> dict[str, Any]:
    """The shipped hospital vocabulary (``data/vocabulary.toml``) as a dict."""
    text = resources.files("reportmine.data").joinpath(_VOCAB_FILE).read_text("utf-8")
    return _load_toml(text)


def normalize(text: str) -> str:
    """NFKC, ASCII lower case and known synonyms replaced (医院流感 → 医院感染).

    >>> normalize("ＤＲＧ付费，医院流感管理")
    'drg付费,医院感染管理'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    pattern, table = _synonym_pattern()
    if pattern is not None:
        text = pattern.sub(lambda m: table[m.group(0)], text)
    return text


@lru_cache(maxsize=1)
def _synonym_pattern() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    table = {
        unicodedata.normalize("NFKC", k).lower(): unicodedata.normalize("NFKC", v).lower()
        for k, v in load_vocabulary().get("synonyms", {}).items()
    }
    if not table:
        return None, table
    # Longest first, so that a longer spun form wins over its prefix.
    alternatives = sorted(table, key=lambda k: (-len(k), k))
    return re.compile("|".join(map(re.escape, alternatives))), table


def normalize_term(term: str) -> str:
    """A keyword as it appears in normalised text (NFKC, lower case)."""
    return unicodedata.normalize("NFKC", term).strip().lower()


def domain_words(keywords: Iterable[str] = ()) -> list[str]:
    """Every word of the domain dictionary: the given taxonomy keywords, the
    hospital vocabulary and its cue words, normalised, sorted, unique."""
    vocab = load_vocabulary()
    words: set[str] = set()
    words.update(keywords)
    words.update(vocab.get("segmentation", {}).get("words", []))
    for cue_words in vocab.get("cues", {}).values():
        words.update(cue_words)
    words.update(vocab.get("synonyms", {}).values())
    normal = {normalize_term(w) for w in words}
    return sorted(w for w in normal if w and not any(ch.isspace() for ch in w))


def build_domain_dictionary(keywords: Iterable[str] | None = None) -> str:
    """The text of ``data/jieba_domain.txt`` (jieba's ``word freq tag`` lines).

    Generated from the shipped taxonomy's keywords (default) and the hospital
    vocabulary; a test checks that the shipped file equals this output. To
    regenerate after editing themes.toml or vocabulary.toml::

        python -c "from reportmine.segmentation import write_domain_dictionary; write_domain_dictionary()"
    """
    if keywords is None:
        from .themes import load_taxonomy

        keywords = load_taxonomy().keywords()
    lines = [f"{word} {DOMAIN_FREQ} {DOMAIN_TAG}" for word in domain_words(keywords)]
    return "\n".join(lines) + "\n"


def write_domain_dictionary() -> str:
    """Regenerate ``data/jieba_domain.txt`` in a source checkout; returns its path."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / _DICT_FILE
    path.write_text(build_domain_dictionary(), encoding="utf-8")
    return str(path)


class Segmenter:
    """A jieba tokenizer of our own, with the domain dictionary and a token cache.

    Built lazily on first use (loading jieba's main dictionary takes about a
    second). ``extra_words`` are added on top of the shipped dictionary, so
    that the keywords of a user's taxonomy are whole tokens too.

    >>> seg = get_segmenter()
    >>> seg.cut("全年门急诊人次增长，急诊科加强院感管理")
    ('全年', '门急诊人次', '增长', '急诊科', '加强', '院感', '管理')
    """

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self.extra_words = tuple(sorted({normalize_term(w) for w in extra_words if normalize_term(w)}))
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._cut_cached = lru_cache(maxsize=_TOKEN_CACHE)(self._cut)

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._build()
        return self._tokenizer

    def _build(self) -> Any:
        import jieba

        logger = logging.getLogger("jieba")
        level = logger.level
        # jieba logs "Building prefix dict…" at DEBUG to stderr; keep CLI output clean
        # without changing its logger for anybody else for longer than the load.
        logger.setLevel(logging.WARNING)
        try:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            dictionary = resources.files("reportmine.data").joinpath(_DICT_FILE).read_text("utf-8")
            for line in dictionary.splitlines():
                parts = line.split()
                if parts:
                    tokenizer.add_word(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else None)
            for word in self.extra_words:
                if tokenizer.FREQ.get(word, 0) < DOMAIN_FREQ:
                    tokenizer.add_word(word, DOMAIN_FREQ, DOMAIN_TAG)
        finally:
            logger.setLevel(level)
        return tokenizer

    def _cut(self, text: str) -> tuple[str, ...]:
        normal = normalize(text)
        # HMM off: unknown words are not guessed, so segmentation depends only
        # on the dictionaries and is the same on every run.
        return tuple(t for t in self.tokenizer.cut(normal, HMM=False) if _WORDLIKE.search(t))

    def cut(self, text: str) -> tuple[str, ...]:
        """Tokens of ``text``, normalised, punctuation and spaces dropped (cached)."""
        if not text:
            return ()
        return self._cut_cached(text)


_SEGMENTERS: dict[tuple[str, ...], Segmenter] = {}
_SEGMENTERS_LOCK = threading.Lock()


def get_segmenter(extra_words: Iterable[str] = ()) -> Segmenter:
    """The shared segmenter for a set of extra words (one per taxonomy)."""
    key = tuple(sorted({normalize_term(w) for w in extra_words if normalize_term(w)}))
    shipped = set(_shipped_words())
    key = tuple(w for w in key if w not in shipped)
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get(key)
        if segmenter is None:
            segmenter = _SEGMENTERS[key] = Segmenter(key)
    return segmenter


@lru_cache(maxsize=1)
def _shipped_words() -> tuple[str, ...]:
    text = resources.files("reportmine.data").joinpath(_DICT_FILE).read_text("utf-8")
    return tuple(line.split()[0] for line in text.splitlines() if line.strip())


def cut(text: str) -> tuple[str, ...]:
    """Tokens of ``text`` with the shipped dictionary.

    >>> cut("严格落实三基三严培训，推进医联体建设")
    ('严格', '落实', '三基三严', '培训', '推进', '医联体', '建设')
    """
    return get_segmenter().cut(text)
