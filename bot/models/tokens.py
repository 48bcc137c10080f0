"""Token counts and input limits, measured the same way for every model that has a tokenizer."""

from __future__ import annotations

from typing import Any


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens the model reads for `text`, special tokens included and nothing cut off."""
    return len(tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


def token_limit(model_config: Any, tokenizer: Any) -> int:
    """The longest input a model reads: its position table or the tokenizer's limit, whichever is smaller."""
    limits = [getattr(model_config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    # tokenizers without a limit report a huge sentinel (int(1e30)); 512 is the usual BERT-family table
    return min((limit for limit in limits if limit and limit < 1_000_000), default=512)
