"""Output safety: a run never deletes what it did not write, never mixes two runs, never runs twice at once.

The folder layout these tests rely on is documented in :mod:`reportmine.outputs`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reportmine
from _outputs import leftovers, published_files
from reportmine.cli import app
from reportmine.outputs import OutputBusyError, OutputError, OutputRun, current_run, written_files

SAMPLE = sorted(reportmine.sample_corpus().glob("*.txt"))
CLI = [sys.executable, "-m", "reportmine"]


def small_corpus(folder: Path, count: int, size: int = 6000, salt: str = "") -> Path:
    """``count`` distinct reports cut from the sample corpus (real text), ``size`` characters each."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        text = SAMPLE[i % len(SAMPLE)].read_text("utf-8")
        start = (i // len(SAMPLE)) * 500 % max(1, len(text) - size)
        (folder / f"r{i:03d}.txt").write_text(text[start:start + size] + f"\n附件{i}{salt}\n", "utf-8")
    return folder


def analyze_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "analyze", "--no-progress", *args], capture_output=True, text=True, timeout=300)


# --- Nothing of the user's is deleted or overwritten; inputs are never read from OUT ------------------------------

def test_a_non_empty_folder_reportmine_did_not_write_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", "utf-8")
    (out / "report.html").write_text("<p>my own report</p>", "utf-8")
    result = CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"])
    assert result.exit_code == 2
    assert "not a reportmine output folder" in result.stderr and "--overwrite" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.html"], "a refused run wrote something"

    result = CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress", "--overwrite"])
    assert result.exit_code == 0, result.stderr
    assert (out / "notes.txt").read_text("utf-8") == "mine", "--overwrite touched a file at no output's name"
    assert "reportmine report" in (out / "report.html").read_text("utf-8")


def test_a_users_file_at_an_output_name_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"]).exit_code == 0
    (out / "run.json").unlink()
    (out / "run.json").write_text("{}", "utf-8")  # the user's file, where a link of ours was
    result = CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"])
    assert result.exit_code == 2 and "run.json" in result.stderr and "--overwrite" in result.stderr
    assert (out / "run.json").read_text("utf-8") == "{}"


@pytest.mark.slow
def test_files_a_user_put_among_the_outputs_survive_the_next_run(tmp_path: Path) -> None:
    """The old code removed everything under OUT/tables/ and OUT/.cache/ and hidden files named like outputs."""
    out = tmp_path / "out"
    args = ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"]
    assert CliRunner().invoke(app, args).exit_code == 0
    mine = {
        out / "tables" / "my-notes.txt": "notes",                 # inside an output folder, through the link
        out / "comparison" / "centrality.csv.mine": "a copy",
        out / ".cache" / "keep.txt": "a folder of the user's named like the old cache",
        out / ".documents.parquet.x1y2": "hidden, named like a temporary file",
        out / "extra.csv": "a table of the user's",
    }
    for path, text in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    for _ in range(2):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.stderr
    for path, text in mine.items():
        assert path.read_text("utf-8") == text, path
    assert (out / "documents.csv").is_file()


@pytest.mark.slow
def test_inputs_are_never_read_from_inside_the_output_folder(tmp_path: Path, monkeypatch) -> None:
    corpus = small_corpus(tmp_path, 3)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # `reportmine analyze .` twice: the second must not ingest the first's report or CSVs
        result = CliRunner().invoke(app, ["analyze", ".", "--no-progress", "--jobs", "1"])
        assert result.exit_code == 0, result.stderr
        files = reportmine.load_tables(corpus / "reportmine-out")["files"]
        assert sorted(files.path) == ["r000.txt", "r001.txt", "r002.txt"]


# --- One run at a time --------------------------------------------------------------------------------------------

