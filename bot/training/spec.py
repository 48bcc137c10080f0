"""What one fit is given (`RunSpec`) and gives back (`FitOutcome`), and the Trainer arguments that follow."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunSpec:
    """The parameters of one run; JSON-serialisable so torchrun workers get exactly the same."""

    plugin: str
    kind: str
    base_path: str
    out_dir: str
    labels: list[str] | None
    epochs: float
    lr: float
    batch_size: int
    max_length: int
    seed: int
    patience: int
    max_steps: int | None = None
    device: str = "cpu"
    dtype: str = "float32"
    show_bar: bool = True
    metric: str | None = None  # the plugin's declared metric; None: the kind's own

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RunSpec:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class FitOutcome:
    """The best model's metrics on the eval data and one history row per evaluation."""

    metrics: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    step_seconds: float = 0.0  # the training steps' own time (the Trainer's on_step_begin to on_step_end)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return max(1, math.ceil(examples / (batch_size * world_size())))


def trainer_arguments(spec: RunSpec, primary: str, train_size: int) -> tuple[dict[str, Any], int, int]:
    """TrainingArguments for a run: evaluate and checkpoint once per epoch, keep the best by `primary`."""
    per_epoch = steps_per_epoch(train_size, spec.batch_size)
    total = spec.max_steps or math.ceil(per_epoch * spec.epochs)
    every = min(per_epoch, total)
    on_gpu = spec.device.startswith("cuda")
    arguments: dict[str, Any] = dict(
        output_dir=str(Path(spec.out_dir) / "checkpoints"),
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps or -1,
        per_device_train_batch_size=spec.batch_size,
        per_device_eval_batch_size=spec.batch_size * 2,
        learning_rate=spec.lr,
        weight_decay=0.01,
        warmup_steps=int(total * 0.06),
        seed=spec.seed,
        data_seed=spec.seed,
        eval_strategy="steps",
        eval_steps=every,
        save_strategy="steps",
        save_steps=every,
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model=primary,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, min(every, total // 10 or 1)),
        report_to="none",
        disable_tqdm=not spec.show_bar,
        use_cpu=spec.device == "cpu",
        bf16=on_gpu and spec.dtype == "bfloat16",
        fp16=on_gpu and spec.dtype == "float16",
        dataloader_num_workers=0,
    )
    if world_size() > 1 and not on_gpu:
        arguments["ddp_backend"] = "gloo"
    return arguments, total, per_epoch
