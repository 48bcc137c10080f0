"""Training in its own process, for admins in Slack and for scheduled retraining: the bot keeps answering meanwhile."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from bot.models import versions
from bot.errors import NlpbotError
from bot.training.progress import Progress, child_env, run_reporting
from bot.training.resources import Usage

if TYPE_CHECKING:
    from bot.config import Config


@dataclass
class TrainingOutcome:
    plugin: str
    version: versions.VersionInfo
    before: str | None  # what served before the run
    serving: str | None  # what serves after it

    @property
    def promoted(self) -> bool:
        return self.serving == self.version.version and self.serving != self.before

    def summary(self) -> str:
        shown = versions.metric_summary(self.version.metadata, limit=1)
        resources = self.version.metadata.get("resources")
        if resources:  # versions trained before issue 24 did not record them
            shown += f"; {Usage.from_dict(resources).summary()}"
        if self.promoted:
            return f"{self.plugin} {self.version.version} ({shown}) now serves (was {self.before or 'nothing'})"
        return f"{self.plugin} {self.version.version} ({shown}) kept, not promoted; {self.serving or 'nothing'} serves"


def train_in_subprocess(
    config: Config,
    plugin: str,
    *,
    data: str | Path | None = None,
    eval_data: str | Path | None = None,
    flags: Sequence[str] = (),
    on_progress: Progress | None = None,
    timeout_s: float | None = None,
) -> TrainingOutcome:
    """`nlpbot train PLUGIN` as a child process, its progress lines relayed; data defaults to [training.PLUGIN].

    A failed, killed or timed-out run raises NlpbotError with the end of its output; nothing that serves changes.
    """
    command = [sys.executable, "-m", "bot", "train", plugin, "--quiet", "--progress-lines", *flags]
    if data:
        command += ["--data", str(data)]
    if eval_data:
        command += ["--eval-data", str(eval_data)]
    if config.path:
        command += ["--config", str(config.path)]
    before = versions.serving_version(config.models_dir, plugin)
    # A timed-out run is stopped with SIGTERM: the trainer stops cleanly and leaves nothing half-written.
    child = run_reporting(command, progress=on_progress, env=child_env(), cwd=str(config.root), timeout_s=timeout_s,
                          keep=30)
    if child.code != 0:
        raise NlpbotError(f"training {plugin} failed (exit {child.code}); nothing that serves changed:\n"
                          + "\n".join(child.tail[-12:]))
    listed = versions.list_versions(config.models_dir, plugin)
    if not listed:
        raise NlpbotError(f"training {plugin} finished but wrote no version under {config.models_dir / plugin}")
    return TrainingOutcome(plugin, listed[-1], before, versions.serving_version(config.models_dir, plugin))


def retrain(config: Config, plugin: str, *, data: str | None = None) -> str:
    """The scheduler's retrain action: one line saying what was trained and whether it now serves."""
    return train_in_subprocess(config, plugin, data=config.resolve_path(data) if data else None).summary()
