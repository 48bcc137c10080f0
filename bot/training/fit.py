"""One training run in this process (or in each torchrun worker): the transformers Trainer, evaluated as it goes."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.training.kinds import Kind, Prepared, get_kind

Progress = Callable[[str], None]


@dataclass
class Job:
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

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Job:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def get_kind(self) -> Kind:
        return get_kind(self.kind, plugin=self.plugin)


@dataclass
class FitOutcome:
    """The best model's metrics on the eval data and one history row per evaluation."""

    metrics: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return max(1, math.ceil(examples / (batch_size * world_size())))


def fit(job: Job, train: Sequence[dict], eval: Sequence[dict], progress: Progress | None = None) -> FitOutcome:
    """Train, keep the best evaluation's model and save it with its tokenizer into job.out_dir."""
    kind = job.get_kind()
    if not kind.uses_hf_trainer:
        return kind.fit(job, train, eval, progress)  # type: ignore[attr-defined]
    from transformers import set_seed

    set_seed(job.seed)
    prepared = kind.prepare(base=Path(job.base_path), labels=job.labels, train=train, eval=eval,
                            max_length=job.max_length)
    trainer, recorder = build_trainer(job, kind, prepared, progress)
    trainer.train()
    metrics = best_metrics(recorder.history, kind.primary_metric) or strip_prefix(trainer.evaluate())
    if trainer.is_world_process_zero():
        trainer.save_model(job.out_dir)
        prepared.tokenizer.save_pretrained(job.out_dir)
        (Path(job.out_dir) / "training_args.bin").unlink(missing_ok=True)
    shutil.rmtree(Path(job.out_dir) / "checkpoints", ignore_errors=True)
    return FitOutcome(metrics=metrics, history=recorder.history)


def evaluate_model(job: Job, kind: Kind, prepared: Prepared) -> dict[str, float]:
    """Metrics of an already-trained model on prepared.eval_dataset (used to judge the serving version)."""
    trainer, _ = build_trainer(job, kind, prepared, None, evaluate_only=True)
    return strip_prefix(trainer.evaluate())


def best_metrics(history: list[dict[str, Any]], primary: str) -> dict[str, float]:
    """The metrics of the evaluation whose model was kept (the first best one, as the Trainer keeps it)."""
    scored = [row for row in history if primary in row]
    if not scored:
        return {}
    best = max(scored, key=lambda row: row[primary])  # max() returns the first of equal maxima
    return {k: v for k, v in best.items() if k not in {"epoch", "step", "train_loss"}}


def strip_prefix(metrics: dict[str, float]) -> dict[str, float]:
    keep = {}
    for key, value in metrics.items():
        name = key.removeprefix("eval_")
        if name in {"runtime", "samples_per_second", "steps_per_second", "epoch", "model_preparation_time"}:
            continue
        keep[name] = round(float(value), 6)
    return keep


def trainer_arguments(job: Job, primary: str, train_size: int) -> tuple[dict[str, Any], int, int]:
    """TrainingArguments for a run: evaluate and checkpoint once per epoch, keep the best by `primary`."""
    per_epoch = steps_per_epoch(train_size, job.batch_size)
    total = job.max_steps or math.ceil(per_epoch * job.epochs)
    every = min(per_epoch, total)
    on_gpu = job.device.startswith("cuda")
    arguments: dict[str, Any] = dict(
        output_dir=str(Path(job.out_dir) / "checkpoints"),
        num_train_epochs=job.epochs,
        max_steps=job.max_steps or -1,
        per_device_train_batch_size=job.batch_size,
        per_device_eval_batch_size=job.batch_size * 2,
        learning_rate=job.lr,
        weight_decay=0.01,
        warmup_steps=int(total * 0.06),
        seed=job.seed,
        data_seed=job.seed,
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
        disable_tqdm=not job.show_bar,
        use_cpu=job.device == "cpu",
        bf16=on_gpu and job.dtype == "bfloat16",
        fp16=on_gpu and job.dtype == "float16",
        dataloader_num_workers=0,
    )
    if world_size() > 1 and not on_gpu:
        arguments["ddp_backend"] = "gloo"
    return arguments, total, per_epoch


def quiet(trainer: Any, job: Job) -> None:
    """Without a progress bar, also drop the Trainer's raw log dicts: progress lines say it better."""
    if not job.show_bar:
        from transformers import PrinterCallback
        from transformers.utils import logging as hf_logging

        trainer.remove_callback(PrinterCallback)
        hf_logging.disable_progress_bar()


def build_trainer(job: Job, kind: Kind, prepared: Prepared, progress: Progress | None, *,
                  evaluate_only: bool = False) -> tuple[Any, Any]:
    from transformers import EarlyStoppingCallback, Seq2SeqTrainer, Seq2SeqTrainingArguments, Trainer, TrainingArguments

    from bot.training.progress import HistoryRecorder

    arguments, total, per_epoch = trainer_arguments(job, kind.primary_metric, len(prepared.train_dataset or []))
    if prepared.seq2seq:
        arguments.update(predict_with_generate=True, generation_max_length=job.max_length)
    args = (Seq2SeqTrainingArguments if prepared.seq2seq else TrainingArguments)(**arguments)
    recorder = HistoryRecorder(kind.primary_metric, total_steps=total, steps_per_epoch=per_epoch,
                               progress=progress)
    callbacks = [] if evaluate_only else [recorder, EarlyStoppingCallback(early_stopping_patience=job.patience)]
    trainer = (Seq2SeqTrainer if prepared.seq2seq else Trainer)(
        model=prepared.model,
        args=args,
        train_dataset=prepared.train_dataset,
        eval_dataset=prepared.eval_dataset,
        data_collator=prepared.collator,
        processing_class=prepared.tokenizer,
        compute_metrics=prepared.compute_metrics,
        callbacks=callbacks,
    )
    quiet(trainer, job)
    return trainer, recorder
