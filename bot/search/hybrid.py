"""Keyword retrieval (BM25) and reciprocal rank fusion with the dense results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MODES = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class Hit:
    """One search result. `score` orders the hits (fused rank score in hybrid mode, cosine in dense mode)."""

    source: str
    chunk: int
    score: float
    text: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The shape `nlpbot search --json` prints: the four fixed keys, anything else under "extra"."""
        return {"source": self.source, "chunk": self.chunk, "score": self.score, "text": self.text, "extra": self.extra}


class KeywordIndex:
    """BM25 over chunk texts (heading included), built in memory from the chunk table."""

    def __init__(self, ids: list[int], texts: list[str]) -> None:
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self.retriever = bm25s.BM25()
        if ids:
            tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
            self.retriever.index(tokens, show_progress=False)

    def top(self, query: str, n: int, *, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the best n chunks with a score above zero, among `allowed` when given."""
        import bm25s

        if not len(self.ids):
            return []
        words = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        known = [word for word in words if word in self.retriever.vocab_dict]
        if not known:
            return []
        scores = self.retriever.get_scores(known)
        if allowed is not None:
            scores = np.where(np.isin(self.ids, allowed), scores, 0.0)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in best if scores[i] > 0]


def reciprocal_rank_fusion(rankings: list[list[int]], *, k: int = 60) -> list[tuple[int, float]]:
    """Items scored by the sum of 1 / (k + rank) over the rankings they appear in (rank from 1), best first."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def rank(mode: str, dense: list[tuple[int, float]], keyword: list[int], *, rrf_k: int) -> list[tuple[int, float]]:
    """(chunk id, score) best first: dense = (id, cosine) as found, keyword = ids by BM25, hybrid = both fused."""
    if mode == "dense":
        return dense
    if mode == "keyword":
        return [(chunk_id, float(len(keyword) - place)) for place, chunk_id in enumerate(keyword)]
    return reciprocal_rank_fusion([[chunk_id for chunk_id, _ in dense], keyword], k=rrf_k)
