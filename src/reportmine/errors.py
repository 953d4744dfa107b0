"""Every exception reportmine raises on purpose, with the fields a caller needs.

Each names the file and the problem, so that a CLI or a corpus run can report
it and go on with the next file. The message is built from the fields, so
``str(error)`` and the fields never disagree.
"""

from __future__ import annotations

import os


class ReportmineError(Exception):
    """Base class of every error reportmine raises on purpose."""


class InputError(ReportmineError):
    """An input file that cannot be read as report text.

    Attributes:
        path: the file.
        reason: what is wrong with it, in a few words.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class TaxonomyError(ReportmineError):
    """A theme taxonomy file that cannot be read or is malformed.

    Attributes:
        path: the taxonomy file (``<shipped taxonomy>`` for the one in the package).
        entry: the entry at fault (``theme #3 (quality)``), or ``None`` for the whole file.
        reason: what is wrong.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, entry: str | None = None) -> None:
        self.path = str(path)
        self.entry = entry
        self.reason = reason
        where = f"{self.path}: {entry}" if entry else self.path
        super().__init__(f"{where}: {reason}")


class GoldError(ReportmineError):
    """A gold file that cannot be read or does not follow its guide.

    Attributes:
        path: the gold file, or ``None`` when the problem is with a set of files.
        reason: what is wrong.
    """

    def __init__(self, path: str | os.PathLike[str] | None, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path is not None else reason)


class OutputError(ReportmineError):
    """An output folder or file that cannot be used: names it and says what to do.

    Attributes:
        path: the output folder or file.
        reason: what is wrong, with how to proceed.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputBusyError(OutputError):
    """Another run is writing the output folder."""


class SettingsError(ReportmineError):
    """A setting of a run that cannot be used (an unknown tokenizer or engine, a missing extra).

    Attributes:
        setting: the setting's name (``tokenizer``, ``engine``, ``scheduler``, ``group_by``).
        reason: what is wrong, with how to proceed.
    """

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(reason)
