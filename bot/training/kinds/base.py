"""The Kind contract: read and check data, build models, and fit and evaluate them (the transformers Trainer)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.training.progress import Progress
from bot.training.spec import FitOutcome, RunSpec, trainer_arguments


@dataclass
class Prepared:
    """Everything a transformers Trainer needs for one run (or one evaluation)."""

    model: Any
    tokenizer: Any
    train_dataset: Sequence[dict] | None
    eval_dataset: Sequence[dict]
    collator: Callable[[list[dict]], dict]
    compute_metrics: Callable[[Any], dict[str, float]]
    seq2seq: bool = False
    head: tuple[str, ...] = ()  # modules (names in a parameter's dotted name) of a head that learns `head_lr_scale` x faster
    head_lr_scale: float = 1.0
    group_by_length: bool = False  # batches of similar lengths: less padding


class Kind:
    """One training kind. Subclasses read and validate data and build models (`prepare`, `prepare_eval`);
    `fit` and `evaluate` run them with the transformers Trainer, and a kind with another trainer overrides both.

    `metrics` are the keys every evaluation reports; `primary_metric` is the one that early stopping,
    the best checkpoint and promotion compare (higher is better). A plugin may pick another of `metrics`.
    """

    name: str = ""
    metrics: tuple[str, ...] = ()
    primary_metric: str = ""
    base_serves: bool = False  # the base model is complete and serves until a trained version beats it

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        """Validated records from a data file; raises UserInputError listing every bad line."""
        raise NotImplementedError

    def labels(self, records: Sequence[dict], declared: Sequence[str] | None) -> list[str] | None:
        """The label set the model is trained with (None for kinds without labels)."""
        return None

    def stratify_key(self) -> str | None:
        return None

    def together_key(self) -> str | None:
        """Records sharing this field's value are held out together (or not at all)."""
        return None

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        """A fresh model from `base` (a new head where needed) plus tokenized datasets."""
        raise NotImplementedError

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        """A trained model from `path` to evaluate on `eval`; UserInputError when it cannot judge this data."""
        raise NotImplementedError

    def fit(self, spec: RunSpec, train: Sequence[dict], eval: Sequence[dict],
            progress: Progress | None = None) -> FitOutcome:
        """Train, keep the best evaluation's model and save it with its tokenizer into spec.out_dir."""
        from transformers import set_seed

        from bot.training.history import best_metrics, clean_metrics

        set_seed(spec.seed)
        prepared = self.prepare(base=Path(spec.base_path), labels=spec.labels, train=train, eval=eval,
                                max_length=spec.max_length)
        trainer, recorder = self._trainer(spec, prepared, progress)
        trainer.train()
        metrics = best_metrics(recorder.history, self.primary_metric) or clean_metrics(trainer.evaluate())
        if trainer.is_world_process_zero():
            trainer.save_model(spec.out_dir)
            prepared.tokenizer.save_pretrained(spec.out_dir)
            (Path(spec.out_dir) / "training_args.bin").unlink(missing_ok=True)
        shutil.rmtree(Path(spec.out_dir) / "checkpoints", ignore_errors=True)
        return FitOutcome(metrics=metrics, history=recorder.history, step_seconds=recorder.step_seconds)

    def evaluate(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> dict[str, float]:
        """Metrics of the trained model at `path` on `eval`, computed as for a run (promotion, `nlpbot eval`)."""
        from bot.training.history import clean_metrics

        prepared = self.prepare_eval(path=path, eval=eval, max_length=spec.max_length)
        trainer, _ = self._trainer(spec, prepared, None, evaluate_only=True)
        return clean_metrics(trainer.evaluate())

    def calibrate(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """After a fit: what to store with the version at `path` as its "calibration" (a classifier's confidence
        thresholds, chosen on `eval`) and the metrics of the answers it then gives. None: the kind has nothing to tune."""
        return None

    def _trainer(self, spec: RunSpec, prepared: Prepared, progress: Progress | None, *,
                 evaluate_only: bool = False) -> tuple[Any, Any]:
        from transformers import (EarlyStoppingCallback, Seq2SeqTrainer, Seq2SeqTrainingArguments, Trainer,
                                  TrainingArguments)

        from bot.training.history import HistoryRecorder, quiet

        arguments, total, per_epoch = trainer_arguments(spec, self.primary_metric, len(prepared.train_dataset or []))
        if prepared.seq2seq:
            arguments.update(predict_with_generate=True, generation_max_length=spec.max_length)
        if prepared.group_by_length:
            arguments.update(train_sampling_strategy="group_by_length")
        args = (Seq2SeqTrainingArguments if prepared.seq2seq else TrainingArguments)(**arguments)
        recorder = HistoryRecorder(self.primary_metric, total_steps=total, steps_per_epoch=per_epoch,
                                   progress=progress)
        callbacks = [] if evaluate_only else [recorder, EarlyStoppingCallback(early_stopping_patience=spec.patience)]
        trainer = (Seq2SeqTrainer if prepared.seq2seq else Trainer)(
            model=prepared.model,
            args=args,
            train_dataset=prepared.train_dataset,
            eval_dataset=prepared.eval_dataset,
            data_collator=prepared.collator,
            processing_class=prepared.tokenizer,
            compute_metrics=prepared.compute_metrics,
            callbacks=callbacks,
            optimizers=(_optimizer(prepared, spec.lr, arguments["weight_decay"]), None),
        )
        quiet(trainer, spec)
        return trainer, recorder


def _optimizer(prepared: Prepared, lr: float, weight_decay: float) -> Any:
    """AdamW as the Trainer makes it (no decay for biases and norms), with the head's groups at `head_lr_scale` x lr;
    None (the Trainer's own) for a model without such a head."""
    if not prepared.head or prepared.head_lr_scale == 1.0:
        return None
    import torch

    groups: dict[tuple[bool, bool], list] = {}
    for name, parameter in prepared.model.named_parameters():
        if parameter.requires_grad:
            in_head = not set(name.split(".")).isdisjoint(prepared.head)
            decays = not (name.endswith("bias") or "norm" in name.lower())
            groups.setdefault((in_head, decays), []).append(parameter)
    return torch.optim.AdamW([{"params": params, "lr": lr * (prepared.head_lr_scale if in_head else 1.0),
                               "weight_decay": weight_decay if decays else 0.0}
                              for (in_head, decays), params in groups.items()], lr=lr)
