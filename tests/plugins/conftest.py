"""Tiny models built once per session, and bots configured for one plugin each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bots import TestBot, write_config
from tests.support.tinymodels import tiny_bart, tiny_nllb, tiny_token_classifier


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_tagger(tiny_models) -> Path:
    return tiny_token_classifier(tiny_models / "tagger")


@pytest.fixture(scope="session")
def tiny_seq2seq(tiny_models) -> Path:
    """A BART-shaped model that reads at most 64 tokens: long inputs must be chunked."""
    return tiny_bart(tiny_models / "bart")


@pytest.fixture(scope="session")
def tiny_multilingual(tiny_models) -> Path:
    """An NLLB-shaped model whose tokenizer knows eng_Latn, deu_Latn and fra_Latn."""
    return tiny_nllb(tiny_models / "nllb")


@pytest.fixture(scope="module")
def bot_for(tmp_path_factory):
    """A bot from a config body, in its own folder: `bot_for("[plugins.ner] ...")`."""

    def make(body: str) -> TestBot:
        return TestBot(write_config(tmp_path_factory.mktemp("bot"), body))

    return make
