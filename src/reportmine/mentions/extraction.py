"""Running the mention finders over a text and placing the mentions in documents and sections."""

from __future__ import annotations

import bisect

from ..model import Document, Mention, ParsedFile, SourceText
from .context import Cand, Context
from .dates import find_dates, find_frequencies, find_periods
from .names import find_names
from .numbers import BareHook, find_numbers
from .peer import BARE_NUMBERS
from .resolve import document_year, main_year, resolve_overlaps, resolve_year, resolve_years, year_in


def find_all(text: str, bare: BareHook | None = None) -> list[Cand]:
    """The mentions of ``text`` as candidates, in text order, none overlapping.

    Names first (they set the spans where no number stands), then dates,
    frequencies, periods and numbers; ``bare`` reads numbers without a unit.
    """
    ctx = Context.of(text)
    names = list(find_names(ctx))
    cands = names + list(find_dates(ctx)) + list(find_frequencies(ctx)) + list(find_periods(ctx))
    for cand in find_numbers(ctx, bare):
        if not ctx.is_blocked(cand.start, cand.end):
            cands.append(cand)
    return resolve_overlaps(cands)


def _to_mention(c: Cand, source: SourceText) -> Mention:
    line = source.line_of(c.start)
    line_start = source.line_starts[line - 1]
    fields = {k: v for k, v in c.fields.items() if not k.startswith("_")}
    return Mention(type=c.type, text=source.text[c.start:c.end], start=c.start, end=c.end, line=line,  # type: ignore[arg-type]
                   col_start=c.start - line_start, col_end=c.end - line_start, path=source.path, **fields)


def extract(text: str, year: int | None = None, bare_numbers: bool = False, path: str = "<string>") -> list[Mention]:
    """Find the mentions in a bare string.

    Args:
        text: any text; lines are split on ``\\n``.
        year: the year that yearless dates and periods (今年, 上半年) refer to;
            by default the year the first line states, else the year the text
            states most often, else none (the raw form is kept).
        bare_numbers: also report numbers without a unit ("一千二百") as
            quantities; off for reports, where such numbers are mostly codes.
        path: the name recorded in each mention's ``path``.

    Returns:
        Mentions in text order; ``text[m.start:m.end] == m.text``.

    >>> [(m.type, m.text, m.value, m.unit) for m in extract("开展新技术、新项目40余项，合格率100%")]
    [('quantity', '40余项', 40, '项'), ('percent', '100%', 100, None)]
    """
    source = SourceText.from_text(text, path=path)
    cands = find_all(text, BARE_NUMBERS if bare_numbers else None)
    if year is None:
        first = text.split("\n", 1)[0]
        year = year_in(first) or main_year(text)
    resolve_years(cands, year)
    return [_to_mention(c, source) for c in cands]


def _page_year(parsed: ParsedFile) -> int | None:
    """The year the page's own meta lines (outside any document) state."""
    if not parsed.page_meta_lines:
        return None
    source = parsed.source
    return year_in("\n".join(source.line_text(x) for x in parsed.page_meta_lines))


class _Places:
    """Where a line of a parsed file stands: its document, that document's year, its section.

    Looked up for mentions in text order, so each lookup is cached for the next.
    """

    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.documents = parsed.documents
        self.doc_starts = [d.start_line for d in self.documents]
        self.section_lines: dict[int, list[int]] = {}
        self.years: dict[int | None, int | None] = {}
        self.last_place: tuple[int | None, int] = (None, 0)
        self.outline: str | None = None
        self.section_line: int | None = None

    def document(self, line: int) -> tuple[int | None, int | None]:
        """The index of the document holding ``line`` (``None`` outside any) and its year."""
        i = bisect.bisect_right(self.doc_starts, line) - 1
        doc_index = i if i >= 0 and self.documents[i].end_line >= line else None
        if doc_index not in self.years:
            self.years[doc_index] = document_year(self.documents[doc_index], self.parsed.source)[0] \
                if doc_index is not None else _page_year(self.parsed)
        return doc_index, self.years[doc_index]

    def section(self, doc_index: int | None, line: int) -> tuple[str | None, int | None]:
        """The outline and line of the innermost section of the document holding ``line``."""
        if (doc_index, line) != self.last_place:  # mentions crowd on a line: look its section up once
            self.last_place = (doc_index, line)
            self.outline = self.section_line = None
            if doc_index is not None:
                self.outline, self.section_line = self._section_of(self.documents[doc_index], doc_index, line)
        return self.outline, self.section_line

    def _section_of(self, doc: Document, doc_index: int, line: int) -> tuple[str | None, int | None]:
        lines = self.section_lines.get(doc_index)
        if lines is None:
            lines = self.section_lines[doc_index] = [s.line for s in doc.sections]
        # Document.section_at, with the section lines listed once per document.
        at = bisect.bisect_right(lines, line) - 1
        section = doc.sections[at] if at >= 0 else None
        while section is not None and section.end_line < line:
            section = doc.parent_of(section)
        if section is not None:
            return section.outline, section.line
        return None, None


def extract_parsed(parsed: ParsedFile) -> list[Mention]:
    """Find the mentions of a parsed file, each placed in its document and section.

    Noise lines (page furniture, teasers) yield no mentions; meta lines do
    (an upload date is a date). A mention inside a document gets
    ``doc_index``, and inside a section ``section_outline`` and
    ``section_line``; yearless dates and periods are resolved against the
    year the document states.

    Returns:
        Mentions in text order.
    """
    source = parsed.source
    roles = parsed.line_roles
    # Match on the Simplified view of Traditional text (same offsets); the mention's
    # text is still sliced from the original, its name and unit come normalised.
    # In text order, none overlapping; the context (and its copy of the text) is freed at once.
    cands = find_all(source.match_text)
    line_starts, text, path = source.line_starts, source.text, source.path
    places = _Places(parsed)
    out: list[Mention] = []
    line = 1
    # A long file holds hundreds of thousands of mentions: each keeps only what is its own (about 500 bytes).
    # Its line number and unit are objects shared with the mentions before it, each candidate is dropped
    # once made into a mention (so the two lists never both stand whole).
    units: dict[str, str] = {}
    for k, c in enumerate(cands):
        cands[k] = None  # type: ignore[call-overload]
        # Candidates come in text order: each line search starts where the last one ended.
        found = bisect.bisect_right(line_starts, c.start, line - 1)
        line = line if found == line else found
        if roles and line - 1 < len(roles) and roles[line - 1] in ("noise", "blank"):
            continue
        doc_index, year = places.document(line)
        if year is not None:
            resolve_year(c, year)
        outline, section_line = places.section(doc_index, line)
        line_start = line_starts[line - 1]
        fields = c.fields
        if "_offset" in fields:
            fields = {key: v for key, v in fields.items() if key[0] != "_"}
        if fields.get("unit") is not None:
            fields["unit"] = units.setdefault(fields["unit"], fields["unit"])
        out.append(Mention(type=c.type, text=text[c.start:c.end], start=c.start, end=c.end,  # type: ignore[arg-type]
                           line=line, col_start=c.start - line_start if line_start else c.start,
                           col_end=c.end - line_start if line_start else c.end, path=path,
                           doc_index=doc_index, section_outline=outline, section_line=section_line, **fields))
    return out
