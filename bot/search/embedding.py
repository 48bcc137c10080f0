"""Calling the embedding model the caller handed us: batches, a progress bar, normalized float32 rows."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any, Callable

import numpy as np

Embedder = Callable[[list[str]], Any]  # a bot.models.ModelHandle, or any function texts -> (n, dim) array


def model_name(embedder: Embedder | None) -> str | None:
    """The model's spec when the embedder is a hub handle, so an index refuses vectors from another model."""
    info = getattr(embedder, "info", None)
    return info.get("spec") if isinstance(info, dict) else getattr(embedder, "name", None)


def progress_bar(total: int, progress: bool | None, *, batch_size: int) -> Any:
    """A tqdm bar over `total` chunks on stderr, shown when stderr is a terminal unless progress=False."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(total=total, desc="embedding", unit="chunk", disable=not show or total <= batch_size)


def embed_texts(embedder: Embedder, texts: list[str], *, batch_size: int = 64, progress: bool | None = None,
                bar: Any = None) -> np.ndarray:
    """(len(texts), dim) float32, L2-normalized. `bar` (from progress_bar) is advanced, else one is drawn here."""
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
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors
