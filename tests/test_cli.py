"""The command line: a thin layer whose output matches the library's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reportmine
from reportmine.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
SAMPLE = reportmine.sample_corpus()
ONE = SAMPLE / "002_79988078600ed0aa.txt"


def test_parse_json_one_file_is_the_library_dict() -> None:
    result = runner.invoke(app, ["parse", str(ONE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == reportmine.parse_file(ONE).to_dict()


def test_parse_json_gold_form_fields() -> None:
    out = json.loads(runner.invoke(app, ["parse", str(ONE), "--format", "json"]).stdout)
    assert set(out) >= {"file", "noise_lines", "page_meta_lines", "documents"}
    doc = out["documents"][0]
    assert set(doc) >= {"title", "title_line", "start_line", "end_line", "kind", "meta_lines", "sections"}
    assert set(doc["sections"][0]) >= {"line", "marker", "level", "title", "inline_body", "start", "end"}


def test_parse_nested_json() -> None:
    out = json.loads(runner.invoke(app, ["parse", str(ONE), "--format", "json", "--nested"]).stdout)
    roots = out["documents"][0]["sections"]
    assert [s["marker"] for s in roots] == ["一、", "二、"]
    assert [c["marker"] for c in roots[1]["children"]] == ["1、", "2、"]


def test_parse_several_files_and_default_corpus() -> None:
    many = runner.invoke(app, ["parse", "--format", "json"])
    assert many.exit_code == 0
    files = json.loads(many.stdout)
    assert [f["file"] for f in files] == sorted(p.name for p in SAMPLE.glob("*.txt"))
    lines = runner.invoke(app, ["parse", str(SAMPLE), "--format", "jsonl"]).stdout.splitlines()
    assert [json.loads(x)["file"] for x in lines] == [f["file"] for f in files]


@pytest.mark.parametrize(("fmt", "needle"), [("tree", "├─ 一、 “平安医院”建设工作情况"), ("markdown", "- **一、** “平安医院”建设工作情况")])
def test_parse_readable_formats(fmt: str, needle: str) -> None:
    result = runner.invoke(app, ["parse", str(ONE), "--format", fmt])
    assert result.exit_code == 0 and needle in result.stdout


def test_exit_codes(tmp_path: Path) -> None:
    assert runner.invoke(app, ["parse", str(ONE), "--format", "yaml"]).exit_code == 2
    assert runner.invoke(app, ["nonsense"]).exit_code == 2
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    result = runner.invoke(app, ["parse", str(ONE), str(bad), "--format", "jsonl"])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    assert f"{bad}: empty file" in result.stderr
    missing = runner.invoke(app, ["parse", str(tmp_path / "missing.txt")])
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def test_python_dash_m_and_help() -> None:
    run = subprocess.run([sys.executable, "-m", "reportmine", "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "parse" in run.stdout
    version = subprocess.run([sys.executable, "-m", "reportmine", "--version"], capture_output=True, text=True,
                             check=False)
    assert version.stdout.strip() == f"reportmine {reportmine.__version__}"


def test_help_does_not_import_heavy_modules() -> None:
    # ``reportmine --help`` must stay fast: jieba, sklearn and pandas load only when a command needs them.
    code = ("import sys; from typer.testing import CliRunner; from reportmine.cli import app; "
            "CliRunner().invoke(app, ['--help']); "
            "print(sorted(m for m in ('jieba', 'sklearn', 'pandas', 'networkx') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout, name
        assert f"reportmine {name}" in readme, name
