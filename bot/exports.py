"""A plugin's model made ready for the runtime it serves on (`nlpbot models export`), and promotion with that export."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.errors import ModelUnavailable
from bot.models import versions
from bot.models.export import prepare, read_meta
from bot.models.specs import ResolvedModel, resolve_model
from bot.plugin_manager import configured, discover

HEADS = {"sequence-classification": "text-classification", "multi-label-classification": "text-classification",
         "token-classification": "token-classification", "sentence-embeddings": "embedding"}


def export_plugin(config: Config, plugin: str, version: str | None = None, *, quantize: str | None = None,
                  only_if_onnx: bool = False, force: bool = False) -> dict[str, Any] | None:
    """Export PLUGIN's model (VERSION of its trained model, else the model it is configured with) for ONNX serving.

    `only_if_onnx` (promotion): do nothing unless its runtime ([plugins.PLUGIN] or [classifiers.PLUGIN]) is "onnx".
    Returns what was made.
    """
    found = configured(config, plugin)
    if found is None:
        raise ModelUnavailable(f"no plugin {plugin!r} (plugins: {', '.join(sorted({*discover(), *config.classifiers}))})")
    cls, settings = found
    head = HEADS.get(cls.training_kind or "")
    if head is None and only_if_onnx:  # e.g. summarize: its embeddings run on ONNX, its trained seq2seq model cannot
        return None
    if head is None:
        raise ModelUnavailable(f"the {plugin} plugin's models ({cls.training_kind or 'none'}) do not run on ONNX Runtime")
    if only_if_onnx and settings.runtime != "onnx":
        return None
    if version is not None:
        resolved = ResolvedModel(f"trained:{plugin}", config.models_dir / plugin / version, "trained", version)
        if not resolved.path.is_dir():
            raise ModelUnavailable(f"{plugin} has no version {version!r} in {config.models_dir / plugin}")
    else:
        spec = cls.served_model(config, settings)
        resolved = resolve_model(spec or "", config=config, what=f"plugins.{plugin}.model")
    variant = "int8" if (quantize or settings.quantize) == "int8" else "float32"
    training = config.training.plugin(plugin)  # int8 is checked on labelled texts: the eval data, else the training data
    folder, served = prepare(resolved, config.models_dir, head=head, variant=variant, force=force,
                             eval_data=training.eval_data or training.data,
                             tolerance=config.models.quantize_tolerance)
    return {"plugin": plugin, "model": resolved.spec, "version": resolved.version, "folder": str(folder),
            "serves": served, "int8": read_meta(folder).get("int8")}


def promote(config: Config, plugin: str, version: str) -> str | None:
    """Make VERSION serve PLUGIN (its ONNX export made first, where the plugin serves on ONNX); returns the one before."""
    export_plugin(config, plugin, version, only_if_onnx=True)  # a bot serving on ONNX finds it ready
    return versions.promote(config.models_dir, plugin, version)
