"""Shared fixtures: the sample corpus, parsed once per session, the dev gold, and what the machine has."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

import reportmine

TESTS = Path(__file__).resolve().parent
GOLD = TESTS / "data" / "gold"
CORPUS = reportmine.sample_corpus()
#: Corpus files whose gold ships with the repo (the dev gold).
DEV_FILES = ("000_c78ec01dfc651d77", "002_79988078600ed0aa")


def need(what: str, available: bool, install: str) -> None:
    """Skip the calling test, saying why, unless ``what`` is available; fail instead where CI requires it.

    CI sets REPORTMINE_REQUIRE_BROWSER (.ci/run): there a test that needs the system browser or a CJK font fails
    without it, where elsewhere (a user's fresh machine with only python3) it skips.
    """
    if available:
        return
    if os.environ.get("REPORTMINE_REQUIRE_BROWSER"):
        pytest.fail(f"needs {what}, required where REPORTMINE_REQUIRE_BROWSER is set, and this machine has none "
                    f"({install})")
    pytest.skip(f"needs {what}, and this machine has none ({install})")


@functools.cache
def cjk_font() -> str | None:
    """The CJK font matplotlib draws Chinese with on this machine, or None (then the notebooks chart in ASCII)."""
    return reportmine.find_cjk_font()


def corpus_file(stem: str) -> Path:
    return CORPUS / f"{stem}.txt"


def load_gold(stem: str) -> dict:
    return json.loads((GOLD / f"{stem}.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def parsed_corpus() -> dict[str, reportmine.ParsedFile]:
    """Every sample-corpus file parsed once: stem -> ParsedFile."""
    return {path.stem: reportmine.parse_file(path) for path in sorted(CORPUS.glob("*.txt"))}
