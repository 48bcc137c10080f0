"""The model hub: the one place models are resolved, loaded, placed on a device, cached and swapped.

Each model is loaded once per (kind, model, task, device, dtype, options) and shared; every caller gets a
handle with its own batch size and wait over it. Example::

    hub = ModelHub(config)
    classify = hub.pipeline("text-classification", "trained:sentiment", batch_size=32)
    classify(["I love this", "meh"])      # -> one result per input, in order
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.errors import ModelUnavailable
from bot.models.device import pick_device, pick_dtype
from bot.models.handle import LoadedModel, ModelHandle
from bot.models.loaders import LOADERS, ONNX_KINDS, onnx_kind, onnx_variant
from bot.models.onnx import onnx_device
from bot.models.specs import PACKAGE, TRAINED, ResolvedModel, require_package, resolve_model
from bot.models.versions import read_metadata, serving_version

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)


# One load at a time in a process: transformers' lazily imported modules are not thread-safe, and two plugins
# loading their first models at once failed with "cannot import name 'pipeline'" (seen in bench/soak.py).
# Loads are rare and CPU-bound, so serializing them costs little.
_LOADING = threading.Lock()


class ModelHub:
    """Loads each model once, lazily, and hands out handles over it; `reload` swaps it under all of them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._models: dict[tuple, LoadedModel] = {}
        self._handles: dict[tuple, ModelHandle] = {}  # (model key, batch_size, max_wait_ms) -> handle
        self._loading: dict[tuple, threading.Lock] = {}
        self._asked: dict[tuple, ModelHandle] = {}  # get()'s arguments -> the handle they got
        self._failed: dict[str, tuple[str, str]] = {}  # spec -> (the folder that failed to load, why); a load that
        # works clears it, and so does the spec pointing elsewhere (a new version promoted)
        self._lock = threading.Lock()

    def check(self, spec: str, *, what: str = "model") -> None:
        """ModelUnavailable unless SPEC can serve: its files are there (found, not loaded: cheap, no torch) and its
        last load, if any, did not fail. What a plugin's `check_ready` asks at start-up and after a failure."""
        if spec.strip().startswith(PACKAGE):  # installed is enough: importing a spaCy model package imports torch
            require_package(spec.strip()[len(PACKAGE):], what)
            path = None
        else:
            path = str(resolve_model(spec, config=self.config, what=what).path)
        failed = self._failed.get(spec.strip())
        if failed is not None and path in (None, failed[0]):
            raise ModelUnavailable(failed[1])

    # Each of these returns a handle over a loaded, shared model; the first call pays for loading.
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
        runtime: str = "torch",
        quantize: str = "none",
    ) -> ModelHandle:
        # Plugins ask on every request: the same question gets the same handle without resolving the spec again
        # (paths, device probes: 1-2% of a lone user's request). A promotion swaps the model under the handle.
        asked = (kind, spec, task, device, dtype, batch_size, max_wait_ms, what, repr(options), runtime, quantize)
        handle = self._asked.get(asked)
        if handle is not None:
            return handle
        handle = self._get(kind, spec, task=task, device=device, dtype=dtype, batch_size=batch_size,
                           max_wait_ms=max_wait_ms, what=what, options=options, runtime=runtime, quantize=quantize)
        self._asked[asked] = handle
        return handle

    def _get(self, kind: str, spec: str, *, task: str, device: str | None, dtype: str | None, batch_size: int,
             max_wait_ms: float, what: str, options: dict[str, Any] | None, runtime: str, quantize: str) -> ModelHandle:
        resolved = resolve_model(spec, config=self.config, what=what)
        if runtime == "onnx":  # the ONNX Runtime path never imports torch (bot.models.onnx)
            kind = onnx_kind(kind, task, what)
            device_name = onnx_device(device or self.config.models.device)
            torch_dtype: Any = onnx_variant(device_name, dtype or self.config.models.dtype, quantize)
        else:
            device_name = pick_device(device or self.config.models.device)
            torch_dtype = pick_dtype(device_name, dtype or self.config.models.dtype)
        options = options or {}
        key = (kind, resolved.identity, task, device_name, str(torch_dtype), tuple(sorted(options.items())))
        shared = self._shared(key, resolved, torch_dtype, what)
        shared.users.add(what)
        with self._lock:
            handle = self._handles.get((key, batch_size, max_wait_ms))
            if handle is None:
                handle = ModelHandle(shared, batch_size=batch_size, max_wait_ms=max_wait_ms)
                self._handles[(key, batch_size, max_wait_ms)] = handle
            return handle

    def _shared(self, key: tuple, resolved: ResolvedModel, torch_dtype: Any, what: str) -> LoadedModel:
        shared = self._models.get(key)
        if shared is not None:
            return shared
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one load per key even when many requests arrive at once
            shared = self._models.get(key)
            if shared is None:
                kind, _, task, device, _, options = key
                loaded = self._load(kind, resolved, device, torch_dtype, task, dict(options), what)
                shared = LoadedModel(key, kind, loaded)
                with self._lock:
                    self._models[key] = shared
            return shared

    def _load(self, kind, resolved, device, dtype, task, options, what) -> tuple[Any, dict[str, Any]]:
        started = time.perf_counter()
        source = resolved
        try:
            if kind in ONNX_KINDS:
                resolved, dtype = self._exported(kind, resolved, dtype, what)
            with _LOADING:
                value = LOADERS[kind].load(resolved, device, dtype, task, options)
        except ModelUnavailable as exc:
            self._failed[source.spec] = (str(source.path), str(exc))
            raise
        except Exception as exc:  # noqa: BLE001 - a broken model folder must become a clear message
            log.debug("loading %s from %s failed", resolved.spec, resolved.path, exc_info=True)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]  # a pipeline's error quotes traces
            fix = (f"roll back with `nlpbot models rollback {source.spec[len(TRAINED):]}` or train it again"
                   if source.source == "trained" else f"point {what} at a model folder that loads")
            message = f"{what}: could not load {resolved.spec!r} from {resolved.path} ({reason}); {fix}"
            self._failed[source.spec] = (str(source.path), message)
            raise ModelUnavailable(message) from exc
        self._failed.pop(source.spec, None)
        seconds = time.perf_counter() - started
        log.info("loaded %s %s (%s) on %s as %s in %.1fs", kind, resolved.spec, task or "-", device, dtype, seconds)
        info = {
            "spec": resolved.spec,
            "path": str(source.path),
            "loaded_from": str(resolved.path),  # the ONNX export that serves (runtime "onnx"), else the model's path
            "source": resolved.source,
            "version": resolved.version,
            "runtime": "onnx" if kind in ONNX_KINDS else "torch",
            "kind": kind,
            "task": task,
            "device": device,
            "dtype": str(dtype).replace("torch.", ""),
            "load_seconds": round(seconds, 3),
        }
        if task == "text-classification":  # what `calibrated=True` calls answer with (bot.models.decisions)
            info["calibration"] = _calibration(source, value)
        metrics.MODEL_LOAD_SECONDS.labels(kind=kind, model=resolved.spec).set(seconds)
        return value, info

    def _exported(self, kind: str, resolved: ResolvedModel, variant: str, what: str) -> tuple[ResolvedModel, str]:
        """The model's ONNX export (made now if missing or stale) and the variant that may serve."""
        from bot.models.export import prepare

        plugin = resolved.spec[len(TRAINED):] if resolved.source == "trained" else what.split(".")[1] if what.startswith("plugins.") else ""
        table = self.config.training.plugin(plugin) if plugin else None
        eval_data = (table.eval_data or table.data) if table else None  # int8 is checked on labelled texts
        folder, variant = prepare(resolved, self.config.models_dir, head=ONNX_KINDS[kind], variant=variant,
                                  eval_data=eval_data, tolerance=self.config.models.quantize_tolerance)
        return replace(resolved, path=folder), variant

    def reload(self, spec: str) -> list[LoadedModel]:
        """Re-resolve a spec (e.g. trained:sentiment after a promotion) and swap every loaded model that uses it.

        The new model is loaded fully before the swap, which reaches every handle over it at once;
        requests in flight finish on the old one.
        """
        swapped = []
        for shared in self.loaded():
            if shared.info["spec"] != spec:
                continue
            resolved = resolve_model(spec, config=self.config)
            kind, _, task, device, dtype, options = shared.key
            if kind not in ONNX_KINDS:
                import torch

                dtype = getattr(torch, shared.info["dtype"])
            shared.swap(*self._load(kind, resolved, device, dtype, task, dict(options), "model"))
            swapped.append(shared)
        return swapped

    def refresh_trained(self) -> list[str]:
        """Swap in every trained model whose serving version changed on disk (promotion, rollback elsewhere)."""
        changed = []
        for spec in sorted({m.info["spec"] for m in self.loaded() if m.info["source"] == "trained"}):
            plugin = spec[len(TRAINED):]
            serving = serving_version(self.config.models_dir, plugin)
            current = {m.info["version"] for m in self.loaded() if m.info["spec"] == spec}
            if serving is not None and current != {serving}:
                self.reload(spec)
                log.info("now serving %s %s (was %s)", plugin, serving, ", ".join(sorted(filter(None, current))))
                changed.append(spec)
        return changed

    def loaded(self) -> list[LoadedModel]:
        """Every model in memory, once each however many handles use it."""
        with self._lock:
            return list(self._models.values())


def _calibration(resolved: ResolvedModel, model: Any) -> dict[str, Any] | None:
    """A trained version's calibrated thresholds (metadata.json); for other models, whether they are multi-label."""
    if resolved.source == "trained":
        calibration = read_metadata(resolved.path).get("calibration")
        if calibration:
            return calibration
    config = getattr(getattr(model, "model", None), "config", None)  # a transformers pipeline's model
    problem = getattr(config, "problem_type", None) or getattr(model, "meta", {}).get("problem_type")  # or ONNX's
    return {"multi_label": True} if problem == "multi_label_classification" else None
