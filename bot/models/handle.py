"""What plugins hold: a handle with its own batching over a loaded model that every caller shares."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.models.batching import Batcher
from bot.models.decisions import decide
from bot.models.loaders import LOADERS
from bot.models.tokens import count_tokens


@dataclass(eq=False)
class LoadedModel:
    """One model in memory, shared by every handle over it; `swap` replaces it for all of them at once.

    The model and its info live in one tuple that `swap` replaces in a single assignment, so a reader sees
    the old pair or the new one, never the new model with the old version.
    """

    key: tuple
    kind: str
    current: tuple[Any, dict[str, Any]]  # (the loaded object, its info: spec, version, device, dtype, ...)
    users: set[str] = field(default_factory=set)  # the settings that asked for it (plugins.x.model, ...)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one writer at a time

    @property
    def info(self) -> dict[str, Any]:
        return self.current[1]

    def swap(self, value: Any, info: dict[str, Any]) -> None:
        with self._lock:
            self.current = (value, {**self.current[1], **info})


class ModelHandle:
    """A loaded model as one caller uses it: called on a list of inputs, one result per input, in order.

    Concurrent small calls through one handle are gathered into one model call (`Batcher`): whatever is
    waiting when the model is free, plus what arrives within `max_wait_ms`, at most `batch_size` inputs.
    Handles with other batching settings share the same `LoadedModel`, so the weights are loaded once and
    a swap reaches every handle at once; a request in flight keeps the model it started with.
    """

    def __init__(self, shared: LoadedModel, *, batch_size: int = 16, max_wait_ms: float = 0.0) -> None:
        self.shared = shared
        self.batch_size = batch_size
        self.max_wait_ms = max_wait_ms
        self._loader = LOADERS[shared.kind]
        self._batcher: Batcher | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ModelHandle({self.info.get('spec')!r}, batch_size={self.batch_size}, max_wait_ms={self.max_wait_ms})"

    @property
    def kind(self) -> str:
        return self.shared.kind

    @property
    def info(self) -> dict[str, Any]:
        return self.shared.info

    @property
    def users(self) -> set[str]:
        return self.shared.users

    def __call__(self, inputs: list, **kwargs: Any) -> Any:
        if not len(inputs):
            return self._loader.combine([])
        if self.batch_size > 1 and len(inputs) < self.batch_size:
            results = self._get_batcher().submit(inputs, kwargs)
        else:
            results = self.run_now(inputs, kwargs)
        return self._loader.combine(results)

    def map(self, inputs: list, *, done: Callable[[int], object] | None = None, **kwargs: Any) -> Any:
        """Every input at the model's best speed for a batch job (indexing, `nlpbot predict`): one result per input,
        in order, like a call; `done(n)` is told as n more are finished. An ONNX model streams them on every core
        (`bot.models.bulk`); other models get them longest first, `batch_size` per call."""
        if not len(inputs):
            return self._loader.combine([])
        model = self.shared.current[0]  # one model for the whole job, even if a promotion swaps it meanwhile
        if self._loader.streams:
            return self._loader.combine(self._loader.call(model, list(inputs), self.batch_size, dict(kwargs), done))
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]) if isinstance(inputs[i], str) else 0,
                       reverse=True)
        results: list[Any] = [None] * len(inputs)
        for start in range(0, len(inputs), self.batch_size):
            part = order[start:start + self.batch_size]
            for index, result in zip(part, self._loader.call(model, [inputs[i] for i in part], self.batch_size,
                                                             dict(kwargs))):
                results[index] = result
            if done is not None:
                done(len(part))
        return self._loader.combine(results)

    def run_now(self, inputs: list, kwargs: dict) -> list:
        """One model call on these inputs, without waiting for others.

        A text classifier called with `calibrated=True` gives an answer per input (`bot.models.decisions.decide`):
        every label's score, and the label only where the serving version's calibrated threshold is met.
        """
        model, info = self.shared.current  # one read: a swap cannot change the model (or its calibration) mid-call
        kwargs = dict(kwargs)
        if not kwargs.pop("calibrated", False):
            return list(self._loader.call(model, list(inputs), self.batch_size, kwargs))
        scores = self._loader.call(model, list(inputs), self.batch_size, {**kwargs, "top_k": None})
        return [decide(row, info.get("calibration")) for row in scores]

    def _get_batcher(self) -> Batcher:
        if self._batcher is None:
            with self._lock:
                if self._batcher is None:
                    self._batcher = Batcher(self.run_now, batch_size=self.batch_size, max_wait_ms=self.max_wait_ms,
                                            name=str(self.info.get("spec", self.shared.key[1])),
                                            workers=getattr(self.shared.current[0], "parallel_calls", 1))
        return self._batcher

    # -- what callers need to fit their inputs to the model -----------------------------------------
    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer, or None for models without one (spaCy)."""
        return self._loader.tokenizer(self.shared.current[0])

    @property
    def max_input_tokens(self) -> int | None:
        """The longest input the model reads in full, in tokens (None where it has no tokenizer)."""
        return self._loader.max_input_tokens(self.shared.current[0])

    def count_tokens(self, text: str) -> int:
        tokenizer = self.tokenizer
        if tokenizer is None:
            raise TypeError(f"a {self.kind} model has no tokenizer to count tokens with")
        return count_tokens(tokenizer, text)

    @property
    def device(self) -> str:
        """Where the weights are (e.g. "cuda:0", "cpu"), read from the loaded model itself."""
        return str(getattr(self.shared.current[0], "device", "cpu"))
