"""Recent queries are embedded once: the LRU answers a repeated query, and a swapped model never gets old vectors."""

from __future__ import annotations

import numpy as np

from bot.search.embedding import embed_texts


class CountingEmbedder:
    """A deterministic embedder that counts the texts it is asked to embed, with the hub handle's `info`."""

    def __init__(self, version: str) -> None:
        self.info = {"spec": "trained:search", "version": version, "runtime": "onnx", "dtype": "float32"}
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        rows = [np.random.default_rng(abs(hash((self.info["version"], t))) % 2**32).normal(size=8) for t in texts]
        return np.asarray(rows, dtype=np.float32)


def test_a_repeated_query_is_embedded_once_and_a_new_model_embeds_it_again():
    first = CountingEmbedder("v0001")
    one = embed_texts(first, ["how do I reset my password?"])
    again = embed_texts(first, ["how do I reset my password?"])
    assert first.texts == ["how do I reset my password?"]
    assert np.array_equal(one, again) and np.isclose(np.linalg.norm(one), 1.0)
    again[0, 0] = 42.0  # a caller changing its copy does not change what the next caller gets
    assert embed_texts(first, ["how do I reset my password?"])[0, 0] == one[0, 0]

    promoted = CountingEmbedder("v0002")
    fresh = embed_texts(promoted, ["how do I reset my password?"])
    assert promoted.texts == ["how do I reset my password?"] and not np.array_equal(fresh, one)

    batch = embed_texts(first, ["how do I reset my password?", "where is the handbook?"])
    assert first.texts[1:] == ["how do I reset my password?", "where is the handbook?"]  # documents: no cache
    assert np.allclose(batch[0], one[0], atol=1e-6)
