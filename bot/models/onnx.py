"""ONNX Runtime serving with tokenizers + numpy, never torch: text and token classification, sentence embeddings.

An exported folder (`bot.models.export`) holds ``model.onnx`` (and ``model.int8.onnx`` / ``model.fp16.onnx``),
``tokenizer.json`` and ``meta.json`` (task, labels, token limit, pooling). The call functions return what the
transformers pipeline and sentence-transformers return for the same inputs, so plugins cannot tell the runtimes
apart: ``[{"label", "score"}]`` per text, ``[{"entity_group", "score", "word", "start", "end"}, ...]`` per text
(aggregation "simple"), or one L2-normalized float32 row per text.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bot.errors import ModelUnavailable
from bot.models.buckets import length_groups
from bot.models.bulk import bulk_rows, run_encoded
from bot.models.entities import group_entities
from bot.models.tokens import TokenizerView

META_FILE = "meta.json"
VARIANT_FILES = {"float32": "model.onnx", "int8": "model.int8.onnx", "float16": "model.fp16.onnx"}  # inside bot.models
__all__ = ["META_FILE", "OnnxModel", "TokenizerView", "classify", "embed", "onnx_device", "open_session",
           "session_options", "tag", "usable_cores"]


def onnx_device(preference: str | None) -> str:
    """The device policy for ONNX Runtime, without torch: "auto" takes CUDA where its provider is installed."""
    import onnxruntime as ort

    preference = preference or "auto"
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if preference == "auto":
        return "cuda:0" if cuda else "cpu"
    if preference.startswith("cuda") and not cuda:
        raise ModelUnavailable(f"device {preference!r} is configured but onnxruntime has no CUDA provider "
                               "(install onnxruntime-gpu, or use runtime = \"torch\")")
    if preference == "mps":
        raise ModelUnavailable('runtime "onnx" has no Apple GPU provider here; use device = "cpu" or runtime = "torch"')
    return preference


class OnnxModel:
    """One exported model in an ONNX Runtime session; `run` takes tokenized batches, thread-safe."""

    def __init__(self, folder: Path, *, variant: str = "float32", device: str = "cpu", threads: int = 0) -> None:
        self.folder, self.variant, self.device = Path(folder), variant, device
        self.meta: dict[str, Any] = json.loads((self.folder / META_FILE).read_text(encoding="utf-8"))
        self.session = open_session(self.folder, variant, device=device, threads=threads)
        # Calls run at once (the session is thread-safe): on the CPU one per share of the cores; a GPU runs one.
        self.parallel_calls = 1 if device.startswith("cuda") else \
            max(1, usable_cores() // self.session.get_session_options().intra_op_num_threads)
        self.inputs = {item.name for item in self.session.get_inputs()}
        self.max_length = int(self.meta["max_length"])
        self._tokenizer_json = (self.folder / "tokenizer.json").read_text(encoding="utf-8")
        self._tokenizers: dict[tuple[int, int], Any] = {}
        self._lock = threading.Lock()
        self.tokenizer = TokenizerView(self._make_tokenizer(0, 0), self.max_length)

    def _make_tokenizer(self, max_length: int, stride: int) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(self._tokenizer_json)
        tokenizer.no_padding()
        if max_length:
            tokenizer.enable_truncation(max_length, stride=stride)
        else:
            tokenizer.no_truncation()
        return tokenizer

    def encoder(self, max_length: int | None = None, stride: int = 0) -> Any:
        """A tokenizer that truncates at `max_length` (default and ceiling: the model's limit); one per setting."""
        limit = min(max_length or self.max_length, self.max_length)
        key = (limit, stride)
        tokenizer = self._tokenizers.get(key)
        if tokenizer is None:
            with self._lock:  # truncation settings are per tokenizer object: build each once, then only read
                tokenizer = self._tokenizers.setdefault(key, self._make_tokenizer(limit, stride))
        return tokenizer

    def encode(self, texts: list[str], max_length: int | None = None) -> list[Any]:
        """`tokenizers` encodings of `texts`, truncated at `max_length` (see `encoder`)."""
        encoder = self.encoder(max_length)
        return [encoder.encode(texts[0])] if len(texts) == 1 else encoder.encode_batch(texts)  # one: no batch set-up

    def run(self, encodings: list[Any]) -> np.ndarray:
        """The model's first output for a list of `tokenizers` encodings, padded here to the longest."""
        typed = "token_type_ids" in self.inputs
        if len(encodings) == 1:  # a lone request: nothing to pad
            ids = np.array([encodings[0].ids], dtype=np.int64)
            mask = np.ones(ids.shape, dtype=np.int64)
            types = np.array([encodings[0].type_ids], dtype=np.int64) if typed else None
        else:
            ids = np.zeros((len(encodings), max(len(encoding) for encoding in encodings)), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids) if typed else None
            for row, encoding in enumerate(encodings):
                size = len(encoding)
                ids[row, :size], mask[row, :size] = encoding.ids, 1
                if typed:
                    types[row, :size] = encoding.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return self.session.run(None, {name: value for name, value in feed.items() if name in self.inputs})[0]

    def run_all(self, encodings: list[Any], batch_size: int) -> np.ndarray:
        """`run` over any number of encodings in length buckets (`length_groups`), rows back in input order; for
        outputs of one shape per input (classifier logits, sentence embeddings), not per-token ones."""
        if len(encodings) == 1:
            return self.run(encodings)
        out: np.ndarray | None = None
        for group in length_groups([len(encoding) for encoding in encodings], batch_size):
            result = self.run([encodings[i] for i in group])
            if out is None:
                out = np.empty((len(encodings), *result.shape[1:]), dtype=result.dtype)
            out[group] = result
        return out


def open_session(folder: Path, variant: str = "float32", *, device: str = "cpu", threads: int = 0) -> Any:
    """An ONNX Runtime session on an export's VARIANT (float32, int8, float16) with the serving settings."""
    import onnxruntime as ort

    cuda = [("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2] or 0)})] if device.startswith("cuda") else []
    return ort.InferenceSession(str(Path(folder) / VARIANT_FILES[variant]), session_options(threads),
                                providers=[*cuda, "CPUExecutionProvider"])


def session_options(threads: int = 0) -> Any:
    """The ONNX Runtime settings of every serving session (and of the benchmarks' raw rows: like with like)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No spin-waiting between ops: spinning workers take the CPU the request threads and the next op need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Half the cores per model call, and two calls at once (OnnxModel.parallel_calls): on 2 cores, two 1-thread
    # batches side by side served 2.8-3.0x the raw pipeline at 32 concurrent, one 2-thread batch at a time 2.3x.
    options.intra_op_num_threads = threads or max(1, usable_cores() // 2)
    return options


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _rows(model: OnnxModel, texts: list[str], batch_size: int, max_length: int | None,
          done: Callable[[int], object] | None) -> np.ndarray | list[np.ndarray]:
    """One output row per text: up to a batch in length buckets on this thread (requests, the batcher), more in
    token-budget calls on every core with the tokenizer running ahead (`bot.models.bulk`: indexing, predict)."""
    if len(texts) <= batch_size:
        rows = model.run_all(model.encode(texts, max_length), batch_size)
        if done is not None:
            done(len(texts))
        return rows
    return bulk_rows(model, texts, max_rows=batch_size, max_length=max_length, done=done)


def classify(model: OnnxModel, texts: list[str], batch_size: int, kwargs: dict,
             done: Callable[[int], object] | None = None) -> list[Any]:
    """Like ``pipeline("text-classification")``: the best label and its probability per text (``top_k=None``: all)."""
    if not texts:
        return []
    labels = model.meta["id2label"]
    sigmoid = model.meta.get("problem_type") == "multi_label_classification" or len(labels) == 1
    rows = _rows(model, texts, batch_size, kwargs.get("max_length"), done)
    if kwargs.get("top_k", 1) is None:  # every label's probability, best first, as the pipeline gives them
        logits = np.asarray(rows if isinstance(rows, np.ndarray) else np.stack(rows), dtype=np.float64)
        scores = 1 / (1 + np.exp(-logits)) if sigmoid else _softmax(logits)
        return [[{"label": labels[str(i)], "score": float(row[i])} for i in np.argsort(-row)] for row in scores]
    results = []
    # Plain Python per row: numpy's per-call cost is more than the arithmetic on a few labels (a lone request).
    for row in rows.tolist() if isinstance(rows, np.ndarray) else [row.tolist() for row in rows]:
        top = max(row)
        score = (1.0 / (1.0 + math.exp(-top)) if top >= 0 else math.exp(top) / (1.0 + math.exp(top))) if sigmoid \
            else 1.0 / sum([math.exp(value - top) for value in row])  # the softmax of the best label alone
        results.append({"label": labels[str(row.index(top))], "score": score})
    return results


def embed(model: OnnxModel, texts: list[str], batch_size: int, kwargs: dict,
          done: Callable[[int], object] | None = None) -> list[np.ndarray]:
    """Like ``SentenceTransformer.encode(normalize_embeddings=True)``: pooling and normalization are in the graph."""
    if not texts:
        return []
    rows = _rows(model, texts, batch_size, None, done)
    return list(rows.astype(np.float32, copy=False)) if isinstance(rows, np.ndarray) else \
        [row.astype(np.float32, copy=False) for row in rows]


def tag(model: OnnxModel, texts: list[str], batch_size: int, kwargs: dict,
        done: Callable[[int], object] | None = None) -> list[list[dict[str, Any]]]:
    """Like ``pipeline("token-classification", aggregation_strategy="simple")``, long texts in overlapping windows.

    The windows of all texts are run together, not text by text: up to a batch in length buckets on this thread,
    more in token-budget calls on every core (`bot.models.bulk`).
    """
    stride = int(kwargs.get("stride") or 0)
    limit = model.max_length
    encoder = model.encoder(limit, min(stride, limit // 2))
    labels = model.meta["id2label"]
    windows, owners = [], []
    for number, first in enumerate(encoder.encode_batch(texts) if len(texts) > 1 else [encoder.encode(texts[0])]):
        for window in (first, *first.overflowing):
            windows.append(window)
            owners.append(number)
    if len(windows) <= batch_size:
        probabilities: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
        for group in length_groups([len(window) for window in windows], batch_size):
            output = model.run([windows[i] for i in group])
            for row, i in enumerate(group):
                probabilities[i] = output[row, :len(windows[i])]
    else:
        probabilities = run_encoded(model, windows, max_rows=batch_size)
    names = [labels[str(i)] for i in range(len(labels))]
    seen: list[list[tuple[Any, np.ndarray]]] = [[] for _ in texts]  # each text's windows and their probabilities
    for window, owner, rows in zip(windows, owners, probabilities):
        seen[owner].append((window, _softmax(rows.astype(np.float32))))
    outputs = []
    for text, parts in zip(texts, seen):
        if len(parts) == 1:  # most texts: one window, every token's best label at once
            window, rows = parts[0]
            tokens = [(names[best], score, tuple(offsets)) for offsets, special, best, score in
                      zip(window.offsets, window.special_tokens_mask, rows.argmax(-1).tolist(), rows.max(-1).tolist())
                      if not special and offsets[1] > offsets[0]]
        else:
            found: dict[tuple[int, int], list[np.ndarray]] = {}  # token offsets -> its probabilities in each window
            for window, rows in parts:
                for offsets, special, row in zip(window.offsets, window.special_tokens_mask, rows):
                    if not special and offsets[1] > offsets[0]:
                        found.setdefault(tuple(offsets), []).append(row)
            tokens = []
            for offsets in sorted(found):
                row = np.mean(found[offsets], axis=0)  # a token seen by two windows: both opinions count
                best = int(row.argmax())
                tokens.append((names[best], float(row[best]), offsets))
        outputs.append(group_entities(text, tokens))
    if done is not None:
        done(len(texts))
    return outputs
