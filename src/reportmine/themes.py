"""Theme classification: sections and documents into the hospital-management taxonomy.

In: a :class:`~reportmine.model.ParsedFile` and a :class:`Taxonomy` (the
shipped ``data/themes.toml`` or a user's file). Out: a :class:`ClassifiedFile`
giving every section a tuple of :class:`~reportmine.model.ThemeScore`
(primary first) and every document its dominant themes, its ``scope``
(hospital, department, individual, authority, off_domain) and its ``kind``,
as ``shared/gold/GUIDE_themes.md`` defines them.

How a section is scored (all counts on tokens of :mod:`reportmine.segmentation`):

1. Keyword evidence: taxonomy keywords (weight 1) and hospital-vocabulary cues
   (:data:`CUE_WEIGHT`) matched as whole tokens, longest term first, the
   heading counted :data:`TITLE_WEIGHT` times, subsections added to their
   parent.
2. Context: the evidence is smoothed towards the parent's distribution (the
   document's for a top-level section) with :data:`PRIOR_STRENGTH` pseudo
   hits, so that a generic heading (``领导重视，措施有力``) with a generic body
   takes its parent's theme, and items of a single-theme report lean to it.
3. Learned model (optional, ``use_model=True``): a logistic regression over
   TF-IDF of tokens, trained on the paragraphs of the bundled corpus that the
   keyword coder labels with confidence (weak supervision) plus the taxonomy's
   own keyword lists; its probabilities are mixed in with weight
   :data:`MODEL_WEIGHT`. Off by default: on the dev gold it lowered primary
   accuracy (0.933 keywords and context; 0.907 mixed at 0.15-0.5; 0.867 alone).

Everything is deterministic: sorted inputs, fixed solver seeds, no sampling.
"""

from __future__ import annotations

import hashlib
import re
import threading
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import TaxonomyError
from .model import Document, ParsedFile, Section, ThemeScore

if TYPE_CHECKING:
    import pandas as pd

    from .segmentation import Segmenter

Scope = Literal["hospital", "department", "individual", "authority", "off_domain"]
SCOPES: tuple[str, ...] = ("hospital", "department", "individual", "authority", "off_domain")

#: The id given to sections and documents no theme fits.
OTHER = "other"

# --- Tuned constants -------------------------------------------------------
# Set by reading the predictions on the bundled corpus files without gold
# (001, 003, 004); the dev gold (000, 002) only chose between variants
# (model off; no discount of talent_training evidence, which cost 0.013).
# Dev gold, eval_themes.py primary accuracy: 0.893 keywords alone, 0.907 with
# the vocabulary cues, 0.933 with context smoothing as well (the default).

#: A heading counts this many times its body's words (the taxonomy's advice;
#: the plain keyword coder of the issue uses 3 too).
TITLE_WEIGHT = 3.0
#: Hospital-vocabulary cues (vocabulary.toml [cues]) count this much of a keyword.
CUE_WEIGHT = 0.5
#: Subsections count this much toward their parent's evidence.
CHILD_WEIGHT = 1.0
#: Pseudo-hits of the parent's (or document's) distribution added to a
#: section's evidence: a section with less evidence than this leans to its context.
PRIOR_STRENGTH = 1.5
#: Share of the learned model's probabilities in the final mix.
MODEL_WEIGHT = 0.3
#: A further theme is listed when its score is at least this share of the primary's.
SECONDARY_RATIO = 0.5
#: At most this many themes per section or document (GUIDE_themes.md: 1 to 3).
MAX_THEMES = 3
#: Weak labels: a paragraph is a training example when its best theme has at
#: least this much keyword evidence and this ratio over the runner-up.
WEAK_MIN_EVIDENCE = 2.0
WEAK_MIN_MARGIN = 1.5
#: A document whose Chinese characters hold fewer than this share of health
#: characters (vocabulary.toml [health]) is off_domain: a power-plant safety
#: plan of the bundled corpus has 0.003, its hospital reports 0.025 to 0.11.
OFF_DOMAIN_DENSITY = 0.01
#: …judged only on documents at least this long (a title alone says little).
OFF_DOMAIN_MIN_CHARS = 50
#: Scope: an office named in the title or the first or last this many
#: characters counts this many extra department cues (it opens or signs the report).
SCOPE_EDGE_CHARS = 40
SCOPE_EDGE_BONUS = 3
SCOPE_OFFICE_WEIGHT = 0.5
#: Department when its cues reach this share of the hospital's self-references
#: (a hospital report naming 护理部 3 times beside 10 我院/全院 stays hospital;
#: an infection-control plan naming 院感办 15 times beside 22 全院 is the office's).
DEPARTMENT_RATIO = 0.4
#: Without a personal title, this many 我 (not 我院/我科…) make a report one person's.
INDIVIDUAL_FIRST_PERSON = 8
#: Version of the coder, written into outputs with the taxonomy's.
CODER_VERSION = "reportmine-themes/0.1"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_THEME_KEYS = {"id", "name_zh", "definition", "keywords"}
_OPTIONAL_THEME_KEYS = {"name_en", "notes", "examples"}


