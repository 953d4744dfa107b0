"""Settings: one object says how a run is done, checked before any work, and the run records its rule versions."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import reportmine
from reportmine.errors import SettingsError
from reportmine.pipeline import rule_versions
from reportmine.settings import Settings
from reportmine.store.files import VERSIONS_KEY
from reportmine.taxonomy import load_taxonomy


@pytest.mark.parametrize(("changes", "setting", "message"), [
    ({"tokenizer": "thulac"}, "tokenizer", "unknown tokenizer 'thulac'"),
    ({"engine": "spark"}, "engine", "unknown engine 'spark'"),
    ({"scheduler": "tcp://host:8786"}, "scheduler", "needs engine 'dask'"),
    ({"stages": ("parse", "translate")}, "stages", "unknown stage 'translate'"),
    ({"partition_bytes": 0}, "partition_bytes", "must be positive"),
])
def test_unusable_settings_are_refused_naming_the_setting(changes, setting, message) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings(**changes).check()
    assert caught.value.setting == setting
    with pytest.raises(SettingsError):  # before any work: analyze checks them first
        reportmine.analyze(**changes)


def test_settings_travel_as_one_value() -> None:
    settings = Settings(taxonomy=Path("my.toml"), jobs=0)
    assert settings.taxonomy == "my.toml"  # a path is kept as text, so the settings pickle anywhere
    assert settings.workers >= 1
    assert settings.but(jobs=2) == Settings(taxonomy="my.toml", jobs=2)
    assert Settings().check() == Settings()


def test_rule_versions_name_every_rule_set_and_the_taxonomy() -> None:
    versions = rule_versions(load_taxonomy())
    assert versions["taxonomy"] == load_taxonomy().label
    assert {"reportmine", "rules", "segmenter", "coder"} <= versions.keys()
    assert {"rules.cleaning", "rules.documents", "rules.units"} <= versions.keys()
    assert len(versions["rules"]) == 16


def test_a_run_records_its_versions_in_run_json_and_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "out"
    reportmine.analyze(out=out, jobs=1).write(out)
    versions = json.loads((out / "run.json").read_text("utf-8"))["run_info"]["versions"]
    assert versions == rule_versions(load_taxonomy())
    for name in reportmine.SCHEMAS:
        assert json.loads(pq.read_schema(out / f"{name}.parquet").metadata[VERSIONS_KEY.encode()]) == versions
    with duckdb.connect(str(out / "reportmine.duckdb"), read_only=True) as con:
        assert dict(con.execute("SELECT component, version FROM reportmine_versions").fetchall()) == versions
