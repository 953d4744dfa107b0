"""Stage 5, extract: numbers, dates, periods, frequencies and names with exact spans.

In: a bare string (:func:`extract`) or a :class:`~reportmine.model.ParsedFile`
(:func:`extract_parsed`). Out: :class:`~reportmine.model.Mention` objects in
text order, typed and normalised as the mentions guide (GUIDE_mentions.md)
defines them: quantity, percent, money, date, period, frequency, activity,
document, each with ``text == source[start:end]`` and line coordinates.

How: the text is first mapped character for character to a normal form
(full-width digits, traditional numerals and masks folded), so offsets never
move (:mod:`.vocab`). Each kind of mention has its own finder: names
(:mod:`.names`), dates, periods and frequencies (:mod:`.dates`), quantities,
percents and money (:mod:`.numbers`, numerals read by :mod:`.numerals`);
every regular expression starts with a look-behind guard and uses possessive
or bounded repetition, so a match attempt inside a run of digits fails at once
and a scan is linear in the text. The engine cannot skip ahead past a
look-behind, so the busiest patterns are tried only where a one-character
start filter, scanned in C, points. Candidates then compete for their span
(:mod:`.resolve`): names first (numbers inside 《…》 and quotes are parts of
names), then dates, frequencies and periods, then plain numbers; the longer
span wins a tie; :mod:`.extraction` runs the finders and places the
mentions. Numbers without a unit, read only for the peer benchmark, live in
:mod:`.peer`. Vocabularies (units, qualifiers, periods, words that are not
mentions) live in ``data/units.toml``.
"""

from __future__ import annotations

from .extraction import extract, extract_parsed
from .resolve import document_year

RULESET = "reportmine-mentions"

__all__ = ["RULESET", "document_year", "extract", "extract_parsed"]
