"""Search embeddings: query/passage pairs, in-batch negatives, scored by how well each query finds its passage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import versions
from bot.errors import UserInputError
from bot.training.kinds import get_kind
from bot.training.spec import RunSpec
from bot.training.run import train

from tests.support.trainingdata import make_config

TOPICS = ["vpn", "printer", "payroll", "badge", "laptop", "parking", "wifi", "expenses", "holiday", "email"]


def pairs(start: int, count: int) -> list[dict]:
    return [{"query": f"how do I fix the {TOPICS[i % 10]} problem number {i}",
             "positive": f"Guide {i}: steps to repair {TOPICS[i % 10]} issues, case {i}."}
            for i in range(start, start + count)]


def test_pairs_need_a_query_and_a_positive(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "vpn", "positive": "Use the VPN client."}\n{"query": "wifi"}\n')
    with pytest.raises(UserInputError, match=f'{path}:2: missing "positive"'):
        get_kind("sentence-embeddings").read(path)


def test_a_hard_negative_is_read_with_its_pair_and_searched_by_the_evaluator(tmp_path: Path) -> None:
    from bot.training.kinds.embeddings import RetrievalEvaluator

    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "vpn", "positive": "Use the VPN client.", "negative": "Use the wifi."}\n'
                    '{"query": "wifi", "positive": "Join the office wifi.", "negative": 3}\n')
    with pytest.raises(UserInputError, match=f'{path}:2: "negative" must be a string'):
        get_kind("sentence-embeddings").read(path)
    path.write_text('{"query": "vpn", "positive": "Use the VPN client.", "negative": "Use the wifi."}\n'
                    '{"query": "wifi", "positive": "Join the office wifi."}\n')
    records = get_kind("sentence-embeddings").read(path)
    assert records[0]["negative"] == "Use the wifi." and "negative" not in records[1]
    assert RetrievalEvaluator(records).corpus == ["Use the VPN client.", "Join the office wifi.", "Use the wifi."]


def test_embedding_run_reports_mrr_and_saves_a_sentence_transformer(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    train_file, eval_file = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    hard = [p | {"negative": f"Guide {i}: the {TOPICS[(i + 1) % 10]} policy."} for i, p in enumerate(pairs(0, 16))]
    train_file.write_text("".join(json.dumps(p) + "\n" for p in hard))  # (query, positive, hard negative)
    eval_file.write_text("".join(json.dumps(p) + "\n" for p in pairs(100, 10)))
    config = make_config(tmp_path, "[training]\nmax_length = 32\n")
    result = train(config, plugin="search", kind="sentence-embeddings", data=train_file, eval_data=eval_file,
                   max_steps=1, batch_size=8, show_bar=False, force=True)
    assert result.primary_metric == "mrr" and result.promoted
    assert result.usage.steps == 1 and "peak memory" in result.summary() and "s/step" in result.summary()
    # nothing trained served: the untrained base model did, and the new version was judged against it
    assert "for the serving base model on the same eval data" in result.reason
    assert set(result.previous_metrics) >= {"mrr", "recall@1"}
    assert 0.3 < result.metrics["mrr"] <= 1 and 0 <= result.metrics["recall@1"] <= result.metrics["recall@5"]
    model = SentenceTransformer(str(result.path), local_files_only=True)
    assert model.encode(["vpn"]).shape == (1, 384)
    # the serving version is judged by the same evaluator when the next run asks for promotion
    spec = RunSpec(plugin="search", kind="sentence-embeddings", base_path="", out_dir=str(tmp_path), labels=None,
              epochs=1, lr=1e-4, batch_size=8, max_length=32, seed=1, patience=1, show_bar=False)
    kind = get_kind("sentence-embeddings")
    assert kind.evaluate(spec, result.path, kind.read(eval_file)) == {
        k: pytest.approx(v, abs=1e-4) for k, v in result.metrics.items() if k != "loss"}
    assert versions.serving_version(config.models_dir, "search") == result.version
