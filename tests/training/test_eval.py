"""`nlpbot eval`: the test step scores a labelled file with the serving or a named version, without training."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.models import versions
from bot.config import Config
from bot.training.run import TrainResult, train
from tests.support.bots import ROOT

from tests.support.trainingdata import LABELS, make_config


def nlpbot(*args: str, config: Config) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config.path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path, sentiment_files
                 ) -> tuple[Config, TrainResult, TrainResult]:
    """A barely trained first version and a better second one that serves (a few seconds each)."""
    config = make_config(tmp_path_factory.mktemp("eval"), "[training]\nmax_length = 32\nlr = 0.01\n")
    run = dict(plugin="sentiment", kind="sequence-classification", labels=LABELS, data=sentiment_files[0],
               eval_data=sentiment_files[1], base=str(tiny_base), show_bar=False)
    first = train(config, max_steps=1, **run)
    second = train(config, epochs=2, force=True, **run)
    return config, first, second


def test_eval_scores_the_serving_version_as_training_did(two_versions, sentiment_files) -> None:
    config, _, second = two_versions
    result = nlpbot("eval", "sentiment", "--data", str(sentiment_files[1]), "--json", config=config)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"plugin", "version", "metrics", "examples"}
    assert report["plugin"] == "sentiment" and report["version"] == second.version and report["examples"] == 45
    # the same eval file, the same model: the metrics recorded when it was trained
    for name in ("accuracy", "macro_f1"):
        assert report["metrics"][name] == pytest.approx(second.metrics[name], abs=1e-3)
    assert not list((config.models_dir / "sentiment").glob(".tmp-*"))
    assert [v.version for v in versions.list_versions(config.models_dir, "sentiment")] == [
        two_versions[1].version, second.version]  # nothing trained, nothing written


def test_eval_of_a_named_version_prints_a_metric_table(two_versions, sentiment_files) -> None:
    config, first, _ = two_versions
    result = nlpbot("eval", "sentiment", "--data", str(sentiment_files[1]), "--version", first.version, config=config)
    assert result.returncode == 0, result.stderr
    scores, labels = result.stdout.split("\n\n")
    header, columns, *rows = scores.splitlines()
    assert header == f"sentiment {first.version}: 45 examples from {sentiment_files[1]}"  # not "(serving)"
    assert columns.split() == ["metric", "value"]
    table = {row.split()[0]: row.split()[1:] for row in rows}
    assert {"accuracy", "macro_f1", "loss"} <= set(table)
    assert table["macro_f1"] == [f"{first.metrics['macro_f1']:.4f}", "(decides", "promotion)"]
    label_columns, *label_rows = labels.splitlines()  # then each label's scores, as `--json` has them in per_label
    assert label_columns.split() == ["label", "precision", "recall", "f1", "support"]
    per_label = {row.split()[0]: row.split()[1:] for row in label_rows}
    assert set(per_label) == set(LABELS)
    assert per_label["positive"][2] == f"{first.metrics['per_label']['positive']['f1']:.4f}"


def test_eval_exit_codes(two_versions, sentiment_files, tmp_path: Path) -> None:
    config = two_versions[0]
    unknown = nlpbot("eval", "weather", "--data", str(sentiment_files[1]), config=config)
    assert unknown.returncode == 2 and "'weather' cannot be trained" in unknown.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "positive"}\n{"text": "meh", "label": "so-so"}\n')
    wrong = nlpbot("eval", "sentiment", "--data", str(bad), config=config)
    assert wrong.returncode == 2 and f"{bad}" in wrong.stderr and "so-so" in wrong.stderr
    assert nlpbot("eval", "sentiment", config=config).returncode == 2  # --data is required
    missing = nlpbot("eval", "sentiment", "--data", str(sentiment_files[1]), "--version", "v0099-20261129T0900",
                     config=config)
    assert missing.returncode == 3 and "sentiment has no version 'v0099-20261129T0900'" in missing.stderr

    empty = make_config(tmp_path)  # a version whose model files are gone
    (empty.models_dir / "sentiment" / "v0001-20261129T0900").mkdir(parents=True)
    versions.promote(empty.models_dir, "sentiment", "v0001-20261129T0900")
    gone = nlpbot("eval", "sentiment", "--data", str(sentiment_files[1]), config=empty)
    assert gone.returncode == 3 and "cannot load the model" in gone.stderr, gone.stderr
    (tmp_path / "fresh").mkdir()
    nothing = make_config(tmp_path / "fresh")
    none_serving = nlpbot("eval", "sentiment", "--data", str(sentiment_files[1]), config=nothing)
    assert none_serving.returncode == 3 and "no sentiment version is serving" in none_serving.stderr
