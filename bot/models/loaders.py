"""One entry per model kind: how to load it, how to call it on a batch, and where its tokenizer is.

Every call function takes ``(model, inputs, batch_size, kwargs)`` and returns one result per input, in order.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, NamedTuple

from bot.errors import ModelUnavailable
from bot.models.onnx import OnnxModel, classify, embed, tag, usable_cores
from bot.models.seq2seq import Seq2SeqGenerator
from bot.models.specs import PACKAGE, ResolvedModel
from bot.models.tokens import token_limit


class Loader(NamedTuple):
    load: Callable[[ResolvedModel, str, Any, str, dict], Any]  # (resolved, device, dtype, task, options) -> model
    call: Callable[[Any, list, int, dict], list]
    tokenizer: Callable[[Any], Any] = lambda model: None
    max_input_tokens: Callable[[Any], int | None] = lambda model: None
    combine: Callable[[list], Any] = lambda results: results  # the results of one call, as the caller gets them
    streams: bool = False  # `call` takes a 5th argument, done(n), and runs many inputs at once (bot.models.bulk)


def _load_pipeline(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    from transformers import pipeline

    return pipeline(task, model=str(resolved.path), device=device, dtype=dtype, **options)


def _call_pipeline(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    return list(model(inputs, batch_size=batch_size, **kwargs))


def _load_sentence_model(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolved.path), device=device, local_files_only=True, **options)
    if dtype is not None and str(dtype) != "torch.float32":
        model = model.to(dtype)
    return model


def _call_sentence_model(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    kwargs.setdefault("normalize_embeddings", True)
    kwargs.setdefault("convert_to_numpy", True)
    return list(model.encode(inputs, batch_size=batch_size, show_progress_bar=False, **kwargs))


def _embedding_matrix(results: list) -> Any:
    import numpy as np

    return np.asarray(results, dtype=np.float32).reshape(len(results), -1)


def _load_spacy(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    import spacy

    if resolved.source == "package":
        module = importlib.import_module(resolved.spec[len(PACKAGE):])
        if hasattr(module, "load"):
            return module.load(**options)
    return spacy.load(resolved.path, **options)


def _call_spacy(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    return list(model.pipe(inputs, batch_size=batch_size, **kwargs))


def _load_seq2seq(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Seq2SeqGenerator:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(resolved.path), **options)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(resolved.path), dtype=dtype).to(device).eval()
    return Seq2SeqGenerator(model, tokenizer)


def _call_seq2seq(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    outputs: list[str] = []
    for start in range(0, len(inputs), batch_size):
        outputs.extend(model.generate(inputs[start:start + batch_size], **kwargs))
    return outputs


# runtime = "onnx": kind -> what the export computes (bot.models.export)
ONNX_KINDS = {"onnx-classify": "text-classification", "onnx-tag": "token-classification", "onnx-embed": "embedding"}
_ONNX_FOR = {("pipeline", "text-classification"): "onnx-classify", ("pipeline", "token-classification"): "onnx-tag",
             ("sentence-transformer", ""): "onnx-embed"}


def onnx_kind(kind: str, task: str, what: str) -> str:
    try:
        return _ONNX_FOR[(kind, task)]
    except KeyError:
        raise ModelUnavailable(f'{what}: runtime "onnx" serves text classification, token classification and sentence '
                               f'embeddings; this is a {task or kind} model: set runtime = "torch"') from None


def onnx_variant(device: str, dtype: str, quantize: str) -> str:
    """int8 on the CPU when asked for; fp16 on a GPU unless float32 is configured; else fp32."""
    if device.startswith("cuda"):
        return "float32" if dtype == "float32" else "float16"
    return "int8" if quantize == "int8" else "float32"


def _load_onnx(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict, threads: int = 0) -> Any:
    strategy = options.get("aggregation_strategy", "simple")
    if strategy != "simple":
        raise ModelUnavailable(f'runtime "onnx" groups entities the "simple" way; aggregation_strategy {strategy!r} '
                               'needs runtime = "torch"')
    return OnnxModel(resolved.path, variant=dtype, device=device, threads=threads)


def _onnx_loader(call: Callable, threads: int = 0, **kw: Any) -> Loader:
    """`threads` per call (default: half the cores, two calls at once; see `session_options`)."""
    return Loader(lambda *args: _load_onnx(*args, threads=threads), call, tokenizer=lambda model: model.tokenizer,
                  max_input_tokens=lambda model: model.max_length, streams=True, **kw)


LOADERS: dict[str, Loader] = {
    "onnx-classify": _onnx_loader(classify),
    "onnx-tag": _onnx_loader(tag),
    # A search waits on one query's embedding: every core on that one call (a lone query ran 4.2 instead of 4.8 ms
    # p50 on 2 cores with its weights out of the caches); large batches (indexing) use them all as well.
    "onnx-embed": _onnx_loader(embed, threads=usable_cores(), combine=_embedding_matrix),
    "pipeline": Loader(_load_pipeline, _call_pipeline, tokenizer=lambda pipe: pipe.tokenizer,
                       max_input_tokens=lambda pipe: token_limit(pipe.model.config, pipe.tokenizer)),
    "sentence-transformer": Loader(_load_sentence_model, _call_sentence_model, tokenizer=lambda model: model.tokenizer,
                                   max_input_tokens=lambda model: model.max_seq_length, combine=_embedding_matrix),
    "spacy": Loader(_load_spacy, _call_spacy),  # spaCy's own tokenizer is not a subword tokenizer: none to offer
    "seq2seq": Loader(_load_seq2seq, _call_seq2seq, tokenizer=lambda generator: generator.tokenizer,
                      max_input_tokens=lambda generator: generator.max_input_tokens),
}
