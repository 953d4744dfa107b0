"""Word segmentation for the theme stage: our own jieba tokenizer.

In: text of a section title or body. Out: a tuple of tokens, normalised
(NFKC, ASCII lower-cased, spun synonyms replaced), punctuation and spaces
dropped. The tokenizer is a private ``jieba.Tokenizer`` instance built lazily
with the domain dictionary ``data/jieba_domain.txt`` (taxonomy keywords plus
the hospital vocabulary of ``data/vocabulary.toml``), so that a keyword
matches as whole tokens and never inside a longer term (急诊 does not fire in
门急诊人次). jieba's global tokenizer is never touched. The tokens of short
texts (headings, keywords) are cached. ``rjieba`` (jieba-rs) may stand in for
jieba: same dictionaries, same tokens, about ten times faster.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from math import log
from pathlib import Path
from typing import Any

from .errors import SettingsError
from .settings import DEFAULT_TOKENIZER, TOKENIZERS
from .taxonomy import load_taxonomy, load_toml, normalize_term

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
# Only short texts are cached (headings, items, keywords repeat across reports;
# bodies seldom do), so the cache stays under a few MB however large the corpus:
# caching every body held the tokens of the whole corpus (tens of bytes a token).
_TOKEN_CACHE = 4096
#: Texts of up to this many characters have their tokens cached.
CACHE_MAX_CHARS = 100
#: A token worth keeping has a CJK character, a letter or a digit.
WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
#: Maximal runs of the characters either engine segments as one block (jieba's
#: ``re_han_default``, jieba-rs's wider CJK ranges): every block of both lies
#: inside one such run, so a text cut at their edges is cut as in the whole.
BLOCK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1fa-zA-Z0-9+#&._%\-]+")


@lru_cache(maxsize=1)
def load_vocabulary() -> dict[str, Any]:
    """The shipped hospital vocabulary (``data/vocabulary.toml``) as a dict."""
    text = resources.files("reportmine.data").joinpath(_VOCAB_FILE).read_text("utf-8")
    return load_toml(text)


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
        keywords = load_taxonomy().keywords()
    lines = [f"{word} {DOMAIN_FREQ} {DOMAIN_TAG}" for word in domain_words(keywords)]
    return "\n".join(lines) + "\n"


def write_domain_dictionary() -> str:
    """Regenerate ``data/jieba_domain.txt`` in a source checkout; returns its path."""
    path = Path(__file__).resolve().parent / "data" / _DICT_FILE
    path.write_text(build_domain_dictionary(), encoding="utf-8")
    return str(path)


class Segmenter:
    """A jieba tokenizer of our own, with the domain dictionary and a token cache.

    Built lazily on first use. ``extra_words`` are added on top of the shipped
    dictionary, so that the keywords of a user's taxonomy are whole tokens too.
    ``tokenizer`` picks the engine (:data:`TOKENIZERS`): ``jieba`` itself, or
    ``rjieba``, a binding of jieba-rs that loads the same main dictionary and
    our words and gives the same tokens about ten times faster (a test checks
    agreement on every sample-corpus section).

    >>> seg = get_segmenter()
    >>> seg.cut("全年门急诊人次增长，急诊科加强院感管理")
    ('全年', '门急诊人次', '增长', '急诊科', '加强', '院感', '管理')
    """

    def __init__(self, extra_words: Iterable[str] = (), tokenizer: str = DEFAULT_TOKENIZER) -> None:
        self.extra_words = tuple(sorted({normalize_term(w) for w in extra_words if normalize_term(w)}))
        self.engine = resolve_tokenizer(tokenizer)
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._cut_cached = lru_cache(maxsize=_TOKEN_CACHE)(self._cut)

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._build_rjieba() if self.engine == "rjieba" else self._build_jieba()
        return self._tokenizer

    def _words(self) -> list[tuple[str, int, str | None]]:
        """The shipped dictionary's (word, freq, tag) entries."""
        dictionary = resources.files("reportmine.data").joinpath(_DICT_FILE).read_text("utf-8")
        entries = []
        for line in dictionary.splitlines():
            parts = line.split()
            if parts:
                entries.append((parts[0], int(parts[1]), parts[2] if len(parts) > 2 else None))
        return entries

    def _build_jieba(self) -> Any:
        import jieba

        # jieba's main dictionary is loaded once per process (plain_jieba, which
        # the metadata tagger uses as it is) and copied here, 0.01 s, before our
        # words go in: loading it again cost 0.4 s and 100 MB in every worker.
        base = plain_jieba()
        with quiet_jieba():
            tokenizer = jieba.Tokenizer()
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(base.FREQ), base.total, True
            for word, freq, tag in self._words():
                tokenizer.add_word(word, freq, tag)
            for word in self.extra_words:
                if tokenizer.FREQ.get(word, 0) < DOMAIN_FREQ:
                    tokenizer.add_word(word, DOMAIN_FREQ, DOMAIN_TAG)
        return tokenizer

    def _build_rjieba(self) -> Any:
        import rjieba

        # jieba-rs's copy of jieba's main dictionary. One difference: re-adding a
        # word replaces its count in the total, where jieba adds it on top, so the
        # totals differ by 0.12% (315 of our 778 words are in the main dictionary),
        # a word costs 0.0012 less in log probability, and no path of the sample
        # or benchmark corpora changed (tests/test_segmentation.py checks the samples).
        tokenizer = rjieba.Jieba()
        for word, freq, tag in self._words():
            tokenizer.add_word(word, freq, tag)
        main = _main_dict_freqs(self.extra_words) if self.extra_words else {}
        for word in self.extra_words:
            if main.get(word, 0) < DOMAIN_FREQ:  # the rule of _build_jieba
                tokenizer.add_word(word, DOMAIN_FREQ, DOMAIN_TAG)
        return tokenizer

    def _cut(self, text: str) -> tuple[str, ...]:
        return self.cut_normal(normalize(text))

    def cut_normal(self, normal: str) -> tuple[str, ...]:
        """Tokens of text that :func:`normalize` has already normalised (never cached)."""
        # HMM off: unknown words are not guessed, so segmentation depends only
        # on the dictionaries and is the same on every run.
        if self.engine == "rjieba":
            return tuple(t for t in self.tokenizer.cut(normal, hmm=False) if WORDLIKE.search(t))
        return _jieba_cut(self.tokenizer, normal)

    def cut(self, text: str) -> tuple[str, ...]:
        """Tokens of ``text``, normalised, punctuation and spaces dropped.

        Texts of up to :data:`CACHE_MAX_CHARS` characters (headings, short
        items, keywords: the parts that repeat across reports) are cached.
        """
        if not text:
            return ()
        if len(text) <= CACHE_MAX_CHARS:
            return self._cut_cached(text)
        return self._cut(text)