# --- Taxonomy --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme of a taxonomy.

    Attributes:
        id: ascii identifier (``infection_control``).
        name_zh: Chinese name (``医院感染管理``).
        definition: what belongs to the theme, for coders and the codebook.
        keywords: seed keywords, matched as whole tokens.
    """

    id: str
    name_zh: str
    definition: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A theme taxonomy: the themes, plus ``other`` implicitly.

    Attributes:
        themes: the themes in file order.
        path: the file it was read from (``None`` for the shipped one).
        name: the file's stem, or its ``name`` key.
        version: the file's ``version`` key, else the first 8 hex digits of
            its SHA-256, so that outputs name exactly the rules used.
    """

    themes: tuple[Theme, ...]
    path: str | None = None
    name: str = "themes"
    version: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def keywords(self) -> list[str]:
        """Every keyword of every theme, in file order."""
        return [k for t in self.themes for k in t.keywords]

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    @property
    def label(self) -> str:
        return f"{self.name}/{self.version}"


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy TOML file (default: the shipped one).

    The file holds ``[[theme]]`` tables with ``id`` (lower-case ascii, unique,
    not ``other``), ``name_zh``, ``definition`` and a non-empty ``keywords``
    list; a keyword may belong to one theme only. Optional top-level ``name``
    and ``version`` keys name the rule set.

    Raises:
        TaxonomyError: naming the file and the entry that is wrong.

    >>> taxonomy = load_taxonomy()
    >>> len(taxonomy.themes), taxonomy.themes[0].id
    (20, 'party_building_integrity')
    """
    if path is None:
        return _shipped_taxonomy()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read the taxonomy file ({exc.strerror or exc})") from None
    return _parse_taxonomy(raw, str(path))


@lru_cache(maxsize=1)
def _shipped_taxonomy() -> Taxonomy:
    raw = resources.files("reportmine.data").joinpath("themes.toml").read_bytes()
    taxonomy = _parse_taxonomy(raw, "themes.toml")
    return Taxonomy(taxonomy.themes, None, taxonomy.name, taxonomy.version)


def _parse_taxonomy(raw: bytes, where: str) -> Taxonomy:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TaxonomyError(f"{where}: not UTF-8 text") from None
    try:
        data = _toml_loads(text)
    except Exception as exc:  # tomllib.TOMLDecodeError, tomli's on 3.10
        raise TaxonomyError(f"{where}: not valid TOML: {exc}") from None
    entries = data.get("theme")
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{where}: no [[theme]] entries")
    themes: list[Theme] = []
    seen_ids: dict[str, int] = {}
    seen_keywords: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        label = f"theme #{number}"
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{where}: {label} is not a table")
        theme_id = entry.get("id")
        if isinstance(theme_id, str):
            label = f"theme #{number} ({theme_id})"
        missing = sorted(_THEME_KEYS - entry.keys())
        if missing:
            raise TaxonomyError(f"{where}: {label}: missing {', '.join(missing)}")
        unknown = sorted(entry.keys() - _THEME_KEYS - _OPTIONAL_THEME_KEYS)
        if unknown:
            raise TaxonomyError(f"{where}: {label}: unknown key {', '.join(unknown)}")
        if not isinstance(theme_id, str) or not _ID.match(theme_id):
            raise TaxonomyError(f"{where}: {label}: id must be lower-case ascii letters, digits and _")
        if theme_id == OTHER:
            raise TaxonomyError(f"{where}: {label}: '{OTHER}' is reserved for sections no theme fits")
        if theme_id in seen_ids:
            raise TaxonomyError(f"{where}: {label}: id also used by theme #{seen_ids[theme_id]}")
        seen_ids[theme_id] = number
        for key in ("name_zh", "definition"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise TaxonomyError(f"{where}: {label}: {key} must be a non-empty string")
        keywords = entry["keywords"]
        if not isinstance(keywords, list) or not keywords:
            raise TaxonomyError(f"{where}: {label}: keywords must be a non-empty list of strings")
        cleaned: list[str] = []
        for keyword in keywords:
            if not isinstance(keyword, str) or not keyword.strip():
                raise TaxonomyError(f"{where}: {label}: keyword {keyword!r} is not a non-empty string")
            if any(ch.isspace() for ch in keyword.strip()):
                raise TaxonomyError(f"{where}: {label}: keyword {keyword!r} contains a space")
            from .segmentation import normalize_term

            key = normalize_term(keyword)
            if key in seen_keywords:
                other = seen_keywords[key]
                detail = "twice" if other == theme_id else f"also in {other}"
                raise TaxonomyError(f"{where}: {label}: keyword {keyword!r} listed {detail}")
            seen_keywords[key] = theme_id
            cleaned.append(keyword.strip())
        themes.append(Theme(theme_id, entry["name_zh"].strip(), entry["definition"].strip(), tuple(cleaned)))
    name = data.get("name") if isinstance(data.get("name"), str) else Path(where).stem
    version = data.get("version")
    if not isinstance(version, str):
        version = hashlib.sha256(raw).hexdigest()[:8]
    return Taxonomy(tuple(themes), where, name, version)


# --- Keyword evidence --------------------------------------------------------


class _Matcher:
    """Taxonomy keywords and vocabulary cues, matched on token runs."""

    def __init__(self, taxonomy: Taxonomy, tokenizer: str | None = None) -> None:
        from .segmentation import get_segmenter, load_vocabulary, normalize_term

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
        (:data:`_LETTERS_CHUNK`), in memory that does not grow with it.
        """
        if not text:
            return [0.0] * len(self.ids)
        if len(text) <= _HITS_CACHE_MAX_CHARS:
            return list(self._text_hits_cached(text))
        return self._text_hits(text)

    def _text_hits(self, text: str) -> list[float]:
        from .segmentation import BLOCK_RUN, normalize

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
        for first in range(0, len(letters), _LETTERS_CHUNK):
            piece = letters[first:first + _LETTERS_CHUNK + overlap]
            found = [(first + start, first + end) for _, start, end in
                     self._automaton.find_matches_as_indexes(piece, overlapping=True) if start < _LETTERS_CHUNK]
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
# Letters of a long text matched at a time by Matcher.text_hits.
_LETTERS_CHUNK = 1 << 18


