"""`nlpbot train --nnodes 2`: two launches on localhost ("nodes" of one process each) make ONE promoted version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.models import versions
from tests.support.bots import ROOT
from tests.support.redisserver import free_port

from tests.support.trainingdata import make_config


def launch(folder: Path, rank: int, port: int, base: Path, data: tuple[Path, Path]) -> subprocess.Popen:
    config = make_config(folder)
    command = [sys.executable, "-m", "bot", "train", "sentiment", "--config", str(config.path), "--data", str(data[0]),
               "--eval-data", str(data[1]), "--base", str(base), "--max-steps", "3", "--batch-size", "8", "--quiet",
               "--nnodes", "2", "--node-rank", str(rank), "--master-addr", "127.0.0.1", "--master-port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_nodes_on_localhost_train_one_promoted_version(tmp_path: Path, tiny_base: Path, sentiment_files) -> None:
    node0, node1 = tmp_path / "node0", tmp_path / "node1"  # two machines: each its own models/ folder
    node0.mkdir(), node1.mkdir()
    port = free_port()
    runs = [launch(node0, 0, port, tiny_base, sentiment_files), launch(node1, 1, port, tiny_base, sentiment_files)]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n----\n".join(outputs)
    [version] = versions.list_versions(node0 / "models", "sentiment")
    assert version.serving and versions.serving_version(node0 / "models", "sentiment") == version.version
    assert version.metadata["parameters"]["nnodes"] == 2 and "macro_f1" in version.metadata["metrics"]
    assert f"{version.version}" in outputs[0] and "promoted" in outputs[0]
    assert "node 1 of 2: node 0 writes the version" in outputs[1]
    assert not (node1 / "models" / "sentiment").exists() or not versions.list_versions(node1 / "models", "sentiment")
    assert json.loads((version.path / "history.json").read_text()), "node 0 kept the run's history"
