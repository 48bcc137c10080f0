"""The hub's text-to-text kind: an encoder-decoder model and its tokenizer, texts in, texts out."""

from __future__ import annotations

import threading
from typing import Any

from bot.errors import ModelUnavailable
from bot.models.tokens import count_tokens, token_limit


class Seq2SeqGenerator:
    """An encoder-decoder model (BART, T5, Pegasus, Marian, NLLB, M2M100) and its tokenizer: texts in, texts out.

    transformers 5 has no summarization or translation pipeline, so this is the hub's text-to-text kind.
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self._lock = threading.Lock()  # the tokenizer's src_lang is shared state

    @property
    def device(self) -> Any:
        return self.model.device

    @property
    def max_input_tokens(self) -> int:
        return token_limit(self.model.config, self.tokenizer)

    def count_tokens(self, text: str) -> int:
        return count_tokens(self.tokenizer, text)

    def language_id(self, code: str) -> int:
        """The token id of a language code, or ModelUnavailable when this model's tokenizer lacks it."""
        get_lang_id = getattr(self.tokenizer, "get_lang_id", None)  # M2M100 wraps codes: "de" -> "__de__"
        try:
            token_id = get_lang_id(code) if get_lang_id else self.tokenizer.convert_tokens_to_ids(code)
        except KeyError:
            token_id = None
        if token_id is None or token_id == self.tokenizer.unk_token_id:
            raise ModelUnavailable(f"this model's tokenizer has no language code {code!r}")
        return token_id

    def generate(self, texts: list[str], *, src_lang: str | None = None, tgt_lang: str | None = None,
                 **generate_kwargs: Any) -> list[str]:
        """Generate one text per input; `src_lang`/`tgt_lang` are a multilingual model's own codes."""
        import torch

        with self._lock:
            if src_lang is not None:
                self.language_id(src_lang)
                self.tokenizer.src_lang = src_lang
            batch = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                                   max_length=self.max_input_tokens)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions and generate_kwargs.get("max_length", 0) > positions:  # longer outputs have no positions
            generate_kwargs["max_length"] = positions
            generate_kwargs["min_length"] = min(generate_kwargs.get("min_length", 0), positions)
        if tgt_lang is not None:
            generate_kwargs["forced_bos_token_id"] = self.language_id(tgt_lang)
        with torch.inference_mode():
            output = self.model.generate(**batch.to(self.model.device), **generate_kwargs)
        return [text.strip() for text in self.tokenizer.batch_decode(output, skip_special_tokens=True)]
