"""What the mention finders share: a candidate mention and the text being read."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from .vocab import CJK_RE, Patterns, Vocab, normal_form, patterns, vocab


@dataclass(slots=True)
class Cand:
    """A candidate mention: its type, its span in the text and its fields (``_`` keys stay internal)."""

    type: str
    start: int
    end: int
    fields: dict[str, Any]


@dataclass(slots=True)
class Context:
    """One text being read: its normal form, the vocabularies and the spans where no number may stand."""

    text: str
    norm: str
    v: Vocab
    p: Patterns
    #: Quoted spans and not-a-mention words, sorted: no numbers inside (set by the name finder).
    blocked: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Context:
        """The context for reading ``text``."""
        return cls(text, normal_form(text), vocab(), patterns())

    def is_blocked(self, start: int, end: int) -> bool:
        """Whether ``start:end`` overlaps a blocked span."""
        i = bisect.bisect_right(self.blocked, (start, 1 << 62)) - 1
        for j in (i, i + 1):
            if 0 <= j < len(self.blocked):
                b0, b1 = self.blocked[j]
                if b0 < end and start < b1:
                    return True
        return False

    def cjk_at(self, pos: int) -> bool:
        """Whether the character at ``pos`` (inside the text) is a CJK ideograph."""
        return 0 <= pos < len(self.norm) and bool(CJK_RE.match(self.norm, pos))
