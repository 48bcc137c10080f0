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


class TokenizerView:
    """The few calls callers make on a Hugging Face tokenizer (token counts, offsets), answered by `tokenizers`."""

    def __init__(self, tokenizer: Any, model_max_length: int) -> None:
        self._tokenizer = tokenizer
        self.model_max_length = model_max_length

    def __call__(self, text: str, *, add_special_tokens: bool = True, truncation: bool = False,
                 return_offsets_mapping: bool = False, verbose: bool = False, **_: Any) -> dict[str, list]:
        encoding = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        ids, offsets = encoding.ids, encoding.offsets
        if truncation:
            ids, offsets = ids[:self.model_max_length], offsets[:self.model_max_length]
        result: dict[str, list] = {"input_ids": ids}
        if return_offsets_mapping:
            result["offset_mapping"] = offsets
        return result

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
