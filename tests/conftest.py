"""Shared fixtures: the sample corpus, parsed once per session, and the dev gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reportmine

TESTS = Path(__file__).resolve().parent
GOLD = TESTS / "data" / "gold"
CORPUS = reportmine.sample_corpus()
#: Corpus files whose gold ships with the repo (the dev gold).
DEV_FILES = ("000_c78ec01dfc651d77", "002_79988078600ed0aa")


def corpus_file(stem: str) -> Path:
    return CORPUS / f"{stem}.txt"


def load_gold(stem: str) -> dict:
    return json.loads((GOLD / f"{stem}.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def parsed_corpus() -> dict[str, reportmine.ParsedFile]:
    """Every sample-corpus file parsed once: stem -> ParsedFile."""
    return {path.stem: reportmine.parse_file(path) for path in sorted(CORPUS.glob("*.txt"))}
