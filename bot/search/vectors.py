"""The FAISS side of an index: exact while small, approximate (HNSW or IVF) past a threshold, saved atomically."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from bot.search.errors import IndexCorrupted

EXACT_FILTER_LIMIT = 20_000  # a filter this selective is searched exactly: ANN graphs miss under tight filters


@contextmanager
def all_cores() -> Iterator[None]:
    """Builds use every core; outside them faiss keeps one OpenMP thread.

    After a multi-threaded build, faiss's idle OpenMP threads slowed torch in the same process from about
    11 ms to 480 ms per query embedding (bench/search.md); a query at a time gains nothing from them.
    """
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


faiss.omp_set_num_threads(1)


@dataclass(frozen=True)
class AnnParams:
    threshold: int = 50_000
    kind: str = "hnsw"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nprobe: int = 32
    recall_sample: int = 200


class VectorIndex:
    """Normalized vectors keyed by chunk id, searched by inner product (= cosine)."""

    def __init__(self, index: faiss.Index, params: AnnParams) -> None:
        self.index = index
        self.params = params
        self._tune()

    @classmethod
    def empty(cls, dim: int, params: AnnParams) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), params)

    @property
    def dim(self) -> int:
        return self.index.d

    @property
    def size(self) -> int:
        return self.index.ntotal

    @property
    def kind(self) -> str:
        inner = faiss.downcast_index(self.index.index)
        return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "ivf" if isinstance(inner, faiss.IndexIVF) else "flat"

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def vectors(self, ids: np.ndarray | None = None) -> np.ndarray:
        if ids is None:
            return self.index.index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.dim), "float32")
        if not len(ids):
            return np.zeros((0, self.dim), "float32")
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))  # one call: 5-9x faster than one by one

    def update(self, *, remove: list[int], add_ids: np.ndarray, add_vectors: np.ndarray) -> dict:
        """Apply one write; rebuild when the kind must change or an ANN index loses vectors. Returns stats."""
        with all_cores():
            return self._update(remove=remove, add_ids=add_ids, add_vectors=add_vectors)

    def _update(self, *, remove: list[int], add_ids: np.ndarray, add_vectors: np.ndarray) -> dict:
        final_size = self.size - len(remove) + len(add_ids)
        wanted = "flat" if final_size <= self.params.threshold else self.params.kind
        if remove and self.kind == "flat":
            self.index.remove_ids(np.asarray(remove, dtype=np.int64))
            remove = []
        if wanted != self.kind or remove:
            ids, vectors = self.ids(), self.vectors()
            keep = ~np.isin(ids, np.asarray(remove, dtype=np.int64))
            ids = np.concatenate([ids[keep], add_ids])
            vectors = np.vstack([vectors[keep], add_vectors])
            self.index = build(self.dim, wanted, ids, vectors, self.params)
            self._tune()
        elif len(add_ids):
            self.index.add_with_ids(add_vectors, add_ids)
        return self.stats()

    def stats(self) -> dict:
        stats = {"vectors": self.size, "dim": self.dim, "kind": self.kind}
        if self.kind != "flat" and self.size:
            stats["recall_at_10"] = self.recall_at_10()
            stats["recall_sample"] = min(self.params.recall_sample, self.size)
        return stats

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k best per query, only among `allowed` ids when given; missing slots have id -1."""
        k = max(1, min(k, self.size or 1))
        if allowed is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return exact_search(self.vectors(allowed), allowed, queries, k)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = {"hnsw": faiss.SearchParametersHNSW, "ivf": faiss.SearchParametersIVF}.get(self.kind, faiss.SearchParameters)(sel=selector)
            self._tune(params)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)

    def recall_at_10(self) -> float:
        """Recall@10 of this approximate index against exact search, on a sample of its own vectors."""
        ids, vectors = self.ids(), self.vectors()
        rng = np.random.default_rng(0)
        sample = rng.choice(len(ids), size=min(self.params.recall_sample, len(ids)), replace=False)
        _, exact_ids = exact_search(vectors, ids, vectors[sample], 10)
        _, ann_ids = self.index.search(vectors[sample], 10)
        found = sum(len(set(a[a >= 0]) & set(e[e >= 0])) for a, e in zip(ann_ids, exact_ids))
        return round(found / max(1, int((exact_ids >= 0).sum())), 4)

    def _tune(self, params: faiss.SearchParameters | None = None) -> None:
        """Search-time knobs are settings, not part of the file: set them on the index or on one query's params."""
        inner = faiss.downcast_index(self.index.index)
        if isinstance(inner, faiss.IndexHNSW):
            if params is None:
                inner.hnsw.efSearch = self.params.hnsw_ef_search
            else:
                params.efSearch = self.params.hnsw_ef_search
        elif isinstance(inner, faiss.IndexIVF):
            (inner if params is None else params).nprobe = min(self.params.ivf_nprobe, inner.nlist)

    def save(self, path: Path) -> str:
        """Write to a temporary name, flush to disk, then rename over `path`; returns the file's checksum."""
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        faiss.write_index(self.index, str(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        checksum = file_checksum(temporary)
        os.replace(temporary, path)
        return checksum

    @classmethod
    def load(cls, path: Path, params: AnnParams, *, checksum: str, size: int) -> VectorIndex:
        """The saved index, checked against the checksum and vector count its db recorded (IndexCorrupted if not)."""
        name, rebuild = path.parent.name, f"delete {path.parent} and add the documents again"
        if not path.exists():
            raise IndexCorrupted(f"index {name!r}: {path.name} is missing; {rebuild}")
        if file_checksum(path) != checksum:
            raise IndexCorrupted(f"index {name!r}: {path} is corrupted (its checksum does not match); {rebuild}")
        try:
            vectors = cls(faiss.read_index(str(path)), params)
        except RuntimeError as exc:
            raise IndexCorrupted(f"index {name!r}: {path} cannot be read ({exc}); {rebuild}") from None
        if vectors.size != size:
            raise IndexCorrupted(f"index {name!r}: {vectors.size} vectors but {size} chunks; {rebuild}")
        return vectors


def build(dim: int, kind: str, ids: np.ndarray, vectors: np.ndarray, params: AnnParams) -> faiss.Index:
    """A new index of `kind` holding the given vectors."""
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = max(64, params.hnsw_m * 2)
    elif kind == "ivf":
        nlist = int(min(max(16, 4 * np.sqrt(len(ids))), max(1, len(ids) // 39)))
        inner = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(ids), size=min(len(ids), nlist * 64), replace=False)
        inner.train(vectors[np.sort(sample)])
        faiss.downcast_index(inner).make_direct_map()
    else:
        inner = faiss.IndexFlatIP(dim)
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    return index


def exact_search(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force inner-product top-k, in blocks so a million vectors fit in memory."""
    queries = np.asarray(queries, dtype=np.float32)
    k_here = min(k, len(ids))
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    found = np.full((len(queries), k), -1, dtype=np.int64)
    if k_here == 0:
        return scores, found
    similarity = np.empty((len(queries), len(ids)), dtype=np.float32)
    for start in range(0, len(ids), 100_000):
        similarity[:, start:start + 100_000] = queries @ vectors[start:start + 100_000].T
    top = np.argpartition(-similarity, k_here - 1, axis=1)[:, :k_here]
    for row, columns in enumerate(top):
        ordered = columns[np.argsort(-similarity[row, columns], kind="stable")]
        scores[row, :k_here] = similarity[row, ordered]
        found[row, :k_here] = np.asarray(ids)[ordered]
    return scores, found


def file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