def _matcher(taxonomy: Taxonomy, tokenizer: str | None = None) -> _Matcher:
    from .segmentation import resolve_tokenizer

    return _cached_matcher(taxonomy, resolve_tokenizer(tokenizer))


@lru_cache(maxsize=8)
def _cached_matcher(taxonomy: Taxonomy, tokenizer: str) -> _Matcher:
    return _Matcher(taxonomy, tokenizer)


def _add(a: list[float], b: Sequence[float], weight: float = 1.0) -> None:
    for i, value in enumerate(b):
        if value:
            a[i] += weight * value


def _normalized(v: Sequence[float]) -> list[float]:
    total = sum(v)
    return [x / total for x in v] if total > 0 else [0.0] * len(v)


# --- Learned model -------------------------------------------------------------


def _identity(tokens: Any) -> Any:
    return tokens


@dataclass
class _Model:
    """The weakly supervised model: vectorizer, classifier and the classes it knows."""

    vectorizer: Any
    classifier: Any
    classes: tuple[int, ...]
    examples: int

    def predict(self, token_lists: Sequence[Sequence[str]], n_themes: int) -> list[list[float]]:
        """Probabilities over all themes (zero for themes without training data)."""
        if not token_lists:
            return []
        proba = self.classifier.predict_proba(self.vectorizer.transform([list(t) for t in token_lists]))
        out = []
        for row in proba:
            full = [0.0] * n_themes
            for k, p in zip(self.classes, row, strict=True):
                full[k] = float(p)
            out.append(full)
        return out


