"""Promotion: a new version serves only if it scores at least as well as the serving one on the same eval data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import NlpbotError
from bot.models import versions
from bot.training.fit import Job, evaluate_model
from bot.training.report import fmt


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    serving: str | None = None  # the version serving before this run
    serving_metrics: dict[str, float] | None = None


def evaluate_version(job: Job, path: Path, eval: Sequence[dict]) -> dict[str, float]:
    """Metrics of the model at `path` on `eval`, computed the same way as for a new run."""
    kind = job.get_kind()
    if not kind.uses_hf_trainer:
        return kind.evaluate_path(job, path, eval)  # type: ignore[attr-defined]
    prepared = kind.prepare_eval(path=path, eval=eval, max_length=job.max_length)
    return evaluate_model(job, kind, prepared)


def decide(job: Job, *, models_dir: Path, eval: Sequence[dict], metrics: dict[str, Any], force: bool) -> Decision:
    """Whether the new model should serve, and why, in words a user can act on."""
    primary = job.get_kind().primary_metric
    new = float(metrics[primary])
    current = versions.serving_version(models_dir, job.plugin)
    if current is None:
        return Decision(True, f"nothing was serving {job.plugin} yet ({primary} {fmt(new)})")
    try:
        old_metrics = evaluate_version(job, Path(models_dir) / job.plugin / current, eval)
    except (NlpbotError, OSError, ValueError) as exc:
        if force:
            return Decision(True, f"forced; the serving {current} could not be evaluated on this data ({exc})", current)
        return Decision(
            False,
            f"the serving {current} could not be evaluated on this data ({exc}), so the two cannot be compared; "
            f"{current} keeps serving (`nlpbot models promote {job.plugin} VERSION` or --force to switch)",
            current,
        )
    old = float(old_metrics[primary])
    comparison = f"{primary} {fmt(new)} vs {fmt(old)} for the serving {current} on the same eval data"
    if new >= old:
        return Decision(True, f"{comparison}: at least as good", current, old_metrics)
    if force:
        return Decision(True, f"forced, although worse: {comparison}", current, old_metrics)
    return Decision(
        False,
        f"{comparison}: worse, so {current} keeps serving (use --force, or `nlpbot models promote`, to switch anyway)",
        current,
        old_metrics,
    )
