"""Calling the embedding model the caller handed us: batches, a progress bar, normalized float32 rows."""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

Embedder = Callable[[list[str]], Any]  # a bot.models.ModelHandle, or any function texts -> (n, dim) array


def model_name(embedder: Embedder | None) -> str | None:
    """The model's spec (with @VERSION for a trained one), recorded by an index so models are never mixed."""
    info = getattr(embedder, "info", None)
    if not isinstance(info, dict):
        return getattr(embedder, "name", None)
    return f"{info.get('spec')}@{info['version']}" if info.get("version") else info.get("spec")


def embed_texts(embedder: Embedder, texts: list[str], *, batch_size: int = 64, progress: bool | None = None) -> np.ndarray:
    """(len(texts), dim) float32, L2-normalized. The bar shows when stderr is a terminal, unless progress=False."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    parts = []
    with tqdm(total=len(texts), desc="embedding", unit="chunk", disable=not show or len(texts) <= batch_size) as bar:
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            vectors = np.asarray(embedder(batch), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(batch):
                raise ValueError(f"the embedder returned shape {vectors.shape} for {len(batch)} texts")
            parts.append(vectors)
            bar.update(len(batch))
    vectors = np.vstack(parts)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors
