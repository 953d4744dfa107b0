"""Evaluation: the shared scorers' metrics, per-theme scores and annotator agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reportmine
from conftest import DEV_FILES, GOLD, corpus_file
from reportmine.cli import app
from reportmine.evaluate import (
    GoldError,
    cohen_kappa,
    evaluate,
    score_mentions,
    score_structure,
    score_themes,
    theme_agreement,
)


def test_structure_gold_against_itself_is_perfect() -> None:
    gold = json.loads((GOLD / f"{DEV_FILES[0]}.json").read_text("utf-8"))
    total = score_structure([(gold, gold)])["TOTAL"]
    assert all(v == 1.0 for v in total.values())


def test_structure_counts_a_missed_heading() -> None:
    gold = {"file": "x", "noise_lines": [], "documents": [{"start_line": 1, "kind": "plan", "sections": [
        {"line": 2, "level": 1, "title": "甲"}, {"line": 3, "level": 2, "title": "乙"}]}]}
    pred = {"documents": [{"start_line": 1, "kind": "plan", "sections": [{"line": 2, "level": 1, "title": "甲。"}]}]}
    row = score_structure([(gold, pred)])["TOTAL"]
    assert row["heading_p"] == 1.0 and row["heading_r"] == 0.5
    assert row["title_acc"] == 1.0  # trailing punctuation is ignored, as in eval_structure.py


def test_mentions_lenient_strict_and_offsets() -> None:
    text = "共5人，增长10%。\n"
    gold = [{"type": "quantity", "line": 1, "col_start": 1, "col_end": 3, "value": 5},
            {"type": "percent", "line": 1, "col_start": 6, "col_end": 9, "value": 10}]
    pred = [{"type": "quantity", "start": 1, "end": 3, "value": 5},        # offsets converted to line/col
            {"type": "percent", "line": 1, "col_start": 6, "col_end": 8}]  # overlaps: lenient only
    rows = score_mentions([(gold, pred, text)])
    assert rows["quantity"]["strict_f1"] == 1.0 and rows["quantity"]["fields"] == 1.0
    assert rows["percent"]["f1"] == 1.0 and rows["percent"]["strict_f1"] == 0.0
    assert rows["ALL"]["gold"] == 2


def test_theme_scores_and_per_theme_prf() -> None:
    gold = {"documents": [{"start_line": 2, "scope": "hospital", "themes": ["a"], "sections": [
        {"line": 2, "themes": ["a"]}, {"line": 3, "themes": ["b", "a"]}, {"line": 4, "themes": ["b"]}]}]}
    pred = {"documents": [{"start_line": 3, "scope": "hospital", "themes": [{"id": "a", "score": 1}], "sections": [
        {"line": 2, "themes": [{"id": "a", "score": 1}]}, {"line": 3, "themes": ["a"]}, {"line": 4, "themes": ["b"]}]}]}
    s = score_themes([(gold, pred)])
    assert s["primary_acc"] == pytest.approx(2 / 3) and s["lenient_acc"] == 1.0
    assert s["scope_acc"] == 1.0 and s["doc_theme_acc"] == 1.0   # start line within 2
    assert s["per_theme"]["a"] == {"gold": 1, "pred": 2, "p": 0.5, "r": 1.0, "f1": pytest.approx(2 / 3)}
    assert s["per_theme"]["b"]["r"] == 0.5


@pytest.mark.parametrize(("a", "b", "kappa"), [
    (["x", "x", "y", "y"], ["x", "x", "y", "y"], 1.0),
    (["x", "x", "y", "y"], ["x", "y", "y", "y"], 0.5),
    (["x", "y"], ["y", "x"], -1.0),
    (["x", "x"], ["x", "x"], 1.0),   # constant and equal
])
def test_cohen_kappa(a: list[str], b: list[str], kappa: float) -> None:
    assert cohen_kappa(a, b) == pytest.approx(kappa)


def test_theme_agreement_of_two_annotators() -> None:
    a = json.loads((GOLD / f"{DEV_FILES[1]}.themes.json").read_text("utf-8"))
    b = json.loads(json.dumps(a))
    b["documents"][0]["sections"][0]["themes"] = ["patient_service_experience"]
    agreement = theme_agreement([(a, b)])
    assert agreement["sections"] == 10 and agreement["primary_agreement"] == 0.9
    assert 0 < agreement["primary_kappa"] < 1
    assert theme_agreement([(a, a)])["primary_kappa"] == 1.0


def test_evaluate_dev_gold() -> None:
    result = evaluate([GOLD / f"{stem}.themes.json" for stem in DEV_FILES] + [GOLD / f"{DEV_FILES[1]}.json"],
                      corpus=reportmine.sample_corpus())
    assert result.themes["sections"] == 75 and result.themes["primary_acc"] >= 0.9
    assert result.structure["TOTAL"]["heading_f1"] > 0.9
    assert result.files[str(GOLD / f"{DEV_FILES[1]}.json")] == str(corpus_file(DEV_FILES[1]))


def test_malformed_gold_fails_loudly(tmp_path: Path) -> None:
    bad = tmp_path / "x.themes.json"
    bad.write_text("{\"file\": 1}", encoding="utf-8")
    with pytest.raises(GoldError, match=r"x\.themes\.json"):
        evaluate([bad])
    with pytest.raises(GoldError, match="not a gold file"):
        evaluate([tmp_path / "notes.txt"])


def test_cli_evaluate_and_kappa() -> None:
    runner = CliRunner()
    gold = [str(GOLD / f"{stem}.themes.json") for stem in DEV_FILES]
    result = runner.invoke(app, ["evaluate", *gold])
    assert result.exit_code == 0, result.output
    assert "primary_acc" in result.stdout and "tobacco_control" in result.stdout
    result = runner.invoke(app, ["evaluate", "--kappa", gold[0], gold[0], "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["primary_kappa"] == 1.0
    assert runner.invoke(app, ["evaluate", "--kappa", gold[0]]).exit_code == 2
