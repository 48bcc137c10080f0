"""The test step (`nlpbot eval`): score a labelled file with a trained version and its kind's metrics, no training.

Example::

    result = evaluate(config, "sentiment", "data/vader/eval.jsonl", kind="sequence-classification")  # serving version
    result.version, result.metrics["macro_f1"], result.examples
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.models import versions
from bot.errors import ModelUnavailable
from bot.training.kinds import get_kind
from bot.training.spec import RunSpec

if TYPE_CHECKING:
    from bot.config import Config


@dataclass(frozen=True)
class Evaluation:
    plugin: str
    version: str
    serving: bool
    primary_metric: str
    metrics: dict[str, Any]  # numbers; a classifier's also per_label: {LABEL: {precision, recall, f1, support}}
    examples: int

    def as_json(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "version": self.version, "metrics": self.metrics, "examples": self.examples}


def version_path(config: Config, plugin: str, version: str | None) -> Path:
    """The folder of VERSION (default: the serving one); ModelUnavailable when there is none."""
    if version is None:
        version = versions.serving_version(config.models_dir, plugin)
        if version is None:
            raise ModelUnavailable(f"no {plugin} version is serving in {config.models_dir / plugin}; "
                                   f"train one (`nlpbot train {plugin}`) or name one with --version")
    known = [info.version for info in versions.list_versions(config.models_dir, plugin)]
    if version not in known:
        raise ModelUnavailable(f"{plugin} has no version {version!r} in {config.models_dir / plugin} "
                               f"(versions: {', '.join(known) or 'none yet'})")
    return config.models_dir / plugin / version


def evaluate(config: Config, plugin: str, data: str | Path, *, kind: str, labels: Sequence[str] | None = None,
             metric: str | None = None, out_of_scope_label: str | None = None,
             version: str | None = None) -> Evaluation:
    """Score PLUGIN's VERSION on DATA with what the plugin declares (`bot.plugin_manager.trainable`: its training
    `kind`, `labels`, ranking `metric` and `out_of_scope_label`): a classifier's answers as it serves them, with the
    threshold calibrated for that version. UserInputError for a bad file, ModelUnavailable for the model."""
    from bot.models import pick_device, pick_dtype

    scorer = get_kind(kind, metric=metric, out_of_scope_label=out_of_scope_label)
    records = scorer.read(data, labels=labels)
    path = version_path(config, plugin, version)
    defaults = config.training.run_defaults(plugin, kind)
    trained_with = versions.read_metadata(path).get("parameters") or {}
    device = pick_device(config.models.device)
    with tempfile.TemporaryDirectory(prefix="nlpbot-eval-") as scratch:
        spec = RunSpec(
            plugin=plugin, kind=kind, base_path=str(path), out_dir=scratch, labels=list(labels) if labels else None,
            epochs=defaults.epochs, lr=defaults.lr, batch_size=defaults.batch_size,
            max_length=int(trained_with.get("max_length") or defaults.max_length),  # as the model saw its data
            seed=defaults.seed, patience=defaults.patience, device=device,
            dtype=str(pick_dtype(device, config.models.dtype)).replace("torch.", ""), show_bar=False,
            metric=metric,
        )
        try:
            metrics = scorer.evaluate(spec, path, records)
        except (OSError, ValueError) as exc:  # files missing, unreadable or not a model in the version's folder
            raise ModelUnavailable(f"{plugin} {path.name}: cannot load the model at {path} ({exc})") from None
    return Evaluation(plugin, path.name, path.name == versions.serving_version(config.models_dir, plugin),
                      scorer.primary_metric, metrics, len(records))