_MODEL_LOCK = threading.Lock()
_MODELS: dict[Taxonomy, _Model | None] = {}


def weak_training_set(taxonomy: Taxonomy | None = None,
                      paths: Iterable[str | Path] | None = None) -> list[tuple[tuple[str, ...], str]]:
    """Weakly labelled examples: (tokens, theme id) for every paragraph of the
    corpus (default: the bundled sample corpus) that the keyword coder labels
    with confidence, plus one example per theme made of its keywords.

    Sorted input, so the same corpus always gives the same list.
    """
    from .reading import read_file
    from .samples import sample_corpus

    taxonomy = taxonomy or load_taxonomy()
    matcher = _matcher(taxonomy)
    if paths is None:
        paths = sorted(sample_corpus().glob("*.txt"))
    examples: list[tuple[tuple[str, ...], str]] = []
    for path in sorted(Path(p) for p in paths):
        text = read_file(path).text
        for line in text.split("\n"):
            tokens = matcher.segmenter.cut(line.strip())
            if len(tokens) < 4:
                continue
            v = matcher.hits(tokens)
            ranked = sorted(range(len(v)), key=lambda k: (-v[k], k))
            best, second = v[ranked[0]], v[ranked[1]] if len(ranked) > 1 else 0.0
            if best >= WEAK_MIN_EVIDENCE and best >= WEAK_MIN_MARGIN * second:
                examples.append((tokens, matcher.ids[ranked[0]]))
    for theme in taxonomy.themes:
        tokens = tuple(t for k in theme.keywords for t in matcher.segmenter.cut(k))
        examples.append((tokens, theme.id))
    return examples


def _train(taxonomy: Taxonomy) -> _Model | None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = weak_training_set(taxonomy)
    index = {theme_id: i for i, theme_id in enumerate(taxonomy.ids)}
    labels = [index[label] for _, label in examples]
    if len(set(labels)) < 2:
        return None
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
    matrix = vectorizer.fit_transform([list(tokens) for tokens, _ in examples])
    # lbfgs is deterministic; balanced weights keep the themes with few weak
    # examples (often only their keyword list) from being drowned.
    classifier = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=0)
    classifier.fit(matrix, labels)
    return _Model(vectorizer, classifier, tuple(int(c) for c in classifier.classes_), len(examples))


def _model(taxonomy: Taxonomy) -> _Model | None:
    with _MODEL_LOCK:
        if taxonomy not in _MODELS:
            _MODELS[taxonomy] = _train(taxonomy)
        return _MODELS[taxonomy]


