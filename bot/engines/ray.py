"""Batch work on Ray: Ray Data carries the inputs, actors hold the model, `map_batches` runs it, order is kept.

`nlpbot predict PLUGIN --engine ray` and `nlpbot index add --engine ray` use the same code as the local
engine for everything but the model calls: reading and checking the input, writing JSON lines or the
index (once, by the driver, atomically) stay in this process; only the plugin's batched prediction or
the chunk embedding is spread over the cluster. Actors: one per GPU, or one per 4 CPUs of a CPU cluster.

Example::

    bot = on_ray(Nlpbot(config), "sentiment", address=None)   # None: a local Ray on this machine
    predict_stream(bot, "sentiment", lines, sys.stdout, chunk=RAY_CHUNK)
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import numpy as np

from bot.config import Config
from bot.errors import ConfigError, NlpbotError
from bot.engines.stream import has_batch_use

log = logging.getLogger(__name__)

# Inputs per Ray dataset: each one starts the actor pool afresh (a model load per actor), so it is large;
# the driver holds one chunk of texts and results in memory at a time.
RAY_CHUNK = 100_000
CPUS_PER_ACTOR = 4


def connect(address: str | None) -> Any:
    """Join the cluster at ADDRESS (host:port, or "auto"), or start a local Ray when there is none."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'nlpbot[ray]'") from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # output line N answers input line N
    context.enable_progress_bars = sys.stderr.isatty()
    return ray


def _pool(ray: Any) -> dict[str, Any]:
    """map_batches' actor options: one actor per GPU, else one per CPUS_PER_ACTOR CPUs (at least one)."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return {"concurrency": gpus, "num_gpus": 1}
    cpus = int(resources.get("CPU", 1))
    actors = max(1, cpus // CPUS_PER_ACTOR)
    # One CPU reserved per actor leaves room for Ray Data's own tasks; torch in it uses its share of cores.
    return {"concurrency": actors, "num_cpus": 1, "fn_constructor_kwargs": {"threads": max(1, cpus // actors)}}


def _run(ray: Any, texts: list[str], actor: type, *, batch_size: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Every text through ACTOR on the cluster; rows come back in input order."""
    pool = _pool(ray)
    pool["fn_constructor_kwargs"] = {**pool.get("fn_constructor_kwargs", {"threads": 0}), **kwargs}
    dataset = ray.data.from_items([{"text": text} for text in texts])
    try:
        return dataset.map_batches(actor, batch_size=batch_size, batch_format="numpy", **pool).take_all()
    except ray.exceptions.RayError as exc:  # an actor's error (a missing model on a node) as one message
        raise NlpbotError(f"the Ray job failed: {exc}") from None


class _Predictor:
    """A Ray actor: the bot's plugin with its model loaded once; a batch of texts in, JSON results out."""

    def __init__(self, *, config: Config, plugin: str, options: dict[str, Any], threads: int) -> None:
        from bot.core import Nlpbot

        _threads(threads)
        self.plugin, self.options = Nlpbot(config).plugins[plugin], options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self.plugin.predict([str(text) for text in batch["text"]], **self.options)
        return {"result": np.array([json.dumps(result, ensure_ascii=False) for result in results], dtype=object)}


class _Embedder:
    """A Ray actor: the search embedding model, loaded once; a batch of chunk texts in, vectors out."""

    def __init__(self, *, config: Config, threads: int) -> None:
        from bot.models import ModelHub

        _threads(threads)
        settings = config.search
        self.embed = ModelHub(config).sentence_model(settings.embedding_model, batch_size=settings.batch_size,
                                                     what="[search] embedding_model")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"vector": np.asarray(self.embed([str(text) for text in batch["text"]]), dtype=np.float32)}


def _threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


class RayPlugin:
    """Stands in for a plugin in `bot.engines.stream.predict_stream`: its `predict`, same options, runs on the cluster."""

    def __init__(self, plugin: Any, name: str, config: Config, ray: Any) -> None:
        self._plugin, self._name, self._config, self._ray = plugin, name, config, ray

    def __getattr__(self, attribute: str) -> Any:  # settings, max_text_chars: the real plugin's
        return getattr(self._plugin, attribute)

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        rows = _run(self._ray, texts, _Predictor, batch_size=self._plugin.settings.batch_size, config=self._config,
                    plugin=self._name, options=options)
        return [json.loads(row["result"]) for row in rows]


class RayBot:
    """What predict_stream needs of a bot: `plugins`, with the chosen one running on Ray."""

    def __init__(self, plugins: dict[str, Any]) -> None:
        self.plugins = plugins


def on_ray(bot: Any, plugin: str, *, address: str | None) -> RayBot:
    """The bot's plugins, PLUGIN's prediction on the Ray cluster at ADDRESS (None: a local Ray)."""
    ray = connect(address)
    plugins = dict(bot.plugins)
    if plugin in plugins and has_batch_use(plugins[plugin]):  # else predict_stream refuses it
        plugins[plugin] = RayPlugin(plugins[plugin], plugin, bot.config, ray)
    return RayBot(plugins)


class RayEmbedder:
    """The index's embedder with `embed_all` on the cluster; its name and tokenizer (for chunking) are the local one's."""

    def __init__(self, local: Any, config: Config, *, address: str | None) -> None:
        self._local, self._config, self._ray = local, config, connect(address)

    def __getattr__(self, attribute: str) -> Any:  # info, tokenizer: the local handle's
        return getattr(self._local, attribute)

    def __call__(self, texts: list[str]) -> Any:
        return self._local(texts)

    def embed_all(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        rows = _run(self._ray, texts, _Embedder, batch_size=batch_size, config=self._config)
        return np.stack([row["vector"] for row in rows]) if rows else np.zeros((0, 0), dtype=np.float32)


__all__ = ["RAY_CHUNK", "RayBot", "RayEmbedder", "RayPlugin", "connect", "on_ray"]
