"""Sequence classification (sentiment): JSON lines {"text", "label"}, scored by accuracy and macro-F1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import UserInputError
from bot.training.data import Problems, check_labels, open_data, read_jsonl, require_examples, text_field
from bot.training.kinds.base import Kind, Prepared


def classification_metrics(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 over the classes that occur in gold or predictions (as scikit-learn does)."""
    accuracy = float((gold == predicted).mean()) if len(gold) else 0.0
    scores = []
    for cls in np.union1d(gold, predicted):
        tp = float(((predicted == cls) & (gold == cls)).sum())
        fp = float(((predicted == cls) & (gold != cls)).sum())
        fn = float(((predicted != cls) & (gold == cls)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"accuracy": accuracy, "macro_f1": float(np.mean(scores)) if scores else 0.0}


def _metrics(prediction: Any) -> dict[str, float]:
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    return classification_metrics(np.asarray(prediction.label_ids), np.asarray(logits).argmax(axis=-1))


class SequenceClassification(Kind):
    name = "sequence-classification"
    metrics = ("accuracy", "macro_f1")
    primary_metric = "macro_f1"

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        path = open_data(path)
        problems = Problems()
        records: list[dict] = []
        seen: dict[str, list[str]] = {}
        for where, record in read_jsonl(path, problems):
            text = text_field(record, "text", where, problems)
            label = text_field(record, "label", where, problems)
            if label is not None:
                seen.setdefault(label, []).append(where)
            if text is not None and label is not None:
                records.append({"text": text, "label": label})
        check_labels(seen, labels, path, problems)
        require_examples(records, path, problems)
        problems.raise_if_any('Each line must be a JSON object like {"text": "I love it", "label": "positive"}.')
        return records

    def labels(self, records: Sequence[dict], declared: Sequence[str] | None) -> list[str]:
        return list(declared) if declared else sorted({r["label"] for r in records})

    def stratify_key(self) -> str:
        return "label"

    def _encode(self, tokenizer: Any, records: Sequence[dict], label2id: dict[str, int], max_length: int) -> list[dict]:
        encoded = tokenizer([r["text"] for r in records], truncation=True, max_length=max_length)
        return [
            {"input_ids": ids, "attention_mask": mask, "labels": label2id[r["label"]]}
            for ids, mask, r in zip(encoded["input_ids"], encoded["attention_mask"], records)
        ]

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        assert labels is not None
        label2id = {label: i for i, label in enumerate(labels)}
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
            ignore_mismatched_sizes=True,
        )
        return self._prepared(model, tokenizer, label2id, train, eval, max_length)

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(path)
        label2id = {str(label): int(i) for label, i in model.config.label2id.items()}
        missing = sorted({r["label"] for r in eval} - set(label2id))
        if missing:
            raise UserInputError(f"the model at {path} does not know the label(s) {', '.join(missing)}")
        return self._prepared(model, AutoTokenizer.from_pretrained(path), label2id, None, eval, max_length)

    def _prepared(self, model: Any, tokenizer: Any, label2id: dict[str, int], train: Sequence[dict] | None,
                  eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import DataCollatorWithPadding

        return Prepared(
            model=model,
            tokenizer=tokenizer,
            train_dataset=self._encode(tokenizer, train, label2id, max_length) if train is not None else None,
            eval_dataset=self._encode(tokenizer, eval, label2id, max_length),
            collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=_metrics,
        )
