"""Keyword retrieval (BM25) and the fusion of its scores with the dense ones, chunk and document level.

Fusion, as measured in bench/search.md: both retrievers' candidates are pooled and every pooled chunk gets
both scores exactly (its cosine from the stored vector, its BM25 score from the full score vector). BM25 is
divided by the pool's best BM25 score, so its scale (which grows with the query's length) does not matter;
the cosine is used as it is; the hybrid score is the convex blend ``w * cosine + (1 - w) * keyword``.
A document scores as its best chunk (plus, optionally, a share of its other chunks' scores).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bot.config import SearchSettings

MODES = ("hybrid", "dense", "keyword")
KEYWORD_SCORING = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="bm25")  # beside the model


@dataclass(frozen=True)
class Hit:
    """One search result. `score` orders the hits (fused score in hybrid mode, cosine in dense mode)."""

    source: str
    chunk: int
    score: float
    text: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The shape `nlpbot search --json` prints: the four fixed keys, anything else under "extra"."""
        return {"source": self.source, "chunk": self.chunk, "score": self.score, "text": self.text, "extra": self.extra}


@dataclass(frozen=True)
class Fusion:
    """How the two retrievers are blended; `nlpbot index tune` measures these on judged queries."""

    dense_weight: float = 0.8  # w in w * cosine + (1 - w) * BM25 / the pool's best BM25
    document_share: float = 0.0  # a chunk also gets this share of its document's other chunks' scores

    @classmethod
    def of(cls, settings: SearchSettings) -> Fusion:
        """The blend [search] asks for."""
        return cls(settings.dense_weight, settings.document_share)


@dataclass(frozen=True)
class Candidates:
    """The pooled chunks for one query: ids, their source, cosine and BM25 score, aligned."""

    ids: np.ndarray
    sources: list[str]
    dense: np.ndarray
    keyword: np.ndarray

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, np.int64), [], np.zeros(0, np.float32), np.zeros(0, np.float32))


class KeywordIndex:
    """BM25 over chunk texts (heading included), built in memory from the chunk table once per write generation,
    with each chunk's source: fusion reads the pooled chunks' sources here, not from SQLite on every query."""

    def __init__(self, ids: list[int], texts: list[str], sources: list[str]) -> None:
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)  # in id order, as the chunk table is read
        self.sources = sources
        self.retriever = bm25s.BM25()
        if ids:
            tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
            self.retriever.index(tokens, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every chunk (aligned with `ids`); zeros when no query word is indexed."""
        import bm25s

        if not len(self.ids):
            return np.zeros(0, np.float32)
        words = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        known = [word for word in words if word in self.retriever.vocab_dict]
        if not known:
            return np.zeros(len(self.ids), np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def locate(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The ids this index holds, in the given order, and their positions; ids it does not hold are dropped."""
        wanted = np.asarray(ids, dtype=np.int64)
        if not len(self.ids):
            return wanted[:0], wanted[:0]
        position = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        known = self.ids[position] == wanted
        return wanted[known], position[known]

    def best(self, query: str, n: int, *, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The BM25 score of every chunk and the positions of the best n (see `top`)."""
        scores = self.scores(query)
        return scores, self.top(scores, n, allowed=allowed)

    def top(self, scores: np.ndarray, n: int, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Positions (into `ids`) of the best n scores above zero, among the `allowed` chunk ids when given."""
        if allowed is not None:
            scores = np.where(np.isin(self.ids, allowed), scores, 0.0)
        n = min(n, len(scores))
        if not n:
            return np.zeros(0, np.int64)
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return best[scores[best] > 0]


def normalised(scores: np.ndarray) -> np.ndarray:
    """BM25 over the pool's best BM25 score: 1 for the best match, 0 for none, whatever the query's length."""
    high = float(scores.max()) if len(scores) else 0.0
    return scores / high if high > 0 else np.zeros_like(scores)


def chunk_scores(candidates: Candidates, mode: str, fusion: Fusion) -> np.ndarray:
    """Cosine is kept as it is: it is bounded already, and stretching it (min-max) would turn the tiny cosine
    differences among near-identical texts into a full-scale vote against an exact keyword match."""
    dense, keyword = candidates.dense.astype(np.float64), candidates.keyword.astype(np.float64)
    if mode == "dense":
        return dense
    if mode == "keyword":
        return keyword
    return fusion.dense_weight * dense + (1 - fusion.dense_weight) * normalised(keyword)


def rank(candidates: Candidates, mode: str, fusion: Fusion) -> list[tuple[int, float]]:
    """(chunk id, score) best first. With a document share, each chunk adds that share of the positive
    scores of its document's other pooled chunks (a document matching in several places ranks higher)."""
    scores = chunk_scores(candidates, mode, fusion)
    if mode == "keyword":
        keep = scores > 0
    else:
        keep = np.ones(len(scores), bool)
    if fusion.document_share and len(scores):
        totals: dict[str, float] = {}
        for source, score in zip(candidates.sources, scores):
            totals[source] = totals.get(source, 0.0) + max(float(score), 0.0)
        scores = np.asarray([score + fusion.document_share * (totals[source] - max(float(score), 0.0))
                             for source, score in zip(candidates.sources, scores)])
    order = np.lexsort((candidates.ids, -scores))
    return [(int(candidates.ids[i]), float(scores[i])) for i in order if keep[i]]


def documents(ranked: list[tuple[int, float]], source_of: dict[int, str]) -> list[str]:
    """The documents in the order of their first (best) chunk."""
    return list(dict.fromkeys(source_of[chunk_id] for chunk_id, _ in ranked))