# --- Results -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionThemes:
    """The themes of one section.

    Attributes:
        line: the section's heading line.
        index: its position in ``Document.sections``.
        themes: 1 to 3 themes, primary first (``other`` when none fits).
        basis: what decided the primary: ``text`` (its own heading, body or
            subsections), ``context`` (no evidence of its own: its parent's or
            the document's theme) or ``off_domain``.
    """

    line: int
    index: int
    themes: tuple[ThemeScore, ...]
    basis: str = "text"

    @property
    def primary(self) -> str:
        return self.themes[0].id if self.themes else OTHER


@dataclass(frozen=True, slots=True)
class DocumentThemes:
    """The themes, scope and kind of one document, and its sections' themes."""

    index: int
    start_line: int
    kind: str
    scope: str
    themes: tuple[ThemeScore, ...]
    sections: tuple[SectionThemes, ...]

    @property
    def primary(self) -> str:
        return self.themes[0].id if self.themes else OTHER


@dataclass(frozen=True, slots=True)
class ClassifiedFile:
    """A parsed file with its theme classification.

    Attributes:
        parsed: the structural parse that was classified.
        documents: one :class:`DocumentThemes` per document, in order.
        taxonomy: ``name/version`` of the taxonomy used.
        coder: name/version of the coder (:data:`CODER_VERSION`).
    """

    parsed: ParsedFile
    documents: tuple[DocumentThemes, ...]
    taxonomy: str = ""
    coder: str = CODER_VERSION

    @property
    def path(self) -> str:
        return self.parsed.path

    def to_dict(self, nested: bool = False) -> dict[str, Any]:
        """The parse JSON with ``themes`` on every section and ``scope`` and
        ``themes`` on every document (``[{"id", "score"}]``, primary first)."""
        out = self.parsed.to_dict(nested=nested)
        out["taxonomy"] = self.taxonomy
        out["coder"] = self.coder
        for doc_out, doc in zip(out["documents"], self.documents, strict=True):
            doc_out["scope"] = doc.scope
            doc_out["themes"] = [t.to_dict() for t in doc.themes]
            by_line = {s.line: s for s in doc.sections}
            stack = list(doc_out["sections"])
            while stack:
                section = stack.pop()
                found = by_line.get(section["line"])
                section["themes"] = [t.to_dict() for t in found.themes] if found else []
                stack.extend(section.get("children") or [])
        return out


# --- Classification --------------------------------------------------------------


@dataclass(slots=True)
class _Scored:
    # One per section of a document, all alive at once (160,000 in one 50 MB report): C doubles, 8 bytes
    # a theme, where a list of floats takes 32.
    own: array[float]                     # title × TITLE_WEIGHT + body
    tokens: tuple[str, ...]               # title and body tokens, kept for the model only
    subtree: array[float] = field(default_factory=lambda: array("d"))


def _section_tokens(matcher: _Matcher, section: Section) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return matcher.segmenter.cut(section.title), matcher.segmenter.cut(section.body)


def _top(dist: Sequence[float], ids: Sequence[str]) -> tuple[ThemeScore, ...]:
    ranked = sorted(range(len(dist)), key=lambda k: (-dist[k], k))
    if not ranked or dist[ranked[0]] <= 0:
        return (ThemeScore(OTHER, 1.0),)
    best = dist[ranked[0]]
    out = [ThemeScore(ids[k], dist[k]) for k in ranked[:MAX_THEMES] if dist[k] >= SECONDARY_RATIO * best]
    return tuple(out)


