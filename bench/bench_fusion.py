"""Fusion variants on BEIR-format sets: candidates retrieved once per query, every variant re-ranked from them.

    python bench/bench_fusion.py --beir /work/shared/data/scifact --config /work/scratch/scifact/config.toml \
        --index scifact --splits train test
The index is built (or reused) like `nlpbot index eval --beir`; the pooled candidates are cached next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config  # noqa: E402
from bot.models import ModelHub  # noqa: E402
from bot.search.beir import judged_queries  # noqa: E402
from bot.search.benchmark import Pools, build, pools, tune  # noqa: E402
from bot.search.evaluate import mean_metrics  # noqa: E402
from bot.search.hybrid import Candidates, Fusion, documents, normalised  # noqa: E402
from bot.search.manager import IndexManager  # noqa: E402


def rrf(pool: Candidates, depth: int = 100, k: int = 60) -> list[tuple[int, float]]:
    """The fusion shipped before issue 13: reciprocal rank fusion of each retriever's top `depth` chunks."""
    fused: dict[int, float] = {}
    for scores in (pool.dense, pool.keyword):
        order = np.argsort(-scores, kind="stable")[:depth]
        for place, i in enumerate(order, start=1):
            if scores[i] > 0 or scores is pool.dense:
                fused[int(pool.ids[i])] = fused.get(int(pool.ids[i]), 0.0) + 1 / (k + place)
    return sorted(fused.items(), key=lambda pair: -pair[1])


def convex(pool: Candidates, weight: float, how: str) -> list[tuple[int, float]]:
    dense, keyword = pool.dense.astype(float), pool.keyword.astype(float)
    if how == "minmax":
        dense, keyword = normalised(dense), normalised(keyword)
    elif how == "max":
        keyword = keyword / keyword.max() if keyword.max() > 0 else keyword
    elif how == "zscore":
        dense = (dense - dense.mean()) / (dense.std() or 1)
        keyword = (keyword - keyword.mean()) / (keyword.std() or 1)
    scores = weight * dense + (1 - weight) * keyword
    order = np.argsort(-scores, kind="stable")
    return [(int(pool.ids[i]), float(scores[i])) for i in order]


def score(pooled: Pools, ranker) -> float:
    rankings = [documents(ranker(pool), dict(zip(pool.ids.tolist(), pool.sources))) for pool in pooled.candidates]
    return mean_metrics(rankings, [query.relevant for query in pooled.queries])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beir", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--splits", nargs="+", default=["train", "test"])
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    config = load_config(args.config)
    manager = IndexManager(config, progress=False)
    manager.embedder = ModelHub(config).sentence_model(manager.settings.embedding_model, batch_size=64)
    index = manager.open(args.index)
    print(json.dumps(build(index, args.beir)), flush=True)
    results = {}
    for split in args.splits:
        cache = index.folder / f"pools-{split}.pickle"
        if cache.exists() and cache.stat().st_mtime > (index.folder / "chunks.sqlite").stat().st_mtime:
            pooled = pickle.loads(cache.read_bytes())
        else:
            pooled = pools(index, judged_queries(args.beir, split))
            cache.write_bytes(pickle.dumps(pooled))
        rows = {"dense": pooled.metrics("dense", Fusion()), "keyword": pooled.metrics("keyword", Fusion()),
                "rrf k=60 (before)": score(pooled, rrf)}
        for how in ("minmax", "max", "zscore"):
            for weight in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                rows[f"convex {how} w={weight}"] = score(pooled, lambda pool: convex(pool, weight, how))
        for weight in (0.4, 0.5, 0.6, 0.7):
            for share in (0.0, 0.05, 0.1, 0.2):
                rows[f"shipped w={weight} doc share {share}"] = pooled.metrics("hybrid", Fusion(weight, share))
        tuned = {key: value for key, value in tune(pooled).items() if key != "grid"}
        results[split] = {**rows, "tune": tuned}
        print(f"== {split}: {len(pooled.queries)} queries")
        print("tune:", json.dumps(tuned))
        for name, metrics in rows.items():
            print(f"{name:32} nDCG@10 {metrics['ndcg@10']:.4f}  R@100 {metrics['recall@100']:.4f}  MRR@10 {metrics['mrr@10']:.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
