"""Keyword evidence for the theme classifier: taxonomy keywords and vocabulary cues found in text.

A :class:`Matcher` holds the terms of one taxonomy (its keywords, weight 1, and
the hospital-vocabulary cues of ``data/vocabulary.toml``, :data:`CUE_WEIGHT`)
and finds them as runs of whole tokens of :mod:`reportmine.segmentation`,
longest term first. :meth:`Matcher.text_hits` gives the evidence per theme of
a text while segmenting only the parts of it a term can touch.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from .segmentation import BLOCK_RUN, Segmenter, get_segmenter, load_vocabulary, normalize, resolve_tokenizer
from .taxonomy import Taxonomy, normalize_term

#: Hospital-vocabulary cues (vocabulary.toml [cues]) count this much of a keyword
#: (a tuned constant of the theme coder: see :mod:`reportmine.themes`).
CUE_WEIGHT = 0.5


class Matcher:
    """Taxonomy keywords and vocabulary cues, matched on token runs."""

    def __init__(self, taxonomy: Taxonomy, tokenizer: str | None = None) -> None:
        self.taxonomy = taxonomy
        self.ids = taxonomy.ids
        self.index = {theme_id: i for i, theme_id in enumerate(self.ids)}
        terms: dict[str, tuple[int, float]] = {}
        cues = load_vocabulary().get("cues", {})
        for theme_id in sorted(cues):
            if theme_id in self.index:
                own = [normalize_term(k) for k in taxonomy.theme(theme_id).keywords]
                for word in map(normalize_term, cues[theme_id]):
                    # A cue holding a keyword of its own theme is a longer form of it
                    # (护理工作): as one jieba token it must not count less than 护理.
                    weight = 1.0 if any(k in word for k in own) else CUE_WEIGHT
                    terms.setdefault(word, (self.index[theme_id], weight))
        for theme in taxonomy.themes:  # keywords override cues of the same spelling
            for keyword in theme.keywords:
                terms[normalize_term(keyword)] = (self.index[theme.id], 1.0)
        self.segmenter: Segmenter = get_segmenter(taxonomy.keywords(), tokenizer)
        self.terms = terms
        self.max_len = max(len(t) for t in terms)
        # Every leading part of a term: a run of tokens whose joined text is not
        # one cannot grow into a term, so :meth:`find` stops at once (most tokens
        # start no term; trying every run up to max_len chars cost a third of classify).
        self.prefixes = frozenset(t[:k] for t in terms for k in range(1, len(t) + 1))
        # Terms of letters, digits and CJK only (all shipped ones) can be looked
        # for in the text before segmenting it: see :meth:`text_hits`.
        self._prefilter = all(_WORD_CHARS.fullmatch(t) for t in terms)
        self._automaton: Any = None
        self._text_hits_cached = lru_cache(maxsize=_HITS_CACHE)(self._text_hits)

    def find(self, tokens: Sequence[str]) -> Iterator[str]:
        """The terms found as runs of whole tokens, in text order; at each
        position the longest term wins and matching resumes after it."""
        terms, prefixes = self.terms, self.prefixes
        i, n = 0, len(tokens)
        while i < n:
            best = None
            joined = ""
            for j in range(i, n):
                joined += tokens[j]
                if joined not in prefixes:
                    break
                if joined in terms:
                    best = (j, joined)
            if best is None:
                i += 1
            else:
                yield best[1]
                i = best[0] + 1

    def hits(self, tokens: Sequence[str]) -> list[float]:
        """Evidence per theme: the weights of the terms :meth:`find` finds."""
        out = [0.0] * len(self.ids)
        for term in self.find(tokens):
            theme, weight = self.terms[term]
            out[theme] += weight
        return out

    def text_hits(self, text: str) -> list[float]:
        """``hits(segmenter.cut(text))``, segmenting only the parts of ``text`` a term can touch.

        Segmenting is most of classify's time, and half of a report's clauses
        hold no term at all. The tokens, punctuation dropped, join into the
        text's letters, digits and CJK characters, so a term found on whole
        tokens is also a substring of those characters: one Aho-Corasick pass
        over them finds every place a term could be. Only the blocks around
        those places are cut (a block is cut the same alone as inside the
        whole text), and each piece's tokens are matched on their own, so
        :meth:`find` never joins tokens the text kept apart. The result is
        exact (tests compare it with the full cut); short texts (headings) are
        cached. A long text is matched a chunk of letters at a time
        (:data:`LETTERS_CHUNK`), in memory that does not grow with it.
        """
        if not text:
            return [0.0] * len(self.ids)
        if len(text) <= _HITS_CACHE_MAX_CHARS:
            return list(self._text_hits_cached(text))
        return self._text_hits(text)

    def _text_hits(self, text: str) -> list[float]:
        if not self._prefilter:
            return self.hits(self.segmenter.cut(text))
        normal = normalize(text)
        letters = _NON_WORD_CHARS.sub("", normal)
        if self._automaton is None:
            import ahocorasick_rs

            self._automaton = ahocorasick_rs.AhoCorasick(list(self.terms))
        out = [0.0] * len(self.ids)
        # Where each run of word characters starts in ``normal`` and in ``letters``, and the blocks: flat
        # arrays, the matches and spans a chunk of letters at a time. As lists of tuples, all at once, they
        # took 80 bytes per character of a long text (1.3 GB for one 50 MB section-less report).
        run_starts, letter_starts = array("q"), array("q")
        filled = 0
        for m in _WORD_RUN.finditer(normal):
            start, end = m.span()
            run_starts.append(start)
            letter_starts.append(filled)
            filled += end - start
        block_starts, block_ends = array("q"), array("q")
        for m in BLOCK_RUN.finditer(normal):
            block_starts.append(m.start())
            block_ends.append(m.end())

        def in_normal(offset: int) -> int:
            run = bisect_right(letter_starts, offset) - 1
            return run_starts[run] + offset - letter_starts[run]

        def block_of(position: int) -> int:
            return bisect_right(block_starts, position) - 1  # every word character is in a block

        # Spans come in order of their matches' starts, chunk after chunk, and a span's start never falls
        # as a match's start rises: sorting each chunk's spans sorts them all (ties merge alike in any
        # order). A merged span is cut when the next one cannot join it, and its terms counted at once, in
        # text order: as find() over all the cuts' tokens with a barrier between them, which it never crosses.
        current: list[int] = []
        overlap = self.max_len - 1  # a match starting in a chunk ends within this many letters past it
        for first in range(0, len(letters), LETTERS_CHUNK):
            piece = letters[first:first + LETTERS_CHUNK + overlap]
            found = [(first + start, first + end) for _, start, end in
                     self._automaton.find_matches_as_indexes(piece, overlapping=True) if start < LETTERS_CHUNK]
            spans = sorted((block_starts[block_of(in_normal(start))], block_ends[block_of(in_normal(end - 1))])
                           for start, end in found)
            for start, end in spans:
                if current and start <= current[1]:
                    current[1] = max(current[1], end)
                    continue
                if current:
                    self._hits_into(out, self.segmenter.cut_normal(normal[current[0]:current[1]]))
                current = [start, end]
        if current:
            self._hits_into(out, self.segmenter.cut_normal(normal[current[0]:current[1]]))
        return out

    def _hits_into(self, out: list[float], tokens: Sequence[str]) -> None:
        """:meth:`hits`, added into ``out`` term by term."""
        for term in self.find(tokens):
            theme, weight = self.terms[term]
            out[theme] += weight


_WORD_CHARS = re.compile(r"[0-9a-z\u3400-\u9fff]+")  # the characters a kept token is made of
_WORD_RUN = _WORD_CHARS
_NON_WORD_CHARS = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_HITS_CACHE = 4096
_HITS_CACHE_MAX_CHARS = 100
#: Letters of a long text matched at a time by :meth:`Matcher.text_hits`.
LETTERS_CHUNK = 1 << 18


def get_matcher(taxonomy: Taxonomy, tokenizer: str | None = None) -> Matcher:
    """The shared matcher of a taxonomy and a tokenizer (default: ``jieba``, see :mod:`reportmine.segmentation`)."""
    return _cached_matcher(taxonomy, resolve_tokenizer(tokenizer))


@lru_cache(maxsize=8)
def _cached_matcher(taxonomy: Taxonomy, tokenizer: str) -> Matcher:
    return Matcher(taxonomy, tokenizer)
