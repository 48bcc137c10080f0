"""`--engine ray` gives what the local engine gives: `nlpbot predict` line for line, `nlpbot index add` hit for hit.

One local Ray (2 CPUs) serves the whole module; the commands run through `bot.cli.main` as a user types them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.bots import ROOT, sentiment_config, write_config
from tests.support.documents import CORPUS, write_files

LINES = ["I love this", '{"text": "the printer is broken again"}', "", "{not json", "what a wonderful day",
         '{"text": "meh"}', *[f"message number {n} about the weather" for n in range(30)]]


@pytest.fixture(scope="module")
def local_ray():
    import ray  # `make test` installs the ray extra

    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # workers import this tree
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_sentiment) -> Path:
    folder = tmp_path_factory.mktemp("ray-site")
    write_files(folder / "docs", CORPUS)
    (folder / "inputs.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    write_config(folder, sentiment_config(tiny_sentiment) + '\n[search]\nindexes_dir = "indexes"\n')
    return folder


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_predict_on_ray_gives_the_local_output_line_for_line(local_ray, site, capsys):
    config = str(site / "config.toml")
    outputs = {}
    for engine in ("local", "ray"):
        out = site / f"predicted-{engine}.jsonl"
        code, _ = run(capsys, "predict", "sentiment", "--input", str(site / "inputs.jsonl"), "--output", str(out),
                      "--engine", engine, "--config", config, "--no-progress")
        assert code == 1, "one input line is not valid JSON: exit 1, the rest done"
        outputs[engine] = [json.loads(line) for line in out.read_text().splitlines()]
    local, on_ray = outputs["local"], outputs["ray"]
    assert len(on_ray) == len(local) == len(LINES) - 1  # the empty line is skipped
    for mine, theirs in zip(on_ray, local):
        assert mine["text"] == theirs["text"] and mine.get("label") == theirs.get("label")
        assert mine.get("error") == theirs.get("error")
        assert mine.get("score", 0) == pytest.approx(theirs.get("score", 0), abs=1e-4)


def test_index_add_on_ray_builds_the_index_the_local_engine_builds(local_ray, site, capsys):
    config = str(site / "config.toml")
    for engine in ("local", "ray"):
        code, out = run(capsys, "index", "add", "--index", f"docs-{engine}", str(site / "docs"), "--engine", engine,
                        "--no-progress", "--config", config)
        assert code == 0 and f"docs-{engine}: 5 added" in out
    for query in ("how do I reset my password", "when is lunch served", "sourdough starter"):
        hits = {engine: json.loads(run(capsys, "search", "--index", f"docs-{engine}", "--json", "--k", "3", query,
                                       "--config", config)[1]) for engine in ("local", "ray")}
        assert [(h["source"], h["chunk"]) for h in hits["ray"]] == [(h["source"], h["chunk"]) for h in hits["local"]]
        assert [h["score"] for h in hits["ray"]] == pytest.approx([h["score"] for h in hits["local"]], abs=1e-4)


def test_a_plugins_predict_options_reach_it_on_ray_as_locally(local_ray, site, capsys):
    config = str(site / "config.toml")
    code, _ = run(capsys, "index", "add", "--index", "options", str(site / "docs"), "--no-progress", "--config", config)
    assert code == 0
    (site / "queries.txt").write_text("how do I reset my password\nwhen is lunch served\n", encoding="utf-8")
    rows = {}
    for engine in ("local", "ray"):
        code, out = run(capsys, "predict", "search", "--index", "options", "--k", "2", "--input", str(site / "queries.txt"),
                        "--engine", engine, "--no-progress", "--config", config)
        assert code == 0
        rows[engine] = [json.loads(line) for line in out.splitlines()]
    assert [len(row["hits"]) for row in rows["local"]] == [2, 2]  # --k 2, not the plugin's default of 5
    assert rows["local"][0]["hits"][0]["source"].endswith("handbook/accounts.md")
    assert [[hit["source"] for hit in row["hits"]] for row in rows["ray"]] == \
        [[hit["source"] for hit in row["hits"]] for row in rows["local"]]