def _doc_scope(doc: Document) -> str:
    """GUIDE_themes.md scope, from the domain of the text and who it speaks for."""
    from .segmentation import load_vocabulary, normalize

    vocab = load_vocabulary()
    cues = vocab.get("scope", {})
    text = normalize(doc.text)
    title = normalize(doc.title or "")
    # Counted with str methods in C: a loop over every character took a tenth of classify.
    han = len(text) - len(_HAN.sub("", text))
    medical = sum(text.count(ch) for ch in _health_chars())
    if han >= OFF_DOMAIN_MIN_CHARS and medical < OFF_DOMAIN_DENSITY * han:
        return "off_domain"

    def count(key: str) -> int:
        return sum(text.count(w) for w in cues.get(key, []))

    own = count("hospital")
    # An office named in the text is often just mentioned (医务科 in a hospital's
    # report); a self-reference (我科) is not: offices count half.
    department = count("department") + SCOPE_OFFICE_WEIGHT * count("offices")
    # The office that opens or signs a report is its author (20xx年医教科围绕…, 信息科 under the list).
    edges = title + text[:SCOPE_EDGE_CHARS] + text[-SCOPE_EDGE_CHARS:]
    if any(w in edges for w in cues.get("offices", [])):
        department += SCOPE_EDGE_BONUS
    first_person = _first_person(text)
    if any(w in title for w in cues.get("individual_titles", [])) and (first_person >= 3 or department < 3):
        return "individual"
    if first_person >= INDIVIDUAL_FIRST_PERSON and department < 3 and own <= 1:
        return "individual"
    if any(w in title for w in cues.get("authority_titles", [])) or (count("authority") >= 3 and own <= 1):
        return "authority"
    if department >= 3 and department >= DEPARTMENT_RATIO * own:
        return "department"
    return "hospital"


