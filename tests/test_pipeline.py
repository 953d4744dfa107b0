"""Corpus runs: every input accounted for, bad files never stop a run, any --jobs gives the same bytes, crashes resume."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reportmine
from _outputs import leftovers, published_files
from reportmine import runner
from reportmine.outputs import current_run
from reportmine.pipeline import process_file, run_files
from reportmine.runner import tabulate
from reportmine.settings import Settings
from reportmine.store.files import load_tables, write_tables
from reportmine.store.rows import build_tables
from reportmine.store.schemas import SCHEMAS

PARSE_ONLY = Settings(stages=("parse",))


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

    monkeypatch.setattr(reportmine.pipeline, "parse_file", broken)
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

    monkeypatch.setattr(reportmine.pipeline, "parse_file", crashing)
    with pytest.raises(KeyboardInterrupt):
        list(run_files(corpus, PARSE_ONLY, cache_dir=cache))
    assert len(list(cache.glob("*.pickle"))) == 3

    calls.clear()
    monkeypatch.setattr(reportmine.pipeline, "parse_file", lambda path: (calls.append(str(path)), real_parse(path))[1])
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


# --- Streamed corpus runs (tabulate): partitions, identical bytes, crashes ---------------------------------------

PARTITION = 40_000  # bytes: cuts the 165 kB sample corpus into several partitions


def table_files(out: Path) -> dict[str, bytes]:
    """Every published table file of an output folder (flat Parquet/CSV and the parts), by relative path.

    Read from the run the folder shows (its entries link there); hidden names are not tables.
    """
    run = current_run(out) or out
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.suffix in (".parquet", ".csv") and not any(x.startswith(".") for x in p.relative_to(run).parts)}


@pytest.mark.slow
def test_streamed_tables_are_byte_identical_for_any_jobs(mixed_corpus: list[Path], tmp_path: Path) -> None:
    one = tabulate(mixed_corpus, tmp_path / "one", jobs=1, partition_bytes=PARTITION)
    two = tabulate(mixed_corpus, tmp_path / "two", jobs=2, partition_bytes=PARTITION)
    assert one == two
    assert one["files"] == 9 and one["ok"] == 5 and one["partitions"] >= 3
    files = table_files(tmp_path / "one")
    assert files == table_files(tmp_path / "two")
    assert {f"tables/{name}/part-{i:05d}.parquet" for name in SCHEMAS for i in range(one["partitions"])} <= set(files)
    assert not leftovers(tmp_path / "one"), "staging or temporary files left"


def test_streamed_tables_are_the_tables_built_in_memory(mixed_corpus: list[Path], tmp_path: Path) -> None:
    summary = tabulate(mixed_corpus, tmp_path / "streamed", jobs=2, partition_bytes=PARTITION)
    expected = build_tables(run_files(mixed_corpus))
    stored = load_tables(tmp_path / "streamed")
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(stored[name], expected[name], obj=name)
    assert (summary["documents"], summary["sections"], summary["mentions"]) == tuple(
        len(expected[name]) for name in ("documents", "sections", "mentions"))
    # CSV does not depend on how rows were cut into parts: streamed and in-memory files are the same bytes.
    write_tables(expected, tmp_path / "memory")
    for name in SCHEMAS:
        assert (tmp_path / "streamed" / f"{name}.csv").read_bytes() == (tmp_path / "memory" / f"{name}.csv").read_bytes()


def test_tables_hold_no_run_timings(tmp_path: Path) -> None:
    # A resumed run reuses cached results with the first run's timings; tables must not depend on them.
    corpus = sorted(reportmine.sample_corpus().glob("*.txt"))[:2]
    tabulate(corpus, tmp_path / "a", PARSE_ONLY, cache_dir=tmp_path / "cache")
    tabulate(corpus, tmp_path / "b", PARSE_ONLY)
    tabulate(corpus, tmp_path / "c", PARSE_ONLY, cache_dir=tmp_path / "cache")
    assert table_files(tmp_path / "a") == table_files(tmp_path / "b") == table_files(tmp_path / "c")
    assert "seconds" not in SCHEMAS["files"]


@given(st.lists(st.integers(0, 5000), max_size=40), st.integers(1, 6000))
def test_partitions_cover_the_inputs_in_order(sizes: list[int], target: int) -> None:
    files = [f"f{i}" for i in range(len(sizes))]
    size_of = dict(zip(files, sizes, strict=True))
    chunks = runner.partition(files, target, size_of.__getitem__)
    assert [f for chunk in chunks for f in chunk] == files and chunks
    for chunk in chunks[:-1]:  # every partition but the last is as small as reaches the target
        assert sum(size_of[f] for f in chunk) >= target > sum(size_of[f] for f in chunk[:-1])


_SLOW_CLI = """
import sys, time
import reportmine.pipeline
from reportmine.cli import main

real = reportmine.pipeline.parse_file
def slow(path):
    time.sleep(0.2)  # slow enough to be killed between files
    return real(path)