_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# The characters of jieba's re_han_default that WORDLIKE does not match: a
# token of a run that starts with none of them has a word character.
_RUN_SYMBOLS = frozenset("+#&._%-ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _jieba_cut(tokenizer: Any, text: str) -> tuple[str, ...]:
    """``tokenizer.cut(text, HMM=False)`` of jieba, tokens without a word
    character dropped: the same algorithm on the same dictionary, in less
    time (jieba builds a dict of lists and a generator of tuples for every
    character; here one backward pass does both). Tests check that it gives
    jieba's tokens on every line and section of the sample corpus and on random text.

    The ``jieba`` engine (the default) only: ``rjieba`` cuts in Rust. Classifying
    the 10 MB benchmark corpus (one process, caches emptied, best of 3) took
    5.1 s with this port vs 7.4 s with jieba's own cut (rjieba: 3.5 s); cutting
    all its 61,282 headings and bodies whole, 5.3 s vs 6.6 s (rjieba: 1.1 s),
    with the same tokens all three ways.
    """
    import jieba

    han, skip = jieba.re_han_default, jieba.re_skip_default
    freq, logtotal = tokenizer.FREQ, log(tokenizer.total)
    out: list[str] = []
    # re.split with one group: odd pieces are the runs jieba segments; the
    # others it yields character by character (spaces as runs), and of those
    # only the word characters survive our filter.
    for i, piece in enumerate(han.split(text)):
        if i % 2:
            out.extend(t for t in _dag_cut(freq, logtotal, piece) if t[0] not in _RUN_SYMBOLS or WORDLIKE.search(t))
        elif piece:
            out.extend(ch for part in skip.split(piece) if not skip.match(part)
                       for ch in part if WORDLIKE.match(ch))
    return tuple(out)


def _dag_cut(freq: dict[str, int], logtotal: float, block: str) -> list[str]:
    """jieba's ``__cut_DAG_NO_HMM`` on one run: the most probable path through
    the dictionary words of ``block`` (its ``get_DAG`` and ``calc``, fused),
    then single ASCII letters and digits joined as jieba joins them."""
    n = len(block)
    score = [0.0] * (n + 1)
    end = list(range(n + 1))
    for k in range(n - 1, -1, -1):
        best: float | None = None
        best_end = k
        i = k
        fragment = block[k]
        # Prefixes of dictionary words are in freq with 0: stop at the first non-prefix.
        while fragment in freq:
            count = freq[fragment]
            if count:
                value = log(count) - logtotal + score[i + 1]
                # >=: jieba takes max((value, end)), so a tie goes to the longer word.
                if best is None or value >= best:
                    best, best_end = value, i
            i += 1
            if i >= n:
                break
            fragment = block[k:i + 1]
        if best is None:  # no word starts here: the character alone, as jieba's DAG has it
            best = log(freq.get(block[k]) or 1) - logtotal + score[k + 1]
        score[k], end[k] = best, best_end
    tokens: list[str] = []
    run = ""
    x = 0
    while x < n:
        y = end[x] + 1
        word = block[x:y]
        if y - x == 1 and word in _ASCII_ALNUM:
            run += word
        else:
            if run:
                tokens.append(run)
                run = ""
            tokens.append(word)
        x = y
    if run:
        tokens.append(run)
    return tokens


@lru_cache(maxsize=1)
def plain_jieba() -> Any:
    """A ``jieba.Tokenizer`` of jieba's main dictionary alone, loaded once per process; never modified.

    jieba keeps that dictionary in a marshal cache of its own (the temp
    folder): loading it takes about 0.4 s. The theme segmenter copies it and
    adds the domain words; the metadata tagger reads it as it is.
    """
    import jieba

    with quiet_jieba():
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    return tokenizer


@contextmanager
def quiet_jieba() -> Iterator[None]:
    """Hold jieba's log messages below WARNING while a jieba dictionary loads.

    jieba logs "Building prefix dict…" to stderr; this keeps CLI output clean
    without changing its logger for anybody else for longer than the load.
    """
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _main_dict_freqs(words: Iterable[str]) -> dict[str, int]:
    """Frequencies of ``words`` in jieba's main dictionary (absent: not listed)."""
    import jieba

    wanted = set(words)
    found: dict[str, int] = {}
    with jieba.Tokenizer().get_dict_file() as handle:
        for line in handle.read().decode("utf-8").splitlines():
            parts = line.split(" ", 2)
            if parts[0] in wanted and len(parts) > 1:
                found[parts[0]] = int(parts[1])
    return found


_SEGMENTERS: dict[tuple[str, tuple[str, ...]], Segmenter] = {}
_SEGMENTERS_LOCK = threading.Lock()


def get_segmenter(extra_words: Iterable[str] = (), tokenizer: str | None = None) -> Segmenter:
    """The shared segmenter for a set of extra words (one per taxonomy) and a
    tokenizer (default: :func:`resolve_tokenizer`)."""
    engine = resolve_tokenizer(tokenizer)
    key = tuple(sorted({normalize_term(w) for w in extra_words if normalize_term(w)}))
    shipped = set(_shipped_words())
    key = tuple(w for w in key if w not in shipped)
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get((engine, key))
        if segmenter is None:
            if engine == "rjieba":
                _require_rjieba()
            segmenter = _SEGMENTERS[engine, key] = Segmenter(key, engine)
    return segmenter


def _require_rjieba() -> None:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        raise SettingsError("tokenizer", "tokenizer 'rjieba' is not installed: pip install rjieba") from None


def resolve_tokenizer(name: str | None = None) -> str:
    """The tokenizer to use: ``name``, else :data:`DEFAULT_TOKENIZER`.

    The tokenizer is passed explicitly down to every worker (no environment
    variable chooses it).

    Raises:
        SettingsError: for a name not in :data:`TOKENIZERS` (and, from
            :func:`get_segmenter`, for ``rjieba`` when it is not installed).
    """
    chosen = name or DEFAULT_TOKENIZER
    if chosen not in TOKENIZERS:
        raise SettingsError("tokenizer", f"unknown tokenizer {chosen!r}: choose one of {', '.join(TOKENIZERS)}")
    return chosen


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
