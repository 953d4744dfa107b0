"""Stage 2, cleaning: tell page furniture and metadata from report text.

In: a :class:`~reportmine.model.SourceText`. Out: a :class:`LineInfo` per
line saying what it looks like on its own — blank, noise (site navigation,
furniture, blurbs, collection titles, "people also read" lists, teasers),
header metadata (source, publish or upload date, author), a signature line
(issuing unit or date, short), a report title, or content. Nothing is
dropped: :mod:`reportmine.documents` turns these into the final roles
(``meta`` of a report, ``page_meta`` of a compilation, ``noise``), using the
document boundaries it finds.

The vocabularies are data (``data/cleaning.toml``) so that a new site's
furniture is a one-line change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from .markers import match_marker
from .model import SourceText

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LineLook = Literal["blank", "noise", "header_meta", "signature", "title", "label", "content"]

# Longest line (characters, white space stripped) still read as a title,
# signature or furniture; longer lines are content whatever they contain.
MAX_TITLE_CHARS = 60
MAX_SIGNATURE_CHARS = 40
MAX_HEADER_META_CHARS = 200
# A teaser repeats the report it introduces: the first characters of one of
# the next few content lines must reappear inside it.
_TEASER_PROBE_CHARS = 8
_TEASER_LOOKAHEAD = 6
_TEASER_MAX_CHARS = 2000


@dataclass(frozen=True, slots=True)
class CleaningRules:
    """Vocabularies of ``data/cleaning.toml``, compiled."""

    furniture_exact: frozenset[str]
    furniture_re: re.Pattern[str]
    blurb_re: re.Pattern[str]
    collection_re: re.Pattern[str]
    also_read_re: re.Pattern[str]
    header_meta_re: re.Pattern[str]
    label_re: re.Pattern[str]
    report_word_re: re.Pattern[str]
    org_suffix_re: re.Pattern[str]
    date_line_re: re.Pattern[str]
    title_wrapper_re: re.Pattern[str]


@lru_cache(maxsize=1)
def default_rules() -> CleaningRules:
    """The shipped rules (``reportmine/data/cleaning.toml``)."""
    return compile_rules(load_data_toml("cleaning.toml"))


def load_data_toml(name: str) -> dict:
    """A TOML file shipped in ``reportmine/data``, parsed."""
    return tomllib.loads(resources.files("reportmine.data").joinpath(name).read_text("utf-8"))


def compile_rules(raw: dict) -> CleaningRules:
    def alternation(key: str) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in raw[key]))

    return CleaningRules(
        furniture_exact=frozenset(raw["furniture_exact"]),
        furniture_re=alternation("furniture_patterns"),
        blurb_re=alternation("blurb_patterns"),
        collection_re=alternation("collection_title_patterns"),
        also_read_re=alternation("also_read_patterns"),
        header_meta_re=alternation("header_meta_patterns"),
        label_re=alternation("compilation_label_patterns"),
        report_word_re=alternation("report_word_patterns"),
        org_suffix_re=alternation("organisation_patterns"),
        date_line_re=alternation("date_line_patterns"),
        title_wrapper_re=alternation("title_wrapper_patterns"),
    )


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What one line looks like on its own.

    Attributes:
        number: 1-based line number.
        start, end: offsets of the line (newline excluded).
        look: blank, noise, header_meta, signature, title (a report title
            such as ``…工作总结``), label (a compilation label such as
            ``…篇三``, ``范文第2篇``) or content.
        indent: leading white-space width (a full-width space counts 2).
        stripped: the line without surrounding white space and ``#`` marks.
        teaser_title: for a teaser line, the report title it opens with.
        is_marker: the line starts with a numbering marker.
    """

    number: int
    start: int
    end: int
    look: LineLook
    indent: int
    stripped: str
    teaser_title: str | None = None
    is_marker: bool = False


def _indent_width(line: str) -> int:
    """Leading white space, in half-width columns (wide spaces count 2, a tab 4)."""
    width = 0
    for ch in line:
        if not ch.isspace():
            break
        width += 4 if ch == "\t" else 2 if ch in "\u3000\u2003" else 1
    return width


