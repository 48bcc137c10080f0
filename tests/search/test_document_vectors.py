"""How `index add` embeds documents: on ONNX Runtime the index answers as on torch; int8 document vectors only for a
model whose measured quality gate passed, and an index never mixes them with fp32 ones."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import main
from tests.support.bots import ROOT
from tests.support.documents import CORPUS, write_config, write_files

JUDGED = ROOT / "bench" / "data" / "nlpbot-docs"  # 40 sections of the docs, 20 judged test queries
QUERIES = ["how do I reset my password", "when is lunch served", "baking bread overnight", "approval for travel"]


def run(capsys, *argv: str) -> str:
    code = main([str(arg) for arg in argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def stats(capsys, config: Path, index: str) -> dict:
    return json.loads(run(capsys, "--config", config, "index", "stats", "--json", "--index", index))


def hits(capsys, config: Path, index: str, query: str) -> list[dict]:
    return json.loads(run(capsys, "--config", config, "search", "--json", "--index", index, "--k", "3", query))


def test_documents_embedded_on_onnx_answer_as_on_torch(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, CORPUS)
    answers = {}
    for runtime in ("torch", "onnx"):
        config = write_config(tmp_path, document_runtime=runtime)
        run(capsys, "--config", config, "index", "add", "--no-progress", "--index", runtime, "handbook", "guides")
        assert stats(capsys, config, runtime)["document_vectors"] == "float32"
        answers[runtime] = [hits(capsys, config, runtime, query) for query in QUERIES]
    assert answers["onnx"][0][0]["source"] == "handbook/accounts.md"
    for onnx, torch in zip(answers["onnx"], answers["torch"]):
        assert [(hit["source"], hit["chunk"]) for hit in onnx] == [(hit["source"], hit["chunk"]) for hit in torch]
        assert max(abs(a["score"] - b["score"]) for a, b in zip(onnx, torch)) < 1e-4


def test_int8_document_vectors_stay_off_until_the_gate_passed_for_that_model(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, CORPUS)
    config = write_config(tmp_path, document_runtime="onnx", document_quantize="int8")

    def add(index: str, *paths: str) -> str:
        run(capsys, "--config", config, "index", "add", "--no-progress", "--index", index, *paths)
        return stats(capsys, config, index)["document_vectors"]

    def gate(*extra: str) -> dict:
        return json.loads(run(capsys, "--config", config, "index", "check-int8", "--beir", JUDGED, "--json", *extra))

    assert add("unmeasured", "handbook") == "float32"  # asked for, never measured: fp32

    refused = gate("--max-drop", "-1")  # a gate int8 cannot meet: int8 must gain a whole point of nDCG@10
    assert refused["passed"] is False and refused["sets"][0]["name"] == "nlpbot-docs"
    assert set(refused["sets"][0]["float32"]) == {"dense", "hybrid"} and refused["sets"][0]["queries"] == 20
    assert add("refused", "handbook") == "float32"

    passed = gate("--max-drop", "1")  # any loss allowed: the gate passes for this model's int8 file
    assert passed["passed"] is True
    assert add("measured", "handbook") == "int8"
    assert hits(capsys, config, "measured", QUERIES[0])[0]["source"] == "handbook/accounts.md"
    assert add("unmeasured", "guides") == "float32"  # an index keeps what it holds: fp32 and int8 never mix
    assert add("measured", "guides") == "int8"

    # The gate belongs to the int8 file it measured: quantized again, the model must be measured again.
    run(capsys, "--config", config, "models", "export", "search", "--quantize", "int8", "--force")
    assert add("requantized", "handbook") == "float32"
    write_files(tmp_path, {"handbook/parking.md": "# Parking\n\nBikes go in the basement, cars behind the hall."})
    assert add("measured", "handbook") == "int8"  # what an int8 index gets: int8 vectors still, never fp32
    assert hits(capsys, config, "measured", "where do bikes go")[0]["source"] == "handbook/parking.md"
