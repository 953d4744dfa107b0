"""One object holds how a run is done: stages, taxonomy, tokenizer, grouping, partitions, engine.

A :class:`Settings` is made once (by the CLI from its options, or by a
caller of :func:`reportmine.analyze`) and handed to every stage and every
worker explicitly, pickled with the work, so that a worker on another machine
does what the run asked for without reading the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Literal

from .errors import SettingsError

Stage = Literal["parse", "extract", "classify"]
#: The per-file stages after reading; parse (clean, split, sections) and describe always run.
ALL_STAGES: tuple[Stage, ...] = ("parse", "extract", "classify")

Engine = Literal["local", "dask"]
ENGINES: tuple[Engine, ...] = ("local", "dask")

#: Tokenizers that give the same tokens with our dictionary: jieba (a
#: dependency) and rjieba (optional, ``pip install rjieba``: jieba-rs, about
#: ten times faster; see the Speed section of the README).
TOKENIZERS: tuple[str, ...] = ("jieba", "rjieba")
DEFAULT_TOKENIZER = "jieba"

#: Input bytes per partition of a streamed run: a worker holds one file's
#: result and one part's rows at a time, so this, not the corpus, sets its
#: memory (about 25 MB per MB of input with every stage, measured on 1 MB of
#: benchmarks/corpus_gen.py reports, on top of the ~400 MB a worker's models
#: take). Small corpora get smaller partitions (see ``reportmine.runner``).
PARTITION_BYTES = 1_000_000

#: Rows (all tables together) a streamed run holds before writing them out as a part of their own
#: (:func:`reportmine.store.rows.write_rows`): a 1 MB partition of ordinary reports holds about 15,000,
#: so it stays one part, while one huge file (or a partition of dense tables) is written in parts of this
#: size instead of all at once.
PART_ROWS = 20_000
#: Characters of section text (titles and bodies) a part holds at most (the rows, the CSV and the comparison's
#: features of a part all grow with them). A 1 MB partition of ordinary reports holds about 330,000.
PART_CHARS = 600_000


@dataclass(frozen=True, slots=True)
class Settings:
    """How a run is done.

    Attributes:
        stages: the per-file stages to run besides parse and describe.
        taxonomy: path of a theme taxonomy TOML file, or ``None`` for the shipped one.
        tokenizer: the theme coder's word segmenter, ``jieba`` or ``rjieba``.
        group_by: the documents-table column the comparison groups documents by (``hospital``, ``region``,
            ``year`` …), or ``file``; a document without a value is its file's group.
        partition_bytes: input bytes per partition of a streamed run; ``None``: :data:`PARTITION_BYTES`,
            smaller for a small corpus.
        engine: ``local`` (a process pool) or ``dask`` (dask.distributed).
        scheduler: address of a running Dask scheduler; without it ``dask`` starts a LocalCluster.
        jobs: processes or Dask workers; 0 or less: all cores.
        part_rows: rows (all tables together) a worker holds before writing them as a part; ``None``: no limit.
        part_chars: characters of section text a part holds at most; ``None``: no limit.
    """

    stages: tuple[Stage, ...] = ALL_STAGES
    taxonomy: str | None = None
    tokenizer: str = DEFAULT_TOKENIZER
    group_by: str = "hospital"
    partition_bytes: int | None = None
    engine: Engine = "local"
    scheduler: str | None = None
    jobs: int = 1
    part_rows: int | None = PART_ROWS
    part_chars: int | None = PART_CHARS

    def __post_init__(self) -> None:
        if self.taxonomy is not None and not isinstance(self.taxonomy, str):
            object.__setattr__(self, "taxonomy", os.fspath(self.taxonomy))

    def check(self) -> Settings:
        """The settings, if a run can use them; else :class:`~reportmine.errors.SettingsError` saying why."""
        unknown = [stage for stage in self.stages if stage not in ALL_STAGES]
        if unknown:
            raise SettingsError("stages", f"unknown stage {unknown[0]!r} (choose from {', '.join(ALL_STAGES)})")
        if self.tokenizer not in TOKENIZERS:
            raise SettingsError("tokenizer", f"unknown tokenizer {self.tokenizer!r}: choose one of "
                                             f"{', '.join(TOKENIZERS)}")
        if self.engine not in ENGINES:
            raise SettingsError("engine", f"unknown engine {self.engine!r} (choose from {', '.join(ENGINES)})")
        if self.scheduler and self.engine != "dask":
            raise SettingsError("scheduler", "a scheduler address needs engine 'dask'")
        if self.partition_bytes is not None and self.partition_bytes <= 0:
            raise SettingsError("partition_bytes", f"partition_bytes must be positive, not {self.partition_bytes}")
        return self

    @property
    def workers(self) -> int:
        """``jobs``, with 0 or less meaning every core."""
        return self.jobs if self.jobs > 0 else os.cpu_count() or 1

    def but(self, **changes: object) -> Settings:
        """A copy with ``changes`` (``settings.but(jobs=2)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]