def _strip(line: str, rules: CleaningRules | None = None) -> str:
    """The line without white space, ``#`` marks and (with ``rules``) the wrappers scraped pages put
    around a title: a ``篇一:`` ordinal, a ``【www.…--计划】`` site tag, the ``《》`` of a quoted title."""
    s = line.strip()
    if s.startswith("#"):
        s = s.lstrip("#").strip()
    if rules is not None and s and s[0] in "篇【《第":
        unwrapped = rules.title_wrapper_re.sub("", s).strip()
        if unwrapped.startswith("《") and unwrapped.endswith("》") and "《" not in unwrapped[1:-1]:
            unwrapped = unwrapped[1:-1].strip()
        if unwrapped:
            s = unwrapped
    return s


def is_titleish(stripped: str, rules: CleaningRules) -> bool:
    """A short line with a report word and no sentence punctuation."""
    if not stripped or len(stripped) > MAX_TITLE_CHARS:
        return False
    if any(ch in stripped for ch in "。；;！!？?，,：:") or stripped.endswith(("...", "…")):
        return False
    return bool(rules.report_word_re.search(stripped))


def classify_lines(source: SourceText, rules: CleaningRules | None = None) -> list[LineInfo]:
    """Look at every line of ``source`` on its own (see :class:`LineInfo`)."""
    rules = rules or default_rules()
    text = source.text
    infos: list[LineInfo] = []
    also_read_open = False
    for number, start, end in source.lines():
        # Long lines are content whatever they hold; only their head matters here.
        head = text[start:min(end, start + 400)]
        stripped = _strip(head, rules)
        if not stripped:
            infos.append(LineInfo(number, start, end, "blank", 0, ""))
            continue
        indent = _indent_width(head)
        long_line = end - start > 400
        is_marker = match_marker(head[:64]) is not None
        look: LineLook = "content"
        if also_read_open:
            # The list under a "people also read" line: short titles, numbered or not.
            if len(stripped) <= MAX_TITLE_CHARS and not rules.label_re.search(stripped) and (
                is_marker or is_titleish(stripped, rules)
            ):
                infos.append(LineInfo(number, start, end, "noise", indent, stripped, None, is_marker))
                continue
            also_read_open = False
        if not long_line:
            look = _look(stripped, is_marker, rules)
            if look == "noise" and rules.also_read_re.search(stripped):
                also_read_open = True
        infos.append(LineInfo(number, start, end, look, indent, stripped, None, is_marker))
    _mark_teasers(infos, text)
    return infos


def _look(stripped: str, is_marker: bool, rules: CleaningRules) -> LineLook:
    short = len(stripped) <= MAX_TITLE_CHARS
    if stripped in rules.furniture_exact or (short and rules.furniture_re.search(stripped)):
        return "noise"
    if rules.also_read_re.search(stripped) and short:
        return "noise"
    if rules.blurb_re.match(stripped):
        return "noise"
    if short and rules.collection_re.search(stripped):
        return "noise"
    if len(stripped) <= MAX_HEADER_META_CHARS and rules.header_meta_re.search(stripped):
        return "header_meta"
    if is_marker:
        return "content"
    if short and not any(ch in stripped for ch in "。；;！!？?，,：:") and rules.label_re.search(stripped):
        return "label"
    if is_titleish(stripped, rules):
        return "title"
    if len(stripped) <= MAX_SIGNATURE_CHARS and (
        rules.date_line_re.fullmatch(stripped) or rules.org_suffix_re.fullmatch(stripped)
    ):
        return "signature"
    return "content"


def _mark_teasers(infos: list[LineInfo], text: str) -> None:
    """Mark lines that end in ``...`` and repeat the start of a report below."""
    for i, info in enumerate(infos):
        if info.look in ("blank", "noise"):
            continue
        if info.end - info.start > _TEASER_MAX_CHARS:
            continue
        line = text[info.start:info.end].rstrip()
        if not line.endswith(("...", "…", "。。。")):
            continue
        following = [x for x in infos[i + 1:i + 1 + 3 * _TEASER_LOOKAHEAD] if x.look != "blank"]
        for nxt in following[:_TEASER_LOOKAHEAD]:
            probe = text[nxt.start:nxt.end].strip()[:_TEASER_PROBE_CHARS]
            if len(probe) < _TEASER_PROBE_CHARS // 2:
                continue
            pos = line.find(probe)
            if pos == -1:
                continue
            title = _strip(line[:pos]) or None
            infos[i] = LineInfo(info.number, info.start, info.end, "noise", info.indent, info.stripped,
                                title, info.is_marker)
            break
