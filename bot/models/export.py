"""ONNX exports of local models: made offline with torch.onnx, kept beside the model, made again when it changes.

Where: a trained version's export is ``models/PLUGIN/VERSION/onnx/``; any other model's (a package, a path, a
hub id) is ``models/.onnx/NAME-HASH/``. ``meta.json`` there records a fingerprint of the source files (names,
sizes, modification times): a model saved again gets a fresh export on its next load. Only the export needs
torch; serving an export does not (`bot.models.onnx`).

int8 (``quantize = "int8"``) is onnxruntime's dynamic quantization. Before it serves, its accuracy is measured
against the fp32 export on the plugin's eval data ([training.PLUGIN] eval_data) -- for embeddings, the cosine
similarity of their vectors -- written into meta.json and the version's metadata.json, and refused when it
loses more than [models] quantize_tolerance points.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailable
from bot.models.onnx import META_FILE, VARIANT_FILES
from bot.models.pooling import pool, pooling_modes
from bot.models.specs import ResolvedModel
from bot.models.versions import METADATA_FILE

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
SHARED_CACHE = ".onnx"
_SOURCE_FILES = re.compile(r"(\.safetensors|\.bin|\.txt|\.model|\.json)$")
_NOT_MODEL = {METADATA_FILE, "history.json", "trainer_state.json"}
# Sentences the int8 embedding check compares when there is no eval data: short, long, code-ish, questions.
PROBE_TEXTS = [
    "How do I reset my password?", "The deploy failed again last night and nobody noticed until morning.",
    "Quarterly revenue grew by 12% while costs stayed flat.", "git rebase -i HEAD~3 squashes the last commits",
    "Where is the handbook for new starters?", "I love this team", "The cat sat on the mat.",
    "Run `make test` before you open a pull request; CI runs the same target.",
]


def fingerprint(source: Path) -> str:
    """What the export was made from: the model's own files (not the export, not training bookkeeping)."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        skipped = relative.parts[0] == ONNX_DIR or relative.parts[0].startswith(".") or len(relative.parts) > 2
        if skipped or path.name in _NOT_MODEL or not _SOURCE_FILES.search(path.name) or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def export_folder(resolved: ResolvedModel, models_dir: Path) -> Path:
    if resolved.source == "trained":
        return resolved.path / ONNX_DIR
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.spec).strip("-")[-48:] or "model"
    digest = hashlib.sha256(str(resolved.path.resolve()).encode()).hexdigest()[:10]
    return Path(models_dir) / SHARED_CACHE / f"{name}-{digest}"


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def is_fresh(folder: Path, source: Path, head: str) -> bool:
    meta = read_meta(folder)
    return (meta.get("fingerprint") == fingerprint(source) and meta.get("head") == head
            and (folder / VARIANT_FILES["float32"]).is_file())


def export(source: Path, folder: Path, *, head: str) -> dict[str, Any]:
    """Export the model at `source` for `head` ("text-classification", "token-classification" or "embedding")."""
    import torch
    from transformers import AutoConfig, AutoTokenizer

    made_from = fingerprint(source)  # before anything is written: a trained version's export goes inside it
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    if not getattr(tokenizer, "is_fast", False):
        raise ModelUnavailable(f"{source}: ONNX serving needs a fast tokenizer (tokenizer.json); this model has none")
    model_config = AutoConfig.from_pretrained(str(source))
    module, max_length, extra = _torch_module(source, head, model_config)
    # Padding in the example batch, so the traced graph keeps the attention-mask path (an all-ones mask may be
    # traced away by the attention code, and padded batches would then read their padding).
    sample = tokenizer(["hello world", "a longer example sentence for the export"], padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["output"] = {0: "batch"} if head != "token-classification" else {0: "batch", 1: "tokens"}
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent if folder.parent.exists() else None))
    try:
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(module, tuple(sample[name] for name in names), str(tmp / VARIANT_FILES["float32"]),
                              input_names=names, output_names=["output"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {"head": head, "fingerprint": made_from, "source": str(source), "max_length": max_length,
                "id2label": {str(k): v for k, v in (model_config.id2label or {}).items()},
                "problem_type": getattr(model_config, "problem_type", None), **extra}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to %s", source, folder)
    return meta


def _torch_module(source: Path, head: str, model_config: Any) -> tuple[Any, int, dict[str, Any]]:
    import transformers

    from bot.models.tokens import token_limit

    classes = {"text-classification": "AutoModelForSequenceClassification",
               "token-classification": "AutoModelForTokenClassification", "embedding": "AutoModel"}
    if head not in classes:
        raise ModelUnavailable(f"no ONNX export for {head!r} models (text-classification, token-classification, embedding)")
    model = getattr(transformers, classes[head]).from_pretrained(str(source), attn_implementation="eager").eval()
    max_length = token_limit(model_config, transformers.AutoTokenizer.from_pretrained(str(source)))
    if head != "embedding":
        return _wrapped(model, head), max_length, {}
    pooling = pooling_modes(source)
    settings = source / "sentence_bert_config.json"
    if settings.exists():
        max_length = int(json.loads(settings.read_text()).get("max_seq_length") or max_length)
    return _wrapped(model, head, pooling), max_length, {"pooling": list(pooling), "normalized": True}


def _wrapped(model: Any, head: str, pooling: tuple[str, ...] = ("mean",)) -> Any:
    """The model with one output: the logits, or (embeddings) sentence-transformers' pooling + normalization."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, *rest: Any) -> Any:
            extra = {"token_type_ids": rest[0]} if rest else {}
            output = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
            if head != "embedding":
                return output.logits
            pooled = torch.cat([pool(mode, output.last_hidden_state, attention_mask) for mode in pooling], dim=1)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Wrapped()


def prepare(resolved: ResolvedModel, models_dir: Path, *, head: str, variant: str = "float32",
            eval_data: Path | None = None, tolerance: float = 1.0, force: bool = False) -> tuple[Path, str]:
    """The export folder for this model, made or remade as needed, and the variant that may serve from it.

    An int8 variant refused by its accuracy check serves as fp32 (with a warning) until the model changes.
    """
    folder = export_folder(resolved, models_dir)
    if force or not is_fresh(folder, resolved.path, head):
        export(resolved.path, folder, head=head)
    if variant == "float32":
        return folder, variant
    if variant == "float16":
        if not (folder / VARIANT_FILES["float16"]).is_file():
            _to_float16(folder)
        return folder, variant
    result = read_meta(folder).get("int8")
    if force or result is None or result.get("tolerance_points") != tolerance:
        from bot.models.quantize import quantize, record_in_version

        result = quantize(folder, eval_data=eval_data, probes=PROBE_TEXTS, tolerance=tolerance)
        if resolved.source == "trained":
            record_in_version(resolved.path, result)
    if not result.get("accepted"):
        log.warning("%s: int8 loses %.2f points (tolerance %.2f): serving fp32", resolved.spec,
                    result.get("loss_points", float("nan")), tolerance)
        return folder, "float32"
    return folder, "int8"


def _to_float16(folder: Path) -> None:
    """fp16 weights for the CUDA provider (inputs and outputs stay int64 / float32)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(folder / VARIANT_FILES["float32"])), keep_io_types=True)
    onnx.save(model, str(folder / VARIANT_FILES["float16"]))

