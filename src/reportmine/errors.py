"""Our exceptions. Each names the file and the problem, so a CLI or a corpus
run can report it and go on with the next file."""

from __future__ import annotations


class ReportmineError(Exception):
    """Base class of every error reportmine raises on purpose."""


class InputError(ReportmineError):
    """An input file that cannot be read as report text.

    Attributes:
        path: the file.
        reason: what is wrong with it, in a few words.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class TaxonomyError(ReportmineError):
    """A theme taxonomy file that is malformed (names the file and the entry)."""
