"""Retrieval metrics on a tiny qrels file, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from bot.errors import UserInputError
from bot.search.evaluate import evaluate, read_qrels, score_query
from bot.search.hybrid import Hit


def hits(*names: str) -> list[Hit]:
    return [Hit(name.split("#")[0], int(name.split("#")[1]), 1.0, "") for name in names]


def test_metrics_match_hand_computed_values():
    # relevant a.md (any chunk) and c.md#2; hits: b#0, a#1, a#0, c#2 -> credited at ranks 2 and 4
    scores = score_query(hits("b.md#0", "a.md#1", "a.md#0", "c.md#2"), ["a.md", "c.md#2"], k=3)
    assert scores["recall@3"] == 0.5
    assert scores["mrr"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert scores["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)

    assert score_query(hits("c.md#1"), ["c.md#2"], k=10) == {"recall@10": 0.0, "mrr": 0.0, "ndcg@10": 0.0}


def test_evaluate_averages_over_a_qrels_file(tmp_path):
    qrels = tmp_path / "qrels.jsonl"
    qrels.write_text('{"query": "one", "relevant": ["a.md"]}\n\n{"query": "two", "relevant": ["b.md#0"]}\n')
    results = {"one": hits("a.md#0"), "two": hits("a.md#0", "b.md#0")}

    metrics = evaluate(lambda query, n: results[query][:n], read_qrels(qrels), k=10)
    assert metrics == {"queries": 2, "recall@10": 1.0, "mrr": 0.75, "ndcg@10": round((1 + 1 / math.log2(3)) / 2, 4)}


def test_a_bad_qrels_line_names_the_line(tmp_path):
    qrels = tmp_path / "qrels.jsonl"
    qrels.write_text('{"query": "one", "relevant": ["a.md"]}\n{"question": "two"}\n')
    with pytest.raises(UserInputError, match=r"qrels.jsonl:2: expected"):
        read_qrels(qrels)
