"""`--nproc 2` trains data-parallel in two CPU processes (gloo) and saves one version like a single run.

Set NLPBOT_SKIP_DISTRIBUTED=1 to skip it on machines where starting two workers is too slow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.models import versions
from bot.training.run import train

from tests.support.trainingdata import LABELS, make_config

pytestmark = pytest.mark.skipif(os.environ.get("NLPBOT_SKIP_DISTRIBUTED") == "1",
                                reason="NLPBOT_SKIP_DISTRIBUTED=1")


def test_two_processes_train_one_version(tmp_path: Path, tiny_base: Path, sentiment_files) -> None:
    config = make_config(tmp_path)
    lines: list[str] = []
    result = train(config, plugin="sentiment", kind="sequence-classification", labels=LABELS,
                   data=sentiment_files[0], eval_data=sentiment_files[1], base=str(tiny_base), max_steps=4,
                   batch_size=8, nproc=2, progress=lines.append, show_bar=False)
    # 160 examples, 8 per process and step, 2 processes: an epoch is 10 steps
    assert "training for 4 steps (0.4 epochs of 10 steps)" in lines
    assert any(line.startswith("epoch 0.4, train loss") for line in lines)
    assert result.promoted and versions.serving_version(config.models_dir, "sentiment") == result.version
    meta = json.loads((result.path / "metadata.json").read_text())
    assert meta["parameters"]["nproc"] == 2 and "macro_f1" in meta["metrics"]
    assert sorted(p.name for p in result.path.iterdir() if p.suffix == ".json") == [
        "config.json", "history.json", "metadata.json", "tokenizer.json", "tokenizer_config.json"]