reportmine.pipeline.parse_file = slow
sys.argv = ["reportmine", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_a_killed_run_leaves_whole_tables_and_resume_finishes_it(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    import subprocess
    import sys
    import time

    from typer.testing import CliRunner

    import reportmine.parsing
    from reportmine.cli import app

    sample = sorted(reportmine.sample_corpus().glob("*.txt"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(12):  # distinct bytes, so each file has its own cache entry
        (folder / f"r{i:02d}.txt").write_bytes(sample[i % len(sample)].read_bytes() + f"\n附件{i}\n".encode())
    out, cache = tmp_path / "out", tmp_path / "out" / ".reportmine" / "cache"
    args = ["analyze", str(folder), "--jobs", "1", "--no-progress"]
    assert CliRunner().invoke(app, [*args[:1], str(folder / "r00.txt"), *args[2:], "-o", str(out)]).exit_code == 0
    before = table_files(out)  # a previous complete run

    run = subprocess.Popen([sys.executable, "-c", _SLOW_CLI, *args, "-o", str(out)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(cache.glob("*.pickle"))) < 3 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait()
    done = len(list(cache.glob("*.pickle")))
    assert 3 <= done < 12, "the run was not killed mid-way"
    assert table_files(out) == before, "a killed run changed or half-wrote the published tables"

    real_parse = reportmine.parsing.parse_file
    calls: list[str] = []
    monkeypatch.setattr(reportmine.pipeline, "parse_file", lambda path: (calls.append(str(path)), real_parse(path))[1])
    resumed = CliRunner().invoke(app, [*args, "-o", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.stderr
    assert len(calls) == 12 - done
    assert CliRunner().invoke(app, [*args, "-o", str(tmp_path / "fresh")]).exit_code == 0
    assert table_files(out) == table_files(tmp_path / "fresh")
    assert not leftovers(out), "cache, staging or temporary files left"


@pytest.mark.slow
def test_an_interrupted_join_of_csv_parts_keeps_the_previous_table(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while joining the workers' CSV parts into OUT/<name>.csv: no table changes, no temporary file stays."""
    import reportmine.store.files

    corpus = sorted(reportmine.sample_corpus().glob("*.txt"))
    tabulate(corpus[:1], tmp_path, PARSE_ONLY)
    before = table_files(tmp_path)
    real_append = reportmine.store.files._append_rows
    calls: list[int] = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_append(*args)

    monkeypatch.setattr(reportmine.store.files, "_append_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tabulate(corpus, tmp_path, PARSE_ONLY, partition_bytes=PARTITION)
    assert len(calls) == 2
    assert table_files(tmp_path) == before
    assert not leftovers(tmp_path), "the interrupted run's files stayed"
    monkeypatch.undo()
    tabulate(corpus, tmp_path, PARSE_ONLY, partition_bytes=PARTITION)
    assert not leftovers(tmp_path)
    assert not list(current_run(tmp_path).joinpath("tables").rglob("*.csv")), "CSV parts are joined, not published"


@pytest.mark.slow
def test_an_interrupted_table_write_keeps_the_previous_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = sorted(reportmine.sample_corpus().glob("*.txt"))
    tabulate(corpus[:1], tmp_path, PARSE_ONLY)
    before = table_files(tmp_path)
    real_to_csv = pd.DataFrame.to_csv
    calls: list[int] = []

    def interrupted(self, *args, **kwargs):  # the run is stopped halfway through writing the CSV parts
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_to_csv(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tabulate(corpus, tmp_path, PARSE_ONLY, partition_bytes=PARTITION)
    assert table_files(tmp_path) == before
    assert not leftovers(tmp_path), "the interrupted run's files stayed"
    monkeypatch.undo()
    killed = tmp_path / ".reportmine" / "runs" / "killed-run"  # what a SIGKILL mid-run leaves
    killed.mkdir()
    (killed / ".sections.parquet.x1y2").write_bytes(b"PAR1")
    (tmp_path / ".sections.parquet.x1y2").write_bytes(b"not ours")  # a user's file that looks like a temporary
    tabulate(corpus, tmp_path, PARSE_ONLY, partition_bytes=PARTITION)
    assert leftovers(tmp_path) == [".sections.parquet.x1y2"], "the killed run's files stay, or the user's went"


@pytest.mark.slow
def test_analyze_writes_the_same_bytes_with_the_tail_overlapped(tmp_path: Path) -> None:
    """--jobs 2 writes the flat tables while comparing from the staged parts; --jobs 1 does one after the other.

    Every output is the same: tables, comparison tables, graphs, report.
    """
    from typer.testing import CliRunner

    from reportmine.cli import app

    args = ["analyze", str(reportmine.sample_corpus()), "--no-progress"]
    for jobs in ("1", "2"):
        result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / jobs), "--jobs", jobs])
        assert result.exit_code == 0, result.stderr
    outputs = {}
    for jobs in ("1", "2"):
        outputs[jobs] = {name: data for name, data in published_files(tmp_path / jobs).items()
                         if Path(name).suffix in (".csv", ".parquet", ".gexf", ".graphml", ".html")}
    # The report names the run's settings: --jobs is the one difference.
    for jobs in ("1", "2"):
        outputs[jobs]["report.html"] = outputs[jobs]["report.html"].replace(
            f"<tr><td>jobs</td><td>{jobs}</td></tr>".encode(), b"<tr><td>jobs</td><td>N</td></tr>", 1)
    assert outputs["1"] == outputs["2"]
    assert {"comparison/near_duplicates.csv", "graphs/keyword_cooccurrence.gexf", "report.html"} <= set(outputs["2"])
    assert not leftovers(tmp_path / "2")
