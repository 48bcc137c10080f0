"""How a Trainer run reports: progress lines for people, one history row per evaluation, the best metrics."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback

from bot.training.progress import Progress
from bot.training.report import fmt
from bot.training.spec import RunSpec

# Trainer bookkeeping that is not a measure of the model.
NOT_METRICS = {"runtime", "samples_per_second", "steps_per_second", "epoch", "model_preparation_time"}


def clean_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The Trainer's eval dict as metrics: no "eval_" prefix, no timings, rounded to six decimals."""
    clean = {}
    for key, value in metrics.items():
        name = key.removeprefix("eval_")
        if name not in NOT_METRICS:
            clean[name] = round(float(value), 6)
    return clean


def best_metrics(history: list[dict[str, Any]], primary: str) -> dict[str, float]:
    """The metrics of the evaluation whose model was kept (the first best one, as the Trainer keeps it)."""
    scored = [row for row in history if primary in row]
    if not scored:
        return {}
    best = max(scored, key=lambda row: row[primary])  # max() returns the first of equal maxima
    return {k: v for k, v in best.items() if k not in {"epoch", "step", "train_loss"}}


def quiet(trainer: Any, spec: RunSpec) -> None:
    """Without a progress bar, also drop the Trainer's raw log dicts: progress lines say it better."""
    if not spec.show_bar:
        from transformers import PrinterCallback
        from transformers.utils import logging as hf_logging

        trainer.remove_callback(PrinterCallback)
        hf_logging.disable_progress_bar()


class HistoryRecorder(TrainerCallback):
    """Records loss and eval metrics per evaluation and tells `progress` about them in plain words.

    Evaluations happen once per epoch (or at the last step of a shorter run), so each history row is
    one epoch: {"epoch", "step", "train_loss", "eval_loss", PRIMARY, ...}.
    """

    def __init__(self, primary: str, *, total_steps: int, steps_per_epoch: int, progress: Progress | None) -> None:
        self.primary = primary
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.progress = progress
        self.history: list[dict[str, Any]] = []
        self._losses: list[float] = []
        self._best: float | None = None
        self._last_eval_step = -1
        self.step_seconds = 0.0  # the training steps alone (forward, backward, optimizer), without evaluations
        self._step_began = 0.0

    def _say(self, state: Any, line: str) -> None:
        if self.progress is not None and state.is_world_process_zero:
            self.progress(line)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        epochs = self.total_steps / self.steps_per_epoch
        self._say(state, f"training for {self.total_steps} steps ({epochs:.3g} epochs of {self.steps_per_epoch} steps)")

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_began = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.step_seconds += time.perf_counter() - self._step_began
        # A run that ends between epochs (max_steps) is still evaluated once at its last step.
        if state.global_step >= state.max_steps and state.global_step % args.eval_steps != 0:
            control.should_evaluate = True
            control.should_save = True

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self._losses.append(float(logs["loss"]))
            percent = 100 * state.global_step / max(state.max_steps, 1)
            self._say(state, f"step {state.global_step}/{state.max_steps} ({percent:.0f}%): loss {fmt(logs['loss'])}")

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None,
                    **kwargs: Any) -> None:
        if not metrics or state.global_step == self._last_eval_step:
            return
        self._last_eval_step = state.global_step
        row: dict[str, Any] = {"epoch": round(state.global_step / self.steps_per_epoch, 3), "step": state.global_step}
        if self._losses:
            row["train_loss"] = round(sum(self._losses) / len(self._losses), 6)
        self._losses = []
        row.update(clean_metrics(metrics))
        self.history.append(row)
        score = row.get(self.primary)
        best = score is not None and (self._best is None or score > self._best)
        if best:
            self._best = score
        parts = [f"epoch {row['epoch']:g}"]
        if "train_loss" in row:
            parts.append(f"train loss {fmt(row['train_loss'])}")
        if "loss" in row:
            parts.append(f"eval loss {fmt(row['loss'])}")
        if score is not None:
            parts.append(f"{self.primary} {fmt(score)}" + (" (best so far)" if best else ""))
        self._say(state, ", ".join(parts))
