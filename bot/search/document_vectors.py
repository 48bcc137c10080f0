"""How an index's chunks are embedded: the [search] model on [search] document_runtime, int8 only where measured.

Queries are always embedded in fp32. Document vectors may be int8 ([search] document_quantize = "int8") only for
a model whose gate passed (`nlpbot index check-int8`: fp32 queries lose at most 0.005 nDCG@10 over int8 documents
on every judged set measured; `bot.search.int8_gate`). An index records int8 document vectors
(`document_vectors` in its meta) and keeps them: its later writes embed the same way, so an index never mixes the
two, whatever the setting says now; a new index, or a rebuild, takes the setting.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from bot.search.embedding import Embedder

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)

INT8, FLOAT32 = "int8", "float32"
# What an index's chunks are embedded with, given the variant it records (None: none yet, so the setting's).
Documents = Callable[[str | None], Embedder]


def variant_of(embedder: Embedder | None) -> str:
    """"int8" for int8 document vectors, else "float32" (fp16/bf16 on a GPU too: the same model's vectors)."""
    info = getattr(embedder, "info", None)
    return INT8 if isinstance(info, dict) and info.get("dtype") == INT8 else FLOAT32


def recorded_variant(meta: dict[str, Any]) -> str | None:
    """How an index's chunks were embedded ("float32" or "int8", from its meta); None while it holds none."""
    return meta.get("document_vectors", FLOAT32) if meta.get("vectors_file") else None


class DocumentEmbedders:
    """The embedder for an index's chunks, from the model hub: `documents(recorded_variant)`."""

    def __init__(self, hub: Any, config: Config) -> None:
        self.hub, self.config, self.settings = hub, config, config.search
        self._wanted: str | None = None
        self._decided = False

    def __call__(self, recorded: str | None) -> Embedder:
        variant = recorded if recorded is not None else self.wanted()
        return self.hub.get("sentence-transformer", self.settings.embedding_model, batch_size=self.settings.batch_size,
                            what="[search] embedding_model", runtime=self.settings.document_runtime,
                            quantize="int8" if variant == INT8 else "none")

    def wanted(self) -> str | None:
        """INT8 where [search] document_quantize asks for it and the gate passed for this model; else None (fp32)."""
        if not self._decided:
            self._wanted, self._decided = self._decide(), True
        return self._wanted

    def _decide(self) -> str | None:
        if self.settings.document_quantize != INT8:
            return None
        if self.settings.document_runtime != "onnx":
            log.warning('[search] document_quantize = "int8" needs document_runtime = "onnx": document vectors stay fp32')
            return None
        gate = measured_gate(self.config)
        if gate is None or not gate.get("passed"):
            log.warning("[search] document_quantize = \"int8\": %s, so document vectors stay fp32",
                        "its gate did not pass for this model (`nlpbot index check-int8`: " + _drops(gate) + ")"
                        if gate else "no gate has been measured for this model; `nlpbot index check-int8 --beir DIR` "
                        "measures it")
            return None
        return INT8


def measured_gate(config: Config) -> dict[str, Any] | None:
    """The int8 documents gate recorded for the [search] model's ONNX export (None: never measured on that export)."""
    from bot.models.export import export_folder
    from bot.models.quantize import documents_gate
    from bot.models.specs import resolve_model

    resolved = resolve_model(config.search.embedding_model, config=config, what="[search] embedding_model")
    return documents_gate(export_folder(resolved, config.models_dir))


def _drops(gate: dict[str, Any]) -> str:
    return ", ".join(f"{item['name']} -{item['drop']:.4f}" for item in gate.get("sets", [])) or "nothing measured"
