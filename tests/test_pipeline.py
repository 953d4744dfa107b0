"""Corpus runs: every input accounted for, bad files never stop a run, any --jobs gives the same result."""

from __future__ import annotations

from pathlib import Path

import pytest

import reportmine
from reportmine.pipeline import RunOptions, process_file, run_files

PARSE_ONLY = RunOptions(stages=("parse",))


@pytest.fixture
def mixed_corpus(tmp_path: Path) -> list[Path]:
    good = sorted(reportmine.sample_corpus().glob("*.txt"))
    bad = {
        "binary.txt": b"\x00\x01\x02\xff" * 64,
        "empty.txt": b"",
        "wrong_encoding.txt": bytes([0x80, 0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 50,
    }
    paths = []
    for name, data in bad.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    return good[:2] + paths + good[2:] + [tmp_path / "missing.txt"]


def test_bad_files_fail_with_named_errors(mixed_corpus: list[Path]) -> None:
    results = list(run_files(mixed_corpus, PARSE_ONLY))
    assert [r.path for r in results] == [str(p) for p in mixed_corpus]
    status = {Path(r.path).name: (r.status, r.stage, r.error) for r in results}
    for name, reason in [("binary.txt", "binary"), ("empty.txt", "empty"), ("wrong_encoding.txt", "encoding"),
                         ("missing.txt", "no such file")]:
        state, stage, error = status[name]
        assert state == "failed" and stage == "parse" and name in error and reason in error
    assert sum(r.ok for r in results) == 5
    ok = [r for r in results if r.ok]
    assert all(r.sha256 and r.size and r.parsed is not None for r in ok)


def test_internal_errors_are_caught_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import reportmine.parsing

    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(reportmine.parsing, "parse_file", broken)
    result = process_file(reportmine.sample_corpus() / "002_79988078600ed0aa.txt", PARSE_ONLY)
    assert result.status == "failed"
    assert "internal error in parse: RuntimeError: boom" in result.error
    assert "002_79988078600ed0aa.txt" in result.error


def test_jobs_two_gives_identical_results(mixed_corpus: list[Path]) -> None:
    one = list(run_files(mixed_corpus, PARSE_ONLY, jobs=1))
    two = list(run_files(mixed_corpus, PARSE_ONLY, jobs=2))
    assert one == two


def test_on_result_sees_every_file(mixed_corpus: list[Path]) -> None:
    seen: list[str] = []
    list(run_files(mixed_corpus, PARSE_ONLY, jobs=2, on_result=lambda r: seen.append(r.path)))
    assert seen == [str(p) for p in mixed_corpus]


def test_resume_after_a_crash_skips_files_already_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportmine.parsing

    corpus = sorted(reportmine.sample_corpus().glob("*.txt"))
    cache = tmp_path / "cache"
    real_parse = reportmine.parsing.parse_file
    calls: list[str] = []

    def crashing(path):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run is killed while on the fourth file
        calls.append(str(path))
        return real_parse(path)

    monkeypatch.setattr(reportmine.parsing, "parse_file", crashing)
    with pytest.raises(KeyboardInterrupt):
        list(run_files(corpus, PARSE_ONLY, cache_dir=cache))
    assert len(list(cache.glob("*.pickle"))) == 3

    calls.clear()
    monkeypatch.setattr(reportmine.parsing, "parse_file", lambda path: (calls.append(str(path)), real_parse(path))[1])
    resumed = list(run_files(corpus, PARSE_ONLY, cache_dir=cache))
    assert calls == [str(p) for p in corpus[3:]]
    assert resumed == list(run_files(corpus, PARSE_ONLY))


def test_cache_is_keyed_by_content_and_options(tmp_path: Path) -> None:
    source = reportmine.sample_corpus() / "002_79988078600ed0aa.txt"
    copy = tmp_path / "report.txt"
    copy.write_bytes(source.read_bytes())
    cache = tmp_path / "cache"
    first = process_file(copy, PARSE_ONLY, cache)
    assert process_file(copy, PARSE_ONLY, cache) == first
    copy.write_bytes(source.read_bytes().replace("平安医院".encode(), "健康医院".encode()))
    changed = process_file(copy, PARSE_ONLY, cache)
    assert changed.sha256 != first.sha256 and "健康医院" in changed.parsed.text
    assert len(list(cache.glob("*.pickle"))) == 2
