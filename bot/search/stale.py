"""Which embedding model built an index: its id, whether the serving model differs, and that model to use.

An index records the id of the model that embedded it (`package:...`, a path, or `trained:search@VERSION`).
Until it is rebuilt (`bot.search.reindex.rebuild`), queries and writes keep using that model, never the
newly promoted one: a query vector and the index vectors always come from the same model.
"""

from __future__ import annotations

from typing import Any, Callable

from bot.search.embedding import Embedder, model_name

Models = Callable[[str], Embedder]  # model id -> an embedder that is (and stays) that model


class Pinned:
    """A loaded model under the id an index recorded (a trained version loaded by its folder)."""

    def __init__(self, handle: Any, spec: str, version: str | None) -> None:
        self.handle, self.tokenizer = handle, getattr(handle, "tokenizer", None)
        self.info = {**getattr(handle, "info", {}), "spec": spec, "version": version}

    def __call__(self, texts: list[str]) -> Any:
        return self.handle(texts)

    def map(self, texts: list[str], **kwargs: Any) -> Any:
        return self.handle.map(texts, **kwargs)


def hub_models(hub: Any, models_dir: Any, *, batch_size: int = 64) -> Models:
    """Load a recorded model id with the hub: `trained:PLUGIN@VERSION` from models_dir/PLUGIN/VERSION."""

    def load(model_id: str) -> Embedder:
        spec, _, version = model_id.partition("@")
        if version and spec.startswith("trained:"):
            folder = models_dir / spec[len("trained:"):] / version
            return Pinned(hub.sentence_model(str(folder), batch_size=batch_size, what=f"the model of {model_id}"),
                          spec, version)
        return hub.sentence_model(spec, batch_size=batch_size, what=f"the model of {model_id}")

    return load


def embedder_for(built_with: str | None, serving: Embedder, models: Models | None) -> Embedder:
    """The embedder to use with an index built by `built_with` (None: a new index, so the serving one)."""
    if not built_with or built_with == model_name(serving) or models is None:
        return serving
    return models(built_with)


def is_stale(built_with: str | None, serving: Embedder | None) -> bool:
    return bool(built_with) and serving is not None and built_with != model_name(serving)
