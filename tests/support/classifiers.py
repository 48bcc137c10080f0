"""A classifier made only from config.toml, as the tests train it: [classifiers.triage] over the shipped config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.configs import ROOT, merged, shipped_config
from tests.support.trainingdata import triage_examples, write_jsonl

LABELS = ["bug", "question", "billing"]
TABLE = {"description": "Which team should handle this request?", "labels": LABELS, "data": "data/triage.jsonl"}
# A tiny BERT learns the one word that decides the team in 200 steps (about a minute of CPU).
TRAINING = {"max_steps": 200, "lr": 2e-3, "batch_size": 16}


def nlpbot(*args: str, config: Path, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The console script, in its own process, in the config's folder."""
    return subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config)], cwd=config.parent,
                          capture_output=True, text=True, timeout=timeout, input=stdin,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def triage_config(folder: Path, base: Path, changes: dict | None = None) -> Path:
    """The shipped config.toml with [classifiers.triage] (ner off: nothing here needs spaCy), its data in data/."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "data" / "triage.jsonl", triage_examples(240, seed=1, off_topic=40))
    write_jsonl(folder / "data" / "test.jsonl", triage_examples(60, seed=2, off_topic=15))
    table = {**TABLE, "base": str(base)}
    base_changes = {"plugins": {"ner": {"enabled": False}}, "classifiers": {"triage": table},
                    "training": {"triage": TRAINING}}
    return shipped_config(folder, merged(base_changes, changes or {}))


def copy_trained(source: Path, folder: Path, base: Path, changes: dict | None = None) -> Path:
    """A fresh folder with the trained versions of `source` and the same config (plus `changes`)."""
    shutil.copytree(source / "models", folder / "models")
    return triage_config(folder, base, changes)

