"""Text classification: {"text", "label"} (JSON lines, CSV or TSV), or {"text", "labels": [...]} for several labels
per text; scored by accuracy and macro-F1, with a confidence threshold calibrated on the held-out data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import UserInputError
from bot.models.versions import read_metadata
from bot.training import calibration as calibrating
from bot.training.data import Problems, check_labels, open_data, read_records, require_examples, text_field
from bot.training.kinds.base import Kind, Prepared
from bot.training.spec import RunSpec

IGNORED = -100  # the loss skips it: an out-of-scope example scored by a model that has no out-of-scope label
# How a classifier is fine-tuned (chosen on CLINC150's val split: bench/clinc.md): the fresh
# head (and the pooler it reads) learns HEAD_LR_SCALE times faster than the pretrained body, the word embeddings stay
# as they are (a sixth of the parameters, and 14% of a CPU step in the optimizer), batches group similar lengths.
HEAD = ("classifier", "pooler", "pre_classifier", "score")
HEAD_LR_SCALE = 10.0


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


def _logits(prediction: Any) -> np.ndarray:
    return np.asarray(prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions)


def _metrics(prediction: Any) -> dict[str, float]:
    return classification_metrics(np.asarray(prediction.label_ids), _logits(prediction).argmax(axis=-1))


def _multi_label_metrics(prediction: Any) -> dict[str, float]:
    """Every label decided at a score of 0.5 (the thresholds are calibrated after training)."""
    gold, chosen = np.asarray(prediction.label_ids) > 0.5, _logits(prediction) > 0
    tp, fp, fn = (chosen & gold).sum(0), (chosen & ~gold).sum(0), (~chosen & gold).sum(0)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    return {"accuracy": float((chosen == gold).all(axis=1).mean()), "macro_f1": float(f1.mean())}


class SequenceClassification(Kind):
    """One label per text. Examples labelled `out_of_scope_label` are text that fits no label: the model learns them
    as a label of their own, and the calibrated answer for them is "not sure"."""

    name = "sequence-classification"
    metrics = ("accuracy", "macro_f1")
    primary_metric = "macro_f1"
    multi_label = False
    out_of_scope_label: str | None = None  # a classifier's (get_kind sets it); sentiment has none

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        path = open_data(path)
        problems = Problems()
        records: list[dict] = []
        seen: dict[str, list[str]] = {}
        for where, record in read_records(path, problems):
            text = text_field(record, "text", where, problems)
            found = self._labels_of(record, where, problems)
            for label in found or []:
                seen.setdefault(label, []).append(where)
            if text is not None and found is not None:
                records.append({"text": text, **self._record_labels(found)})
        allowed = None if labels is None else [*labels, *([self.out_of_scope_label] if self.out_of_scope_label else [])]
        check_labels(seen, allowed, path, problems)
        require_examples(records, path, problems)
        problems.raise_if_any(self.hint)
        return records

    hint = ('Each line must be a JSON object like {"text": "I love it", "label": "positive"}, or a CSV/TSV row '
            'under a "text,label" header.')

    def _labels_of(self, record: dict, where: str, problems: Problems) -> list[str] | None:
        label = text_field(record, "label", where, problems)
        return None if label is None else [label]

    def _record_labels(self, labels: list[str]) -> dict[str, Any]:
        return {"label": labels[0]}

    def gold(self, record: dict) -> Any:
        return record["label"]

    def labels(self, records: Sequence[dict], declared: Sequence[str] | None) -> list[str]:
        found = {label for record in records for label in self._gold_set(record)}
        if not declared:
            return sorted(found)
        extra = [self.out_of_scope_label] if self.out_of_scope_label in found - set(declared) else []
        return [*declared, *extra]

    def _gold_set(self, record: dict) -> set[str]:
        return {record["label"]}

    def stratify_key(self) -> str | None:
        return "label"

    def _target(self, record: dict, label2id: dict[str, int]) -> Any:
        label = record["label"]
        if label not in label2id and label == self.out_of_scope_label:
            return IGNORED
        return label2id[label]

    def _encode(self, tokenizer: Any, records: Sequence[dict], label2id: dict[str, int], max_length: int) -> list[dict]:
        encoded = tokenizer([r["text"] for r in records], truncation=True, max_length=max_length)
        return [
            {"input_ids": ids, "attention_mask": mask, "labels": self._target(r, label2id)}
            for ids, mask, r in zip(encoded["input_ids"], encoded["attention_mask"], records)
        ]

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        assert labels is not None
        label2id = {label: i for i, label in enumerate(labels)}
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
            ignore_mismatched_sizes=True,
            problem_type="multi_label_classification" if self.multi_label else "single_label_classification",
        )
        model.get_input_embeddings().weight.requires_grad_(False)
        prepared = self._prepared(model, AutoTokenizer.from_pretrained(base), label2id, train, eval, max_length)
        prepared.head, prepared.head_lr_scale, prepared.group_by_length = HEAD, HEAD_LR_SCALE, True
        return prepared

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(path)
        label2id = {str(label): int(i) for label, i in model.config.label2id.items()}
        needed = set().union(*(self._gold_set(r) for r in eval)) - {self.out_of_scope_label}
        missing = sorted(needed - set(label2id))
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
            compute_metrics=_multi_label_metrics if self.multi_label else _metrics,
        )

    # -- after training: scores on held-out data, the calibrated threshold, the metrics of its answers -------------

    def scores(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> tuple[np.ndarray, list[str], float | None]:
        """Every label's probability for each held-out text, the model's labels in column order, and the loss."""
        prepared = self.prepare_eval(path=path, eval=eval, max_length=spec.max_length)
        prepared.compute_metrics = lambda prediction: {}
        trainer, _ = self._trainer(spec, prepared, None, evaluate_only=True)
        output = trainer.predict(prepared.eval_dataset)
        logits = _logits(output).astype(np.float64)
        if self.multi_label:
            probabilities = 1.0 / (1.0 + np.exp(-logits))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        config = prepared.model.config
        labels = [str(config.id2label[i]) for i in range(probabilities.shape[1])]
        loss = output.metrics.get("test_loss")
        return probabilities, labels, None if loss is None or not np.isfinite(loss) else float(loss)

    def calibrate(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The calibration to store with the version at `path`, and the metrics of the answers it gives."""
        probabilities, labels, loss = self.scores(spec, path, eval)
        gold = [self.gold(record) for record in eval]
        if self.multi_label:
            calibration = calibrating.calibrate_multi(probabilities, gold, labels)
        else:
            calibration = calibrating.calibrate_single(probabilities, gold, labels, self.out_of_scope_label)
        return calibration, self._report(probabilities, labels, gold, calibration, loss)

    def evaluate(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> dict[str, Any]:
        """The metrics of what the version at `path` answers, with the threshold calibrated when it was trained."""
        probabilities, labels, loss = self.scores(spec, path, eval)
        calibration = read_metadata(path).get("calibration")
        return self._report(probabilities, labels, [self.gold(record) for record in eval], calibration, loss)

    def _report(self, probabilities: np.ndarray, labels: list[str], gold: list[Any], calibration: dict | None,
                loss: float | None) -> dict[str, Any]:
        answered = calibrating.answers(probabilities, labels, calibration)
        metrics = calibrating.report(gold, answered, labels, self.out_of_scope_label, multi_label=self.multi_label)
        return {**({"loss": round(loss, 6)} if loss is not None else {}), **metrics}


class MultiLabelClassification(SequenceClassification):
    """Any number of labels per text ({"text", "labels": [...]}; none, or only the out-of-scope label, when none
    applies): a sigmoid per label, each with its own calibrated threshold."""

    name = "multi-label-classification"
    multi_label = True
    hint = ('Each line must be a JSON object like {"text": "refund my double charge", "labels": ["billing", "bug"]}, '
            'or a CSV/TSV row under a "text,labels" header with the labels separated by ";".')

    def _labels_of(self, record: dict, where: str, problems: Problems) -> list[str] | None:
        value = record.get("labels")
        if isinstance(value, str):  # a CSV/TSV cell: "billing;bug", or a JSON list
            try:
                value = json.loads(value) if value.strip().startswith("[") else [v.strip() for v in value.split(";")]
            except ValueError:
                pass  # reported below, as any other value that is not a list of names
            else:
                value = [v for v in value if v] if isinstance(value, list) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.add(where, '"labels" must be a list of label names (empty when none applies), '
                                f'got {json.dumps(value)[:40]}')
            return None
        return value

    def _record_labels(self, labels: list[str]) -> dict[str, Any]:
        return {"labels": labels}

    def gold(self, record: dict) -> Any:
        return record["labels"]

    def _gold_set(self, record: dict) -> set[str]:
        return set(record["labels"]) - {self.out_of_scope_label}

    def stratify_key(self) -> str | None:
        return None

    def _target(self, record: dict, label2id: dict[str, int]) -> Any:
        row = [0.0] * len(label2id)
        for label in self._gold_set(record):
            row[label2id[label]] = 1.0
        return row
