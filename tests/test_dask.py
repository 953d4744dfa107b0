"""Distributed runs: the Dask engine writes the same table bytes as the local one, from any working folder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reportmine
from reportmine.cli import app
from reportmine.errors import ReportmineError
from reportmine.runner import tabulate
from test_pipeline import PARTITION, table_files

distributed = pytest.importorskip("distributed")  # in the dev extra: CI always runs this module

runner = CliRunner()


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, as on a real cluster (each imports reportmine on its own)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "reports"
    folder.mkdir()
    for path in sorted(reportmine.sample_corpus().glob("*.txt")):
        shutil.copy(path, folder / path.name)
    (folder / "empty.txt").write_bytes(b"")
    return sorted(folder.iterdir())


@pytest.mark.slow
def test_dask_cluster_writes_the_bytes_of_local_runs(cluster, corpus: list[Path], tmp_path: Path) -> None:
    local = tabulate(corpus, tmp_path / "local", jobs=1, partition_bytes=PARTITION)
    remote = tabulate(corpus, tmp_path / "dask", engine="dask", scheduler=cluster.scheduler_address,
                      partition_bytes=PARTITION)
    assert remote == local and local["partitions"] >= 3 and local["ok"] == 5 and local["failed"] == 1
    assert table_files(tmp_path / "dask") == table_files(tmp_path / "local")


@pytest.mark.slow
def test_workers_read_relative_inputs_from_the_clients_folder(cluster, corpus: list[Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers were started elsewhere; "reports/…" must still be found, and the tables still say "reports/…".
    monkeypatch.chdir(tmp_path)
    relative = [Path("reports") / p.name for p in corpus]
    tabulate(relative, "local", partition_bytes=PARTITION)
    summary = tabulate(relative, "dask", engine="dask", scheduler=cluster.scheduler_address,
                       partition_bytes=PARTITION)
    assert summary["ok"] == 5
    assert table_files(tmp_path / "dask") == table_files(tmp_path / "local")
    files = reportmine.load_tables(tmp_path / "dask")["files"]
    assert list(files.path) == [str(p) for p in relative]
    assert files.set_index("file").loc["empty.txt", "error"] == "reports/empty.txt: empty file"


@pytest.mark.slow
def test_analyze_engine_dask_starts_a_local_cluster_of_jobs_workers(corpus: list[Path], tmp_path: Path) -> None:
    args = ["analyze", str(corpus[0].parent), "--no-progress"]
    local = runner.invoke(app, [*args, "-o", str(tmp_path / "local"), "--jobs", "1"])
    dask = runner.invoke(app, [*args, "-o", str(tmp_path / "dask"), "--jobs", "2", "--engine", "dask"])
    assert local.exit_code == dask.exit_code == 1, dask.stderr  # empty.txt failed, the others went on
    assert "empty.txt: empty file" in dask.stderr
    assert table_files(tmp_path / "dask") == table_files(tmp_path / "local")
    assert (tmp_path / "dask" / "report.html").is_file() and not (tmp_path / "dask" / ".cache").exists()


def test_a_clear_error_without_dask_installed(corpus: list[Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(ReportmineError, match=r"pip install 'reportmine\[dask\]'"):
        tabulate(corpus, tmp_path / "out", engine="dask")
    result = runner.invoke(app, ["analyze", str(corpus[0]), "-o", str(tmp_path / "cli"), "--engine", "dask"])
    assert result.exit_code == 2 and "reportmine[dask]" in result.stderr


def test_a_scheduler_needs_the_dask_engine(corpus: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ReportmineError, match="engine 'dask'"):
        tabulate(corpus, tmp_path / "out", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ReportmineError, match="unknown engine"):
        tabulate(corpus, tmp_path / "out", engine="spark")
