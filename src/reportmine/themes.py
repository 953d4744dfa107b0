"""Theme classification: sections and documents into the hospital-management taxonomy.

In: a :class:`~reportmine.model.ParsedFile` and a :class:`~reportmine.taxonomy.Taxonomy`
(the shipped ``data/themes.toml`` or a user's file). Out: a
:class:`~reportmine.model.ClassifiedFile` giving every section a tuple of
:class:`~reportmine.model.ThemeScore` (primary first) and every document its
dominant themes, its ``scope`` (hospital, department, individual, authority,
off_domain) and its ``kind``, as the themes guide (GUIDE_themes.md) defines them.

How a section is scored (all counts on tokens of :mod:`reportmine.segmentation`):

1. Keyword evidence (:mod:`reportmine.matching`): taxonomy keywords (weight 1)
   and hospital-vocabulary cues (:data:`~reportmine.matching.CUE_WEIGHT`)
   matched as whole tokens, longest term first, the heading counted
   :data:`TITLE_WEIGHT` times, subsections added to their parent.
2. Context: the evidence is smoothed towards the parent's distribution (the
   document's for a top-level section) with :data:`PRIOR_STRENGTH` pseudo
   hits, so that a generic heading (``领导重视，措施有力``) with a generic body
   takes its parent's theme, and items of a single-theme report lean to it.
3. Learned model (optional, ``use_model=True``; :mod:`reportmine.learned`): a
   logistic regression over TF-IDF of tokens, trained on the paragraphs of the
   bundled corpus that the keyword coder labels with confidence (weak
   supervision) plus the taxonomy's own keyword lists; its probabilities are
   mixed in with weight :data:`MODEL_WEIGHT`. Off by default: on the dev gold
   it lowered primary accuracy (0.933 keywords and context; 0.907 mixed at
   0.15-0.5; 0.867 alone).

Everything is deterministic: sorted inputs, fixed solver seeds, no sampling.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from .learned import LearnedModel, learned_model
from .matching import Matcher, get_matcher
from .model import ClassifiedFile, Document, DocumentThemes, ParsedFile, Section, SectionThemes, ThemeScore
from .parsing import parse_file, parse_text
from .segmentation import load_vocabulary, normalize
from .taxonomy import OTHER, Taxonomy, load_taxonomy

Scope = Literal["hospital", "department", "individual", "authority", "off_domain"]
SCOPES: tuple[str, ...] = ("hospital", "department", "individual", "authority", "off_domain")

# --- Tuned constants -------------------------------------------------------
# Set by reading the predictions on the bundled corpus files without gold
# (001, 003, 004); the dev gold (000, 002) only chose between variants
# (model off; no discount of talent_training evidence, which cost 0.013).
# Dev gold, eval_themes.py primary accuracy: 0.893 keywords alone, 0.907 with
# the vocabulary cues (matching.CUE_WEIGHT), 0.933 with context smoothing as
# well (the default).

#: A heading counts this many times its body's words (the taxonomy's advice;
#: a plain keyword coder uses 3 too).
TITLE_WEIGHT = 3.0
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


# --- Scoring ------------------------------------------------------------------------


def _add(a: list[float], b: Sequence[float], weight: float = 1.0) -> None:
    for i, value in enumerate(b):
        if value:
            a[i] += weight * value


def _normalized(v: Sequence[float]) -> list[float]:
    total = sum(v)
    return [x / total for x in v] if total > 0 else [0.0] * len(v)


def _mix(keyword_dist: Sequence[float], model_dist: Sequence[float] | None) -> list[float]:
    if model_dist is None or MODEL_WEIGHT <= 0:
        return list(keyword_dist)
    if sum(keyword_dist) <= 0:
        return [0.0] * len(keyword_dist)
    return [(1 - MODEL_WEIGHT) * k + MODEL_WEIGHT * m for k, m in zip(keyword_dist, model_dist, strict=True)]


def _top(dist: Sequence[float], ids: Sequence[str]) -> tuple[ThemeScore, ...]:
    ranked = sorted(range(len(dist)), key=lambda k: (-dist[k], k))
    if not ranked or dist[ranked[0]] <= 0:
        return (ThemeScore(OTHER, 1.0),)
    best = dist[ranked[0]]
    out = [ThemeScore(ids[k], dist[k]) for k in ranked[:MAX_THEMES] if dist[k] >= SECONDARY_RATIO * best]
    return tuple(out)


# --- Scope ---------------------------------------------------------------------------


def _doc_scope(doc: Document) -> str:
    """The guide's scope (GUIDE_themes.md), from the domain of the text and who it speaks for."""
    vocab = load_vocabulary()
    cues = vocab.get("scope", {})
    text = normalize(doc.text)
    title = normalize(doc.title or "")
    # Counted with str methods in C: a loop over every character took a tenth of classify.
    han = len(text) - len(HAN_RUN.sub("", text))
    medical = sum(text.count(ch) for ch in health_chars())
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


