"""Promotion: a new version serves only if it scores at least as well as the serving one on the same eval data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.models import versions
from bot.errors import NlpbotError
from bot.training.kinds import Kind
from bot.training.report import fmt
from bot.training.spec import RunSpec


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    serving: str | None = None  # the version serving before this run
    serving_metrics: dict[str, float] | None = None


def decide(spec: RunSpec, kind: Kind, *, models_dir: Path, eval: Sequence[dict], metrics: dict[str, Any],
           force: bool) -> Decision:
    """Whether the new model should serve, and why, in words a user can act on."""
    primary = kind.primary_metric
    new = float(metrics[primary])
    current = versions.serving_version(models_dir, spec.plugin)
    if current is None and not kind.base_serves:
        return Decision(True, f"nothing was serving {spec.plugin} yet ({primary} {fmt(new)})")
    serving_path = Path(models_dir) / spec.plugin / current if current else Path(spec.base_path)
    version, current = current, current or "base model"  # search: the untrained model serves until one beats it
    try:
        old_metrics = kind.evaluate(spec, serving_path, eval)
    except (NlpbotError, OSError, ValueError) as exc:
        if force:
            return Decision(True, f"forced; the serving {current} could not be evaluated on this data ({exc})", version)
        return Decision(
            False,
            f"the serving {current} could not be evaluated on this data ({exc}), so the two cannot be compared; "
            f"{current} keeps serving (`nlpbot models promote {spec.plugin} VERSION` or --force to switch)",
            version,
        )
    old = float(old_metrics[primary])
    comparison = f"{primary} {fmt(new)} vs {fmt(old)} for the serving {current} on the same eval data"
    if new >= old:
        return Decision(True, f"{comparison}: at least as good", version, old_metrics)
    if force:
        return Decision(True, f"forced, although worse: {comparison}", version, old_metrics)
    return Decision(
        False,
        f"{comparison}: worse, so {current} keeps serving (use --force, or `nlpbot models promote`, to switch anyway)",
        version,
        old_metrics,
    )
