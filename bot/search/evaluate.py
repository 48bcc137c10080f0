"""Retrieval quality on a qrels file: recall@k, MRR and nDCG@10.

The qrels file is JSON lines, one query per line::

    {"query": "how do I reset my password?", "relevant": ["handbook/accounts.md"]}
    {"query": "error XQ-7731", "relevant": ["runbook.md#3", "faq.md"]}

A relevant item is a source as it was added (any chunk of it counts) or "SOURCE#N" (chunk N only). Each
relevant item is credited once, at the first hit that matches it:

- recall@k: relevant items matched in the top k / relevant items;
- MRR: 1 / rank of the first hit that matches any relevant item (0 if none in the top 10 or k);
- nDCG@10: binary gains, sum of 1/log2(rank+1) over credited hits, divided by the same sum for
  min(relevant items, 10) hits at ranks 1, 2, ...
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bot.errors import UserInputError
from bot.search.hybrid import Hit


@dataclass(frozen=True)
class Qrel:
    query: str
    relevant: list[str]


def read_qrels(path: str | Path) -> list[Qrel]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the qrels file ({exc.strerror or exc})") from None
    qrels = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query, relevant = item["query"], item["relevant"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UserInputError(f'{path}:{number}: expected {{"query": "...", "relevant": ["source" or "source#N", ...]}}') from None
        if not isinstance(query, str) or not query.strip() or not isinstance(relevant, list) or not relevant:
            raise UserInputError(f"{path}:{number}: the query must be text and relevant a non-empty list")
        qrels.append(Qrel(query, [str(value) for value in relevant]))
    if not qrels:
        raise UserInputError(f"{path}: no queries in the qrels file")
    return qrels


def credited_ranks(hits: list[Hit], relevant: list[str]) -> list[int]:
    """The 1-based ranks of the hits that first match each relevant item."""
    open_items = set(relevant)
    ranks = []
    for rank, hit in enumerate(hits, start=1):
        match = next((item for item in (f"{hit.source}#{hit.chunk}", hit.source) if item in open_items), None)
        if match is not None:
            open_items.discard(match)
            ranks.append(rank)
    return ranks


def score_query(hits: list[Hit], relevant: list[str], *, k: int) -> dict[str, float]:
    ranks = credited_ranks(hits, relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
    return {
        f"recall@{k}": sum(1 for rank in ranks if rank <= k) / len(relevant),
        "mrr": 1 / ranks[0] if ranks else 0.0,
        "ndcg@10": sum(1 / math.log2(rank + 1) for rank in ranks if rank <= 10) / ideal,
    }


def evaluate(search: Callable[[str, int], list[Hit]], qrels: list[Qrel], *, k: int = 10) -> dict[str, float]:
    """Mean metrics over the queries; `search(query, n)` returns hits best first."""
    per_query = [score_query(search(qrel.query, max(k, 10)), qrel.relevant, k=k) for qrel in qrels]
    metrics = {name: round(sum(scores[name] for scores in per_query) / len(per_query), 4) for name in per_query[0]}
    return {"queries": len(per_query), **metrics}


def document_metrics(ranking: list[str], relevant: dict[str, int]) -> dict[str, float]:
    """Document-level nDCG@10 (graded gains, as BEIR's trec_eval), recall@100 and MRR@10 of one ranking."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:10], start=1))
    ideal = sum(grade / math.log2(rank + 1)
                for rank, grade in enumerate(sorted(relevant.values(), reverse=True)[:10], start=1))
    first = next((rank for rank, doc in enumerate(ranking[:10], start=1) if doc in relevant), None)
    return {"ndcg@10": dcg / ideal, "recall@100": len(set(ranking[:100]) & set(relevant)) / len(relevant),
            "mrr@10": 1 / first if first else 0.0}


def mean_metrics(rankings: list[list[str]], judged: list[dict[str, int]]) -> dict[str, float]:
    per_query = [document_metrics(ranking, relevant) for ranking, relevant in zip(rankings, judged)]
    return {name: round(sum(scores[name] for scores in per_query) / len(per_query), 4) for name in per_query[0]}
