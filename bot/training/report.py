"""What a finished run leaves next to its model: metadata.json, history.json and training.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def fmt(value: float) -> str:
    """A metric or loss as people read it: four decimals."""
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def plot_history(history: list[dict[str, Any]], primary: str, path: Path) -> None:
    """Loss (left axis) and the primary eval metric (right axis) per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    loss_axis = figure.add_subplot(1, 1, 1)
    epochs = [row["epoch"] for row in history]
    for key, label, style in (("train_loss", "train loss", "o-"), ("loss", "eval loss", "s--")):
        points = [(row["epoch"], row[key]) for row in history if key in row]
        if points:
            loss_axis.plot(*zip(*points), style, label=label)
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("loss")
    metric_axis = loss_axis.twinx()
    points = [(row["epoch"], row[primary]) for row in history if primary in row]
    if points:
        metric_axis.plot(*zip(*points), "^-", color="tab:green", label=f"eval {primary}")
    metric_axis.set_ylabel(f"eval {primary}")
    handles = loss_axis.get_legend_handles_labels()
    more = metric_axis.get_legend_handles_labels()
    loss_axis.legend(handles[0] + more[0], handles[1] + more[1], loc="best")
    if epochs:
        loss_axis.set_xlim(0, max(epochs) * 1.05 or 1)
    loss_axis.set_title(f"training: loss and eval {primary} per epoch")
    figure.tight_layout()
    figure.savefig(path)
