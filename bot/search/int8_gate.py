"""`nlpbot index check-int8`: may this model's documents be embedded in int8? Measured on judged queries, recorded.

The same judged sets (BEIR folders) are indexed twice in a scratch folder, once with fp32 and once with int8
document vectors, and searched with the same fp32 query vectors. The gate passes when nDCG@10 (dense and hybrid,
document level) drops by at most MAX_DROP on every set. The result is written beside the export's own int8 check
(`bot.models.quantize.record_documents_gate`), tied to that int8 file; [search] document_quantize = "int8" uses
int8 document vectors only where it passed (`bot.search.document_vectors`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from bot.errors import UserInputError
from bot.search.beir import judged_queries
from bot.search.benchmark import build, pools
from bot.search.document_vectors import INT8
from bot.search.hybrid import Fusion
from bot.search.index import DocumentIndex

if TYPE_CHECKING:
    from bot.config import Config

MAX_DROP = 0.005  # nDCG@10 that int8 document vectors may lose on any set (issue 24)
MODES = ("dense", "hybrid")


def check_int8_documents(config: Config, hub: Any, folders: list[str | Path], *, split: str = "test",
                         max_drop: float = MAX_DROP, say: Callable[[str], object] = lambda line: None) -> dict[str, Any]:
    """Measure the gate for the [search] model on each BEIR folder, record it with the export, return it."""
    from bot.models.quantize import int8_identity, record_documents_gate

    if not folders:
        raise UserInputError("give at least one judged set: --beir DIR (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)")
    judged = [(Path(folder), judged_queries(folder, split)) for folder in folders]  # bad data fails before any model
    settings = config.search
    fp32, int8 = (hub.get("sentence-transformer", settings.embedding_model, runtime="onnx", batch_size=settings.batch_size,
                          what="[search] embedding_model", quantize=quantize) for quantize in ("none", "int8"))
    export = Path(fp32.info["loaded_from"])
    result: dict[str, Any] = {"measure": "nDCG@10 of fp32 queries over int8 vs fp32 document vectors", "split": split,
                              "max_drop": max_drop, "modes": list(MODES), "sets": [], "int8_file": int8_identity(export),
                              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if int8.info["dtype"] != INT8:  # the export's own int8 check refused it: nothing to measure
        result.update(passed=False, reason="the export's int8 check refused int8 for this model")
    else:
        for folder, queries in judged:
            result["sets"].append(measure_set(settings, fp32, int8, folder, queries, say=say))
        result["passed"] = all(item["drop"] <= max_drop for item in result["sets"])
    record_documents_gate(export, result, Path(fp32.info["path"]) if fp32.info.get("source") == "trained" else None)
    return result


def measure_set(settings: Any, fp32: Any, int8: Any, folder: Path, queries: list, *,
                say: Callable[[str], object] = lambda line: None) -> dict[str, Any]:
    """nDCG@10 per mode with fp32 and with int8 document vectors on one judged set; `drop` is the largest loss."""
    scores: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="nlpbot-int8-gate-") as scratch:
        for name, documents in (("float32", fp32), ("int8", int8)):
            index = DocumentIndex(Path(scratch) / name, settings=settings, embedder=fp32, progress=False,
                                  documents=lambda recorded, documents=documents: documents)
            try:
                built = build(index, folder)
                say(f"{folder.name}: {built['chunks_embedded']} chunks embedded with {name} document vectors "
                    f"in {built['seconds']} s")
                pooled = pools(index, queries)
                scores[name] = {mode: round(pooled.metrics(mode, Fusion.of(settings))["ndcg@10"], 4) for mode in MODES}
            finally:
                index.close()
    drop = max(scores["float32"][mode] - scores["int8"][mode] for mode in MODES)
    return {"name": folder.name, "data": str(folder), "queries": len(queries), "chunks": built["chunks_embedded"],
            "float32": scores["float32"], "int8": scores["int8"], "drop": round(drop, 4)}
