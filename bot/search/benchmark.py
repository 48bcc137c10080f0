"""`index eval --beir` and `index tune`: document-level metrics of dense, keyword and hybrid retrieval."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.search.beir import Judged, corpus
from bot.search.evaluate import mean_metrics
from bot.search.hybrid import Candidates, Fusion, documents, rank
from bot.search.index import DocumentIndex



@dataclass
class Pools:
    """The candidates of every judged query, retrieved once; fusion variants are re-ranked from them."""

    queries: list[Judged]
    candidates: list[Candidates]
    seconds: float

    def metrics(self, mode: str, fusion: Fusion) -> dict[str, float]:
        rankings = [documents(rank(pool, mode, fusion), dict(zip(pool.ids.tolist(), pool.sources)))
                    for pool in self.candidates]
        return mean_metrics(rankings, [query.relevant for query in self.queries])


def build(index: DocumentIndex, folder: str | Path) -> dict[str, Any]:
    """Add the corpus to the index (unchanged documents cost nothing); what was done and how long it took."""
    started = time.perf_counter()
    report = index.add_documents(corpus(folder))
    return {"documents": len(report.added) + len(report.updated) + len(report.unchanged),
            "chunks_embedded": report.chunks_embedded, "seconds": round(time.perf_counter() - started, 1)}


def pools(index: DocumentIndex, queries: list[Judged]) -> Pools:
    """Candidates pooled deeper than a search does (300 chunks a retriever, for recall@100). The top of the
    ranking is the same: the fused score of a chunk does not depend on how deep the pool goes."""
    started = time.perf_counter()
    found = [index.candidates(query.text, max(index.settings.candidates, 300)) for query in queries]
    return Pools(queries, found, time.perf_counter() - started)


def report(index: DocumentIndex, folder: str | Path, queries: list[Judged], split: str) -> dict[str, Any]:
    """The --beir evaluation: index (or reuse), retrieve once per query, score the three modes side by side."""
    built = build(index, folder)
    pooled = pools(index, queries)
    fusion = Fusion.of(index.settings)
    results = {}
    for mode in ("dense", "keyword", "hybrid"):
        started = time.perf_counter()
        results[mode] = {**pooled.metrics(mode, fusion),
                         "ms_per_query": round((pooled.seconds + time.perf_counter() - started) * 1000 / len(queries), 1)}
    return {"data": str(folder), "split": split, "index": index.name, "queries": len(queries), "index_build": built,
            "fusion": vars(fusion), "results": results}


def tune(pooled: Pools) -> dict[str, Any]:
    """The dense weight and document share with the best mean nDCG@10, over a grid, and the grid's scores."""
    grid = []
    for weight in np.round(np.arange(0.0, 1.0001, 0.05), 2):
        for share in (0.0, 0.05, 0.1, 0.2):
            fusion = Fusion(float(weight), share)
            grid.append((pooled.metrics("hybrid", fusion)["ndcg@10"], fusion))
    best_score, best = max(grid, key=lambda pair: pair[0])
    return {"best": vars(best), "ndcg@10": best_score, "calibration": calibrate(pooled, best),
            "dense": pooled.metrics("dense", Fusion())["ndcg@10"], "keyword": pooled.metrics("keyword", Fusion())["ndcg@10"],
            "grid": [{**vars(fusion), "ndcg@10": score} for score, fusion in grid]}



def calibrate(pooled: Pools, fusion: Fusion, *, k: int = 5, answer_share: float = 0.9) -> dict[str, Any]:
    """The [search] min_score below which /ask says "I don't know", set from judged queries.

    /ask answers when the best similarity among its k passages reaches min_score. Answerable: the queries whose
    top document is relevant, scored as retrieved; min_score is the highest value that still answers
    `answer_share` of them. Unanswerable: the same queries with their relevant documents taken out of the pool
    (as if never indexed); the share of them refused is reported, to show what the threshold buys.
    """
    answerable, unanswerable = [], []
    for query, pool in zip(pooled.queries, pooled.candidates):
        if not len(pool.ids):
            continue
        ranked = rank(pool, "hybrid", fusion)
        similarity = dict(zip(pool.ids.tolist(), pool.dense.tolist()))
        source = dict(zip(pool.ids.tolist(), pool.sources))
        if source[ranked[0][0]] in query.relevant:
            answerable.append(max(similarity[i] for i, _ in ranked[:k]))
        others = [i for i, _ in ranked if source[i] not in query.relevant][:k]
        if others:
            unanswerable.append(max(similarity[i] for i in others))
    if not answerable:
        return {"min_score": None, "answerable": 0, "unanswerable": len(unanswerable)}
    yes, no = np.asarray(answerable), np.asarray(unanswerable)
    threshold = float(np.floor(np.quantile(yes, 1 - answer_share) * 100) / 100)
    return {"min_score": threshold, "answerable": len(yes), "unanswerable": len(no),
            "answered": round(float((yes >= threshold).mean()), 3),
            "refused": round(float((no < threshold).mean()), 3) if len(no) else None}
