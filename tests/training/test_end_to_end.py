"""Each training kind as a user runs it: `nlpbot train` on the shipped config, the gate, promotion, and an answer
from a fresh `nlpbot ask` through the runtime config.toml sets for that plugin (ONNX Runtime where it says onnx)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commandline import shown
from tests.support.configs import ROOT, shipped_config
from tests.support.tinymodels import tiny_bart, tiny_token_classifier

from tests.support.trainingdata import sentiment_examples, write_jsonl

TOPICS = ["vpn", "printer", "payroll", "badge", "laptop", "parking", "wifi", "expenses", "holiday", "email"]


def nlpbot(*args: str, config: Path) -> subprocess.CompletedProcess:
    """The console script, in its own process, in the config's folder."""
    command = [sys.executable, "-m", "bot", *args, "--config", str(config)]
    return subprocess.run(command, cwd=config.parent, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def ask(config: Path, text: str) -> dict:
    return json.loads(ok(nlpbot("ask", "--json", text, config=config)))


def test_sentiment_trained_gated_promoted_and_served_on_onnx_int8(tmp_path: Path, tiny_base: Path) -> None:
    data = tmp_path / "data" / "vader"  # where [training.sentiment] data and eval_data point, as `make model` writes
    data.mkdir(parents=True)
    write_jsonl(data / "train.jsonl", sentiment_examples(160, seed=1))
    write_jsonl(data / "eval.jsonl", sentiment_examples(45, seed=2))
    config = shipped_config(tmp_path, {
        "plugins": {"ner": {"enabled": False}},
        "training": {"sentiment": {"base": str(tiny_base), "max_steps": 40, "batch_size": 16, "lr": 1e-3}}})
    assert "onnx" in (ROOT / "config.toml").read_text()  # what this test relies on: [plugins.sentiment] runtime

    first = shown(nlpbot("train", "sentiment", "--quiet", config=config))
    assert "promoted" in first and "v0001" in first
    second = ok(nlpbot("train", "sentiment", "--quiet", "--max-steps", "1", config=config))
    assert "v0002" in second
    assert "comparing with the serving version" not in second  # progress goes to stderr, the verdict to stdout
    v1, v2 = (row["version"] for row in json.loads(ok(nlpbot("models", "list", "sentiment", "--json", config=config))))
    verdict = json.loads(ok(nlpbot("models", "show", "sentiment", v2, "--json", config=config)))["promotion"]
    assert verdict["serving_before"] == v1 and f"for the serving {v1} on the same eval data" in verdict["reason"]

    ok(nlpbot("models", "promote", "sentiment", v2, config=config))
    export = tmp_path / "models" / "sentiment" / v2 / "onnx"
    assert (export / "model.onnx").is_file() and (export / "meta.json").is_file()
    answer = ask(config, "/sentiment the printer was wonderful on tuesday")
    assert answer["plugin"] == "sentiment" and answer["data"]["model_version"] == v2
    assert answer["data"]["label"] in {"negative", "neutral", "positive"}
    meta = json.loads((export / "meta.json").read_text())
    assert meta["head"] == "text-classification" and "int8" in meta  # the shipped int8 was checked on eval_data


def test_search_model_trained_on_pairs_is_promoted_exported_and_answers_on_onnx(tmp_path: Path) -> None:
    pairs = [{"query": f"how do I fix the {TOPICS[i % 10]} problem number {i}",
              "positive": f"Guide {i}: steps to repair {TOPICS[i % 10]} issues, case {i}."} for i in range(40)]
    write_jsonl(tmp_path / "pairs.jsonl", pairs)
    docs = tmp_path / "handbook"
    docs.mkdir()
    for topic in TOPICS:
        (docs / f"{topic}.md").write_text(f"# {topic.title()}\n\nWhen the {topic} breaks, open a ticket with IT "
                                          f"and say which {topic} it is.\n", encoding="utf-8")
    config = shipped_config(tmp_path, {"plugins": {"ner": {"enabled": False}, "sentiment": {"enabled": False}}})

    trained = shown(nlpbot("train", "search", "--data", "pairs.jsonl", "--max-steps", "2", "--batch-size", "8",
                        "--max-length", "32", "--quiet", "--force", config=config))
    assert "v0001" in trained and "promoted" in trained
    version = Path(json.loads(ok(nlpbot("models", "list", "search", "--json", config=config)))[0]["path"])
    pooling = next(version.glob("*Pooling/config.json"))
    assert "pooling_mode" in pooling.read_text()  # whichever of the two formats the installed library writes
    export = version / "onnx"
    assert json.loads((export / "meta.json").read_text())["pooling"] == ["mean"]

    # README: promoted? then search with it ([search] embedding_model = "trained:search") and index again
    config = shipped_config(tmp_path, {"plugins": {"ner": {"enabled": False}, "sentiment": {"enabled": False}},
                                       "search": {"embedding_model": "trained:search"}})
    ok(nlpbot("index", "add", "--no-progress", "--index", "docs", "handbook", config=config))
    answer = ask(config, "/search the payroll is broken")
    assert answer["plugin"] == "search"
    hits = answer["data"]["hits"]
    assert hits and hits[0]["source"].endswith("payroll.md")


def test_ner_tagger_trained_and_served_by_the_transformers_backend(tmp_path: Path) -> None:
    base = tiny_token_classifier(tmp_path / "tiny-tagger")
    names, places = ["Alice", "Bob", "Carla", "Dmitri"], ["Paris", "Berlin", "Lagos", "Lima"]
    records = []
    for i in range(48):
        name, place = names[i % 4], places[(i // 4) % 4]
        text = f"{name} flew to {place} on Monday"
        records.append({"text": text, "entities": [
            {"start": 0, "end": len(name), "type": "PER"},
            {"start": text.index(place), "end": text.index(place) + len(place), "type": "LOC"}]})
    write_jsonl(tmp_path / "entities.jsonl", records)
    changes = {"plugins": {"sentiment": {"enabled": False}, "ner": {"backend": "transformers", "model": "trained:ner"}}}
    config = shipped_config(tmp_path, changes)

    before = nlpbot("ask", "/entities Alice flew to Paris", config=config)
    assert "nlpbot train ner" in before.stdout  # no version yet: the reply says how to make one
    trained = shown(nlpbot("train", "ner", "--data", "entities.jsonl", "--base", str(base), "--max-steps", "60",
                        "--batch-size", "8", "--lr", "5e-3", "--quiet", config=config))
    assert "v0001" in trained and "promoted" in trained
    answer = ask(config, "/entities Carla flew to Lima on Monday")
    assert answer["data"]["model_version"].startswith("v0001")
    assert {(e["text"], e["type"]) for e in answer["data"]["entities"]} == {("Carla", "PER"), ("Lima", "LOC")}


@pytest.mark.parametrize("plugin", ["summarize"])
def test_seq2seq_model_trained_and_served_by_the_abstractive_summarizer(tmp_path: Path, plugin: str) -> None:
    base = tiny_bart(tmp_path / "tiny-bart")
    lines = [{"text": f"The meeting {i} moved to room {i % 3} because of the fire drill on floor {i % 5}.",
              "target": f"meeting {i} moved"} for i in range(32)]
    write_jsonl(tmp_path / "summaries.jsonl", lines)
    changes = {"plugins": {"sentiment": {"enabled": False}, "ner": {"enabled": False},
                           "summarize": {"backend": "abstractive", "model": "trained:summarize", "max_length": 12,
                                         "min_length": 2, "num_beams": 1}}}
    config = shipped_config(tmp_path, changes)
    trained = shown(nlpbot("train", plugin, "--data", "summaries.jsonl", "--base", str(base), "--max-steps", "4",
                        "--batch-size", "8", "--max-length", "32", "--quiet", config=config))
    assert "v0001" in trained and "promoted" in trained
    answer = ask(config, "/summarize The meeting 7 moved to room 1 because of the fire drill on floor 2.")
    assert answer["plugin"] == "summarize" and answer["text"].strip()
    assert answer["data"]["model_version"].startswith("v0001")