def test_a_second_run_into_a_held_folder_fails_at_once_naming_the_other(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputRun.start(out):
        started = time.monotonic()
        result = CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"])
        assert time.monotonic() - started < 30
        assert result.exit_code == 2
        assert f"pid {os.getpid()}" in result.stderr and "being written by" in result.stderr
        with pytest.raises(OutputBusyError):
            reportmine.analyze([SAMPLE[2]], out=out)
    # The lock ends with the run that held it.
    assert CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"]).exit_code == 0


@pytest.mark.slow
def test_two_concurrent_runs_lose_no_rows(tmp_path: Path) -> None:
    """Before: both exited 0 and the files table held 293 of 395 files."""
    corpus = small_corpus(tmp_path / "corpus", 12)
    out = tmp_path / "out"
    runs = [subprocess.Popen([*CLI, "analyze", str(corpus), "-o", str(out), "--no-progress", "--jobs", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    assert "being written by" in next(err for code, err in results if code == 2)
    assert len(reportmine.load_tables(out)["files"]) == 12


# --- A run is published whole; a kill at any moment leaves one complete run; --resume is exact ---------------------

def _complete_run(out: Path) -> dict | None:
    """The run ``out`` shows, checked complete and consistent; None when no run was ever published."""
    run = current_run(out)
    if run is None:
        assert not [p for p in out.iterdir() if p.name != ".reportmine"], "outputs without a published run"
        return None
    written = written_files(out)
    present = {p.relative_to(run).as_posix(): p.stat().st_size for p in run.rglob("*")
               if p.is_file() and p.name != ".written.json"}
    assert present == written, "the published run differs from what it recorded"
    for entry in out.iterdir():  # every output name leads into that one run
        if entry.name != ".reportmine":
            assert entry.resolve().parent == run.resolve(), entry
    summary = json.loads((out / "run.json").read_text("utf-8"))["summary"]
    tables = reportmine.load_tables(out)
    assert len(tables["files"]) == summary["files"] and len(tables["documents"]) == summary["documents"]
    assert len(tables["sections"]) == summary["sections"] and len(tables["mentions"]) == summary["mentions"]
    return summary


def _comparable(out: Path) -> dict[str, bytes]:
    """Every output but the run's timings (run.json's seconds) and the DuckDB file (compared by content)."""
    files = published_files(out)
    run = json.loads(files.pop("run.json"))
    run["summary"].pop("seconds")
    files["run.json"] = json.dumps(run, sort_keys=True).encode()
    files.pop("reportmine.duckdb")
    import duckdb

    with duckdb.connect(str(current_run(out) / "reportmine.duckdb"), read_only=True) as con:
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
            files[f"duckdb:{name}"] = repr(con.execute(f'SELECT * FROM "{name}"').fetchall()).encode()
    return files


@pytest.mark.slow
def test_killed_at_random_moments_out_holds_one_complete_run_and_resume_is_exact(tmp_path: Path) -> None:
    """SIGKILL to the whole process group at 20 random moments of `analyze --jobs 2`."""
    corpora = [small_corpus(tmp_path / "a", 10), small_corpus(tmp_path / "b", 14, salt="b")]
    references, durations = [], []
    for i, corpus in enumerate(corpora):
        started = time.monotonic()
        result = analyze_cli(str(corpus), "-o", str(tmp_path / f"clean{i}"), "--jobs", "2")
        durations.append(time.monotonic() - started)
        assert result.returncode == 0, result.stderr
        references.append(_comparable(tmp_path / f"clean{i}"))
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    out = tmp_path / "out"
    assert analyze_cli(str(corpora[0]), "-o", str(out), "--jobs", "2").returncode == 0
    killed_mid_run = 0
    for moment in range(20):
        which = moment % 2
        # Any moment of a run, the writing phase at its end included (a run's length varies by a few tenths).
        delay = rng.uniform(0.3, durations[which] * 1.1)
        run = subprocess.Popen([*CLI, "analyze", str(corpora[which]), "-o", str(out), "--jobs", "2", "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        finished = run.poll() is not None
        if not finished:
            os.killpg(run.pid, signal.SIGKILL)
            killed_mid_run += 1
        run.wait()
        summary = _complete_run(out)
        assert summary is not None and summary["files"] in (10, 14), f"seed {seed}, moment {moment}, {delay:.2f} s"
        resumed = analyze_cli(str(corpora[which]), "-o", str(out), "--jobs", "2", "--resume")
        assert resumed.returncode == 0, resumed.stderr
        assert _comparable(out) == references[which], f"seed {seed}, moment {moment}, killed after {delay:.2f} s"
        assert not leftovers(out)
    assert killed_mid_run >= 10, f"only {killed_mid_run} of 20 runs were killed before they finished (seed {seed})"


# --- Workers end with the run -----------------------------------------------------------------------------------

def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_workers_exit_when_the_main_process_is_killed(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus", 40, size=20000)
    run = subprocess.Popen([*CLI, "analyze", str(corpus), "-o", str(tmp_path / "out"), "--jobs", "2", "--no-progress"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
        workers = _children(run.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the run never started its workers"
    run.kill()  # SIGKILL to the main process only
    run.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    for pid in alive:  # leave nothing behind whatever happens
        os.kill(pid, signal.SIGKILL)
    assert not alive, "workers outlived the run that started them"
    # ... and the lock died with them: the folder can be used at once.
    assert analyze_cli(str(SAMPLE[2]), "-o", str(tmp_path / "out")).returncode == 0


# --- Output path problems are usage errors, before any work ---------------------------------------------------------

@pytest.mark.parametrize("case", ["file", "under-a-file", "read-only"])
def test_an_unusable_output_folder_is_a_usage_error_before_any_work(tmp_path: Path, case: str, monkeypatch) -> None:
    import reportmine.analysis

    (tmp_path / "plain").write_text("x", "utf-8")
    out = {"file": tmp_path / "plain", "under-a-file": tmp_path / "plain" / "out",
           "read-only": tmp_path / "ro" / "out"}[case]
    if case == "read-only":
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        if os.access(tmp_path / "ro", os.W_OK):  # root ignores permission bits: use a folder no one can write
            out = Path("/proc/reportmine-out")
    work = []
    monkeypatch.setattr(reportmine.analysis, "stream_parts", lambda *a, **k: work.append(1))
    result = CliRunner().invoke(app, ["analyze", str(SAMPLE[2]), "-o", str(out), "--no-progress"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"reportmine: {out}"), lines
    assert "Traceback" not in result.output and not work


def test_library_errors_name_the_folder(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x", "utf-8")
    with pytest.raises(OutputError, match="is not a folder") as info:
        reportmine.analyze([SAMPLE[2]], out=tmp_path / "plain")
    assert info.value.path == str(tmp_path / "plain")


@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_a_codebook_that_cannot_be_written_is_a_usage_error_before_any_work(tmp_path: Path, where: str,
                                                                           monkeypatch) -> None:
    import reportmine.cli

    target = {"missing-folder": tmp_path / "nowhere" / "codebook.csv", "a-folder": tmp_path}[where]
    work = []
    monkeypatch.setattr(reportmine.cli, "classify_parsed", lambda *a, **k: work.append(1))
    result = CliRunner().invoke(app, ["classify", str(SAMPLE[2]), "--codebook", str(target)])
    assert result.exit_code == 2 and not work
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and str(target) in result.stderr