_HAN = re.compile("[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _health_chars() -> tuple[str, ...]:
    """The distinct health characters of the vocabulary that :data:`_HAN` counts."""
    from .segmentation import load_vocabulary

    chars = set(load_vocabulary().get("health", {}).get("chars", ""))
    return tuple(sorted(ch for ch in chars if "\u4e00" <= ch <= "\u9fff"))


# 我 not followed by a unit (我院, 我科, 我市 …) nor 们: one person speaking.
_FIRST_PERSON = re.compile(r"我(?![院科市县区省国们部中局])")


def _first_person(text: str) -> int:
    return len(_FIRST_PERSON.findall(text))


def _classify_document(doc: Document, matcher: _Matcher, model: _Model | None) -> DocumentThemes:
    ids = matcher.ids
    n = len(ids)
    sections = doc.sections
    scored: list[_Scored] = []
    for section in sections:
        own = [0.0] * n
        if model is None:  # keyword evidence only: cut just the clauses that hold a term
            _add(own, matcher.text_hits(section.title), TITLE_WEIGHT)
            _add(own, matcher.text_hits(section.body))
            scored.append(_Scored(array("d", own), ()))
            continue
        # Each heading and body is cut once; the tokens serve the keyword
        # evidence here and the model's subtree token lists below.
        title, body = _section_tokens(matcher, section)
        _add(own, matcher.hits(title), TITLE_WEIGHT)
        _add(own, matcher.hits(body))
        scored.append(_Scored(array("d", own), title + body))
    # Subtree evidence, children before parents (sections are in line order):
    # each section adds its children's finished sums once, so the work is linear.
    for i in range(len(sections) - 1, -1, -1):
        total = array("d", scored[i].own)
        for c in sections[i].children:
            _add(total, scored[c].subtree, CHILD_WEIGHT)
        scored[i].subtree = total
    # Only the model reads whole subtrees' tokens; copying them costs depth × tokens.
    subtree_tokens: list[tuple[str, ...]] = []
    if model is not None:
        subtree_tokens = [s.tokens for s in scored]
        for i in range(len(sections) - 1, -1, -1):
            tokens = list(subtree_tokens[i])
            for c in sections[i].children:
                tokens.extend(subtree_tokens[c])
            subtree_tokens[i] = tuple(tokens)

    # Text of the document outside every section: title, preamble, closing lines.
    first = sections[0].start if sections else doc.end
    outside = doc.source_text[doc.start:first]
    doc_evidence = [0.0] * n
    if model is None:
        _add(doc_evidence, matcher.text_hits(doc.title or ""), TITLE_WEIGHT)
        _add(doc_evidence, matcher.text_hits(outside))
    else:
        doc_title = matcher.segmenter.cut(doc.title or "")
        preamble = matcher.segmenter.cut(outside)
        _add(doc_evidence, matcher.hits(doc_title), TITLE_WEIGHT)
        _add(doc_evidence, matcher.hits(preamble))
    roots = doc.roots
    for section in roots:
        _add(doc_evidence, scored[section.index].subtree)
    scope = _doc_scope(doc)

    if scope == "off_domain":
        other = (ThemeScore(OTHER, 1.0),)
        return DocumentThemes(doc.index, doc.start_line, doc.kind, scope, other,
                              tuple(SectionThemes(s.line, s.index, other, "off_domain") for s in sections))

    probs: list[list[float]] = []
    if model is not None:
        all_tokens = preamble + tuple(t for s in roots for t in subtree_tokens[s.index])
        probs = model.predict([doc_title * 3 + all_tokens, *subtree_tokens], n)
    doc_prior = _mix(_normalized(doc_evidence), probs[0] if probs else None)

    finals: list[Sequence[float]] = [() for _ in sections]
    results: list[SectionThemes] = []
    for i, section in enumerate(sections):
        prior = doc_prior if section.parent is None else finals[section.parent]
        evidence = scored[i].subtree
        total = sum(evidence)
        smoothed = [(e + PRIOR_STRENGTH * p) / (total + PRIOR_STRENGTH) for e, p in zip(evidence, prior, strict=True)]
        final = _mix(smoothed, probs[i + 1] if probs else None) if total > 0 else list(prior)
        finals[i] = array("d", final)
        results.append(SectionThemes(section.line, i, _top(final, ids), "text" if total > 0 else "context"))

    # Dominant themes by share of text: each section's own text weighs its distribution.
    share = [0.0] * n
    for i, section in enumerate(sections):
        own_chars = max(section.body_end - section.body_start, 0) + len(section.title)
        _add(share, finals[i], own_chars)
    _add(share, doc_prior, max(len(outside.strip()), 1))
    return DocumentThemes(doc.index, doc.start_line, doc.kind, scope, _top(_normalized(share), ids),
                          tuple(results))


def _mix(keyword_dist: Sequence[float], model_dist: Sequence[float] | None) -> list[float]:
    if model_dist is None or MODEL_WEIGHT <= 0:
        return list(keyword_dist)
    if sum(keyword_dist) <= 0:
        return [0.0] * len(keyword_dist)
    return [(1 - MODEL_WEIGHT) * k + MODEL_WEIGHT * m for k, m in zip(keyword_dist, model_dist, strict=True)]


def classify_parsed(parsed: ParsedFile, taxonomy: Taxonomy | None = None, *,
                    use_model: bool = False, tokenizer: str | None = None) -> ClassifiedFile:
    """Themes for every section and document of a parsed file.

    Args:
        parsed: a :class:`~reportmine.model.ParsedFile` from the parser.
        taxonomy: from :func:`load_taxonomy` (default: the shipped one).
        use_model: mix in the weakly supervised model (off by default: the
            keyword coder with context smoothing measured better, see above).
        tokenizer: ``jieba`` or ``rjieba`` (see :data:`reportmine.segmentation.TOKENIZERS`;
            default: ``$REPORTMINE_TOKENIZER``, else ``jieba``). Both give the same tokens.

    Returns:
        a :class:`ClassifiedFile`; ``to_dict()`` gives the parse JSON with themes.

    >>> from reportmine import parse_text
    >>> parsed = parse_text("医院工作总结\\n一、加强院感管理\\n严格手卫生，规范医疗废物处置。\\n")
    >>> classify_parsed(parsed).documents[0].sections[0].themes[0].id
    'infection_control'
    """
    taxonomy = taxonomy or load_taxonomy()
    matcher = _matcher(taxonomy, tokenizer)
    model = _model(taxonomy) if use_model and MODEL_WEIGHT > 0 else None
    documents = tuple(_classify_document(doc, matcher, model) for doc in parsed.documents)
    return ClassifiedFile(parsed, documents, taxonomy.label, CODER_VERSION)


def classify_file(path: str | Path, taxonomy: Taxonomy | None = None) -> ClassifiedFile:
    """Parse and classify one report file (see :func:`classify_parsed`)."""
    from .parsing import parse_file

    return classify_parsed(parse_file(path), taxonomy)


def classify_text(text: str, taxonomy: Taxonomy | None = None, path: str = "<string>") -> ClassifiedFile:
    """Parse and classify report text held in a string."""
    from .parsing import parse_text

    return classify_parsed(parse_text(text, path=path), taxonomy)


# --- Codebook --------------------------------------------------------------------


def codebook(classified: Iterable[ClassifiedFile] = (), taxonomy: Taxonomy | None = None,
             examples: int = 3) -> pd.DataFrame:
    """The taxonomy as a paper's appendix table, with counts from classified files.

    Columns: ``theme``, ``name_zh``, ``definition``, ``keywords`` (joined by
    ``、``), ``cues`` (hospital-vocabulary cues), ``sections`` and
    ``documents`` (how many have it as primary theme), ``example_sections``
    (up to ``examples`` headings, ``file:line 标题``, the highest-scored first),
    ``taxonomy`` and ``coder`` (rule-set names). One row per theme, plus ``other``.
    """
    import pandas as pd

    from .segmentation import load_vocabulary

    taxonomy = taxonomy or load_taxonomy()
    section_counts: Counter[str] = Counter()
    doc_counts: Counter[str] = Counter()
    picks: dict[str, list[tuple[float, str, int, str]]] = {}
    for result in classified:
        name = Path(result.path).name
        for doc, doc_themes in zip(result.parsed.documents, result.documents, strict=True):
            doc_counts[doc_themes.primary] += 1
            for section, st in zip(doc.sections, doc_themes.sections, strict=True):
                section_counts[st.primary] += 1
                if st.basis == "text":
                    score = st.themes[0].score if st.themes else 0.0
                    picks.setdefault(st.primary, []).append((-score, name, section.line, section.title))
    cues = load_vocabulary().get("cues", {})
    rows = []
    entries = [(t.id, t.name_zh, t.definition, t.keywords) for t in taxonomy.themes]
    entries.append((OTHER, "其他", "Sections no theme fits: clinical business of one specialty, "
                    "text off the hospital domain.", ()))
    for theme_id, name_zh, definition, keywords in entries:
        chosen = sorted(picks.get(theme_id, []))[:examples]
        rows.append({
            "theme": theme_id,
            "name_zh": name_zh,
            "definition": definition,
            "keywords": "、".join(keywords),
            "cues": "、".join(cues.get(theme_id, [])) if theme_id in taxonomy.ids else "",
            "sections": section_counts[theme_id],
            "documents": doc_counts[theme_id],
            "example_sections": " | ".join(f"{f}:{line} {title[:40]}" for _, f, line, title in chosen),
            "taxonomy": taxonomy.label,
            "coder": CODER_VERSION,
        })
    return pd.DataFrame(rows)


#: Titles are cut to this many characters in the table output.
TABLE_TITLE_CHARS = 40


def format_table(classified: ClassifiedFile) -> str:
    """One line per document and section: file, line, outline, scope or themes, title."""
    name = Path(classified.path).name
    lines = []
    for doc, dt in zip(classified.parsed.documents, classified.documents, strict=True):
        themes = ",".join(t.id for t in dt.themes)
        lines.append(f"{name}\t{doc.start_line}\tdocument\t{dt.scope}\t{doc.kind}\t{themes}\t{doc.title or ''}")
        for section, st in zip(doc.sections, dt.sections, strict=True):
            scored = ",".join(f"{t.id}:{t.score:.2f}" for t in st.themes)
            lines.append(f"{name}\t{section.line}\t{section.outline}\t{scored}\t{section.title[:TABLE_TITLE_CHARS]}")
    return "\n".join(lines) + "\n" if lines else ""