#: Runs of the CJK characters (U+4E00 to U+9FFF) whose health share decides off_domain.
HAN_RUN = re.compile("[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def health_chars() -> tuple[str, ...]:
    """The distinct health characters of the vocabulary that :data:`HAN_RUN` counts."""
    chars = set(load_vocabulary().get("health", {}).get("chars", ""))
    return tuple(sorted(ch for ch in chars if "\u4e00" <= ch <= "\u9fff"))


# 我 not followed by a unit (我院, 我科, 我市 …) nor 们: one person speaking.
_FIRST_PERSON = re.compile(r"我(?![院科市县区省国们部中局])")


def _first_person(text: str) -> int:
    return len(_FIRST_PERSON.findall(text))


# --- Classification --------------------------------------------------------------


@dataclass(slots=True)
class _Scored:
    # One per section of a document, all alive at once (160,000 in one 50 MB report): C doubles, 8 bytes
    # a theme, where a list of floats takes 32.
    own: array[float]                     # title × TITLE_WEIGHT + body
    tokens: tuple[str, ...]               # title and body tokens, kept for the model only
    subtree: array[float] = field(default_factory=lambda: array("d"))


def _section_tokens(matcher: Matcher, section: Section) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return matcher.segmenter.cut(section.title), matcher.segmenter.cut(section.body)


def _score_sections(sections: Sequence[Section], matcher: Matcher, model: LearnedModel | None) -> list[_Scored]:
    """Every section's own and subtree keyword evidence (and, for the model, its own tokens)."""
    n = len(matcher.ids)
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
    return scored


def _subtree_tokens(sections: Sequence[Section], scored: Sequence[_Scored]) -> list[tuple[str, ...]]:
    """Every section's tokens with its subsections'. Only the model reads them: copying costs depth × tokens."""
    subtree_tokens = [s.tokens for s in scored]
    for i in range(len(sections) - 1, -1, -1):
        tokens = list(subtree_tokens[i])
        for c in sections[i].children:
            tokens.extend(subtree_tokens[c])
        subtree_tokens[i] = tuple(tokens)
    return subtree_tokens


def _smooth_sections(sections: Sequence[Section], scored: Sequence[_Scored], doc_prior: Sequence[float],
                     probs: Sequence[Sequence[float]], ids: Sequence[str],
                     ) -> tuple[list[Sequence[float]], list[SectionThemes]]:
    """Each section's final distribution (its evidence smoothed towards its parent's) and themes."""
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
    return finals, results


def _classify_document(doc: Document, matcher: Matcher, model: LearnedModel | None) -> DocumentThemes:
    ids = matcher.ids
    n = len(ids)
    sections = doc.sections
    scored = _score_sections(sections, matcher, model)
    subtree_tokens = _subtree_tokens(sections, scored) if model is not None else []

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
    finals, results = _smooth_sections(sections, scored, doc_prior, probs, ids)

    # Dominant themes by share of text: each section's own text weighs its distribution.
    share = [0.0] * n
    for i, section in enumerate(sections):
        own_chars = max(section.body_end - section.body_start, 0) + len(section.title)
        _add(share, finals[i], own_chars)
    _add(share, doc_prior, max(len(outside.strip()), 1))
    return DocumentThemes(doc.index, doc.start_line, doc.kind, scope, _top(_normalized(share), ids),
                          tuple(results))


def classify_parsed(parsed: ParsedFile, taxonomy: Taxonomy | None = None, *,
                    use_model: bool = False, tokenizer: str | None = None) -> ClassifiedFile:
    """Themes for every section and document of a parsed file.

    Args:
        parsed: a :class:`~reportmine.model.ParsedFile` from the parser.
        taxonomy: from :func:`~reportmine.taxonomy.load_taxonomy` (default: the shipped one).
        use_model: mix in the weakly supervised model of :mod:`reportmine.learned`
            (off by default: the keyword coder with context smoothing measured better, see above,
            and the model doubles the time: 31.0 s vs 14.6 s on the 10 MB benchmark corpus).
        tokenizer: ``jieba`` or ``rjieba`` (see :data:`reportmine.segmentation.TOKENIZERS`;
            default: ``jieba``). Both give the same tokens.

    Returns:
        a :class:`~reportmine.model.ClassifiedFile`; ``to_dict()`` gives the parse JSON with themes.

    >>> from reportmine import parse_text
    >>> parsed = parse_text("医院工作总结\\n一、加强院感管理\\n严格手卫生，规范医疗废物处置。\\n")
    >>> classify_parsed(parsed).documents[0].sections[0].themes[0].id
    'infection_control'
    """
    taxonomy = taxonomy or load_taxonomy()
    matcher = get_matcher(taxonomy, tokenizer)
    model = learned_model(taxonomy) if use_model and MODEL_WEIGHT > 0 else None
    documents = tuple(_classify_document(doc, matcher, model) for doc in parsed.documents)
    return ClassifiedFile(parsed, documents, taxonomy.label, CODER_VERSION)


def classify_file(path: str | Path, taxonomy: Taxonomy | None = None) -> ClassifiedFile:
    """Parse and classify one report file (see :func:`classify_parsed`)."""
    return classify_parsed(parse_file(path), taxonomy)


def classify_text(text: str, taxonomy: Taxonomy | None = None, path: str = "<string>") -> ClassifiedFile:
    """Parse and classify report text held in a string."""
    return classify_parsed(parse_text(text, path=path), taxonomy)
