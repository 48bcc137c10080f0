"""A run that fails, is interrupted or is killed changes nothing that serves and leaves no half-written version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.models import versions
from bot.errors import UserInputError
from bot.training.run import train

from tests.support.trainingdata import LABELS, make_config

SERVING = "v0001-20261128T1000"


def serving_config(folder: Path):  # type: ignore[no-untyped-def]
    config = make_config(folder)
    old = config.models_dir / "sentiment" / SERVING
    old.mkdir(parents=True)
    (old / "metadata.json").write_text(json.dumps({"metrics": {"macro_f1": 0.5}}))
    versions.promote(config.models_dir, "sentiment", SERVING)
    return config


def version_names(config) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.version for v in versions.list_versions(config.models_dir, "sentiment")]


def test_a_run_that_fails_midway_leaves_everything_as_it_was(tmp_path: Path, tiny_base: Path,
                                                            sentiment_files) -> None:
    config = serving_config(tmp_path)

    def stop_after_first_epoch(line: str) -> None:
        if line.startswith("epoch 1"):
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="disk full"):
        train(config, plugin="sentiment", kind="sequence-classification", labels=LABELS, data=sentiment_files[0],
              eval_data=sentiment_files[1], base=str(tiny_base), epochs=3, show_bar=False,
              progress=stop_after_first_epoch)
    assert version_names(config) == [SERVING]
    assert versions.serving_version(config.models_dir, "sentiment") == SERVING
    assert sorted(p.name for p in (config.models_dir / "sentiment").iterdir()) == [".lock", "serving.json", SERVING]


def test_bad_data_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "good", "label": "positive"}\n{"text": "meh", "label": "so-so"}\n')
    with pytest.raises(UserInputError, match=r"unknown label 'so-so' on 1 line\(s\) \(2\)"):
        train(config, plugin="sentiment", kind="sequence-classification", labels=LABELS, data=data)
    assert not config.models_dir.exists()


KILLED_RUN = """
import sys
from bot.config import load_config
from bot.training.run import train
config = load_config(sys.argv[1])
train(config, plugin="sentiment", kind="sequence-classification", labels={labels!r}, data=sys.argv[2],
      eval_data=sys.argv[3], base=sys.argv[4], epochs=1000, batch_size=16, show_bar=False,
      progress=lambda line: print(line, flush=True))
"""


def test_a_killed_run_leaves_serving_alone_and_the_next_run_cleans_up(tmp_path: Path, tiny_base: Path,
                                                                     sentiment_files) -> None:
    config = serving_config(tmp_path)
    script = textwrap.dedent(KILLED_RUN.format(labels=LABELS))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(config.path), str(sentiment_files[0]), str(sentiment_files[1]),
         str(tiny_base)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in child.stdout:  # type: ignore[union-attr]
            if line.startswith("epoch 1"):  # it is writing its first checkpoint: a bad moment to die
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert version_names(config) == [SERVING]
    assert versions.serving_version(config.models_dir, "sentiment") == SERVING
    assert len(list((config.models_dir / "sentiment").glob(".tmp-*"))) == 1

    lines: list[str] = []
    result = train(config, plugin="sentiment", kind="sequence-classification", labels=LABELS,
                   data=sentiment_files[0], eval_data=sentiment_files[1], base=str(tiny_base), max_steps=2,
                   show_bar=False, progress=lines.append)
    assert "removed the scratch folder of an earlier run that did not finish" in lines
    assert not list((config.models_dir / "sentiment").glob(".tmp-*"))
    assert not result.promoted and f"the serving {SERVING} could not be evaluated on this data" in result.reason
    assert versions.serving_version(config.models_dir, "sentiment") == SERVING
    assert version_names(config) == [SERVING, result.version]
