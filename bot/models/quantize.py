"""int8 dynamic quantization of an ONNX export, accepted only when it keeps the model's accuracy.

The loss is measured in points (0-100) against the fp32 export on the same texts:

- classifiers with eval data whose labels the model knows: accuracy(fp32) - accuracy(int8);
- other classifiers and taggers: 100 x the share of (token) predictions that change;
- embeddings: 100 x (1 - the mean cosine similarity of the int8 and fp32 vectors).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bot.models.onnx import META_FILE, VARIANT_FILES, OnnxModel, classify, embed

log = logging.getLogger(__name__)

EVAL_LIMIT = 2000  # texts read from the eval data: enough for a 0.1-point resolution, a few seconds on a CPU


def read_eval(path: Path | None) -> tuple[list[str], list[str]]:
    """(texts, labels) from JSON lines with "text" (and "label"); nothing when there is no such file."""
    texts, labels = [], []
    if path is None or not Path(path).is_file():
        return texts, labels
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # CoNLL and other formats: no texts to compare here
            if isinstance(row, dict) and isinstance(row.get("text"), str):
                texts.append(row["text"])
                labels.append(str(row.get("label", "")))
            if len(texts) >= EVAL_LIMIT:
                break
    return texts, labels


def quantize(folder: Path, *, eval_data: Path | None, probes: list[str], tolerance: float) -> dict[str, Any]:
    """Write model.int8.onnx, measure it, record the result in meta.json; "accepted" says whether it may serve."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = folder / VARIANT_FILES["int8"]
    # Per-channel weights of the MatMuls only: per-tensor scales, or a quantized embedding table, cost MiniLM
    # 4 points of cosine (0.960) where this keeps 0.992 (measured on PROBE_TEXTS), at the same speed.
    quantize_dynamic(str(folder / VARIANT_FILES["float32"]), str(target), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])
    fp32, int8 = OnnxModel(folder, variant="float32"), OnnxModel(folder, variant="int8")
    texts, gold = read_eval(eval_data)
    result = _measure(fp32, int8, texts or probes, gold if texts else [])
    result.update(tolerance_points=tolerance, accepted=result["loss_points"] <= tolerance,
                  eval_data=str(eval_data) if texts else None, texts=len(texts or probes))
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    meta["int8"] = result
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if not result["accepted"]:
        target.unlink(missing_ok=True)  # never served: the fp32 export serves instead
    log.info("int8 %s: %s", "accepted" if result["accepted"] else "refused", result)
    return result


def _measure(fp32: OnnxModel, int8: OnnxModel, texts: list[str], gold: list[str]) -> dict[str, Any]:
    head = fp32.meta["head"]
    if head == "embedding":
        a, b = np.vstack(embed(fp32, texts, 64, {})), np.vstack(embed(int8, texts, 64, {}))
        cosine = float(np.mean(np.sum(a * b, axis=1)))
        return {"measure": "mean cosine int8 vs fp32", "cosine": round(cosine, 5),
                "loss_points": round(100 * (1 - cosine), 3)}
    if head == "text-classification":
        ours = [r["label"] for r in classify(fp32, texts, 64, {})]
        quantized = [r["label"] for r in classify(int8, texts, 64, {})]
        known = {label.lower() for label in fp32.meta["id2label"].values()}
        if gold and all(label.lower() in known for label in gold):
            acc32 = float(np.mean([p.lower() == g.lower() for p, g in zip(ours, gold)])) * 100
            acc8 = float(np.mean([p.lower() == g.lower() for p, g in zip(quantized, gold)])) * 100
            return {"measure": "accuracy on eval data", "accuracy_fp32": round(acc32, 2),
                    "accuracy_int8": round(acc8, 2), "loss_points": round(acc32 - acc8, 2)}
        changed = float(np.mean([a != b for a, b in zip(ours, quantized)])) * 100
        return {"measure": "predictions changed", "loss_points": round(changed, 2)}
    encoder = fp32.encoder()
    changed, total = 0, 0
    for text in texts:
        encodings = [encoder.encode(text)]
        a, b = fp32.run(encodings).argmax(-1), int8.run(encodings).argmax(-1)
        changed, total = changed + int((a != b).sum()), total + a.size
    return {"measure": "token predictions changed", "loss_points": round(100 * changed / max(total, 1), 2)}


def record_in_version(version_folder: Path, result: dict[str, Any], *, key: str = "int8") -> None:
    """Add an int8 measurement to a trained version's metadata.json (kept beside its training metrics)."""
    from bot.models.versions import METADATA_FILE

    path = version_folder / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        data = {}
    data.setdefault("onnx", {})[key] = result
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


# int8 document vectors (search): measured by `nlpbot index check-int8` (bot.search.int8_gate) as the nDCG@10 that
# fp32 queries lose over int8 document vectors, recorded beside the export's own int8 check, and trusted only
# for the int8 file it was measured on.
DOCUMENTS_GATE = "int8_documents"


def int8_identity(folder: Path) -> str | None:
    """A checksum of the export's int8 file (None when there is none): what a documents gate was measured on."""
    import hashlib

    path = folder / VARIANT_FILES["int8"]
    if not path.is_file():
        return None
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_documents_gate(folder: Path, result: dict[str, Any], version_folder: Path | None = None) -> None:
    """Write a documents gate's measurement into the export's meta.json (and a trained version's metadata.json)."""
    path = folder / META_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta[DOCUMENTS_GATE] = result
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp.replace(path)
    if version_folder is not None:
        record_in_version(version_folder, result, key=DOCUMENTS_GATE)


def documents_gate(folder: Path) -> dict[str, Any] | None:
    """The documents gate recorded for this export, if it was measured on the int8 file there now."""
    try:
        result = json.loads((folder / META_FILE).read_text(encoding="utf-8")).get(DOCUMENTS_GATE)
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(result, dict) or result.get("int8_file") != int8_identity(folder):
        return None
    return result
