"""Calling the embedding model the caller handed us: batches, a progress bar, normalized float32 rows."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from contextlib import nullcontext
from typing import Any, Callable

import numpy as np

Embedder = Callable[[list[str]], Any]  # a bot.models.ModelHandle, or any function texts -> (n, dim) array
QUERY_CACHE_SIZE = 4096  # recent single texts (queries) and their vectors: 4096 x 384 floats = 6 MiB


class _QueryCache:
    """An LRU of recent query vectors, keyed by the model that made them (a swapped model misses)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(embedder: Embedder, text: str) -> tuple:
        info = getattr(embedder, "info", None)
        if isinstance(info, dict):  # a hub handle: its model, version and runtime say which vectors these are
            return (info.get("spec"), info.get("version"), info.get("runtime"), info.get("dtype"), text)
        return (id(embedder), text)

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
            return vector

    def put(self, key: tuple, vector: np.ndarray) -> None:
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


QUERY_CACHE = _QueryCache(QUERY_CACHE_SIZE)


def model_name(embedder: Embedder | None) -> str | None:
    """The model's spec (with @VERSION for a trained one), recorded by an index so models are never mixed."""
    info = getattr(embedder, "info", None)
    if not isinstance(info, dict):
        return getattr(embedder, "name", None)
    return f"{info.get('spec')}@{info['version']}" if info.get("version") else info.get("spec")


def progress_bar(total: int, progress: bool | None, *, batch_size: int) -> Any:
    """A tqdm bar over `total` chunks on stderr, shown when stderr is a terminal unless progress=False."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(total=total, desc="embedding", unit="chunk", disable=not show or total <= batch_size)


def embed_texts(embedder: Embedder, texts: list[str], *, batch_size: int = 64, progress: bool | None = None,
                bar: Any = None) -> np.ndarray:
    """(len(texts), dim) float32, L2-normalized. `bar` (from progress_bar) is advanced, else one is drawn here.

    One text (a query) is answered from the LRU of recent queries when it was asked before, without a bar.
    """
    if len(texts) == 1 and bar is None:
        key = QUERY_CACHE.key(embedder, texts[0])
        cached = QUERY_CACHE.get(key)
        if cached is None:
            cached = _normalized(np.asarray(embedder(texts), dtype=np.float32))
            if cached.shape[0] != 1:
                raise ValueError(f"the embedder returned shape {cached.shape} for 1 text")
            QUERY_CACHE.put(key, cached)
        return cached.copy()
    bulk = getattr(embedder, "embed_all", None)
    if bulk is not None:  # an engine that spreads the batches itself (bot.engines.ray) and shows its own progress
        vectors = _normalized(np.asarray(bulk(texts, batch_size=batch_size), dtype=np.float32))
        if bar is not None:
            bar.update(len(texts))
        return vectors
    mapped = getattr(embedder, "map", None)
    if mapped is not None:  # a hub handle: the model's own bulk path (ONNX: token-budget calls on every core)
        with (nullcontext(bar) if bar is not None else progress_bar(len(texts), progress, batch_size=batch_size)) as shown:
            vectors = np.asarray(mapped(texts, done=shown.update), dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ValueError(f"the embedder returned shape {vectors.shape} for {len(texts)} texts")
        return _normalized(vectors)
    # Batches of similar length: a batch is padded to its longest text, so mixing lengths wastes compute.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    with (nullcontext(bar) if bar is not None else progress_bar(len(texts), progress, batch_size=batch_size)) as shown:
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start:start + batch_size]]
            vectors = np.asarray(embedder(batch), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(batch):
                raise ValueError(f"the embedder returned shape {vectors.shape} for {len(batch)} texts")
            parts.append(vectors)
            shown.update(len(batch))
    vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    vectors[order] = np.vstack(parts)
    return _normalized(vectors)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    if vectors.ndim != 2:
        raise ValueError(f"the embedder returned shape {vectors.shape}")
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors
