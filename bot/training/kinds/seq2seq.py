"""Sequence to sequence (summaries, translations): JSON lines {"text", "target"}, scored by ROUGE and sacreBLEU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.training.data import Problems, open_data, read_jsonl, require_examples, text_field
from bot.training.kinds.base import Kind, Prepared


def text_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (rouge-score, stemmed) and corpus sacreBLEU, all on a 0-1 scale."""
    import sacrebleu
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for prediction, reference in zip(predictions, references):
        for name, score in scorer.score(reference, prediction).items():
            totals[name] += score.fmeasure
    count = max(len(references), 1)
    metrics = {name: total / count for name, total in totals.items()}
    metrics["bleu"] = sacrebleu.corpus_bleu(list(predictions), [list(references)]).score / 100
    return metrics


def _metrics(tokenizer: Any):  # type: ignore[no-untyped-def]
    def compute(prediction: Any) -> dict[str, float]:
        generated = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        generated = np.where(generated < 0, tokenizer.pad_token_id, generated)
        labels = np.where(prediction.label_ids < 0, tokenizer.pad_token_id, prediction.label_ids)
        decoded = [t.strip() for t in tokenizer.batch_decode(generated, skip_special_tokens=True)]
        references = [t.strip() for t in tokenizer.batch_decode(labels, skip_special_tokens=True)]
        return text_metrics(decoded, references)

    return compute


class Seq2Seq(Kind):
    name = "seq2seq"
    metrics = ("rouge1", "rouge2", "rougeL", "bleu")
    primary_metric = "rougeL"  # summaries; translations declare "bleu" (plugins/translate.py)

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        path = open_data(path)
        problems = Problems()
        records = []
        for where, record in read_jsonl(path, problems):
            text = text_field(record, "text", where, problems)
            target = text_field(record, "target", where, problems)
            languages = {key: text_field(record, key, where, problems, required=False)
                         for key in ("source_lang", "target_lang") if key in record}
            if text is not None and target is not None and None not in languages.values():
                records.append({"text": text, "target": target, **languages})
        require_examples(records, path, problems)
        problems.raise_if_any('Each line must be a JSON object like {"text": "long text", "target": "its summary"} '
                              '(translations may add "source_lang" and "target_lang").')
        return records

    def _encode(self, tokenizer: Any, records: Sequence[dict], max_length: int) -> list[dict]:
        encoded = tokenizer([r["text"] for r in records], text_target=[r["target"] for r in records],
                            truncation=True, max_length=max_length)
        return [{"input_ids": ids, "attention_mask": mask, "labels": labels}
                for ids, mask, labels in zip(encoded["input_ids"], encoded["attention_mask"], encoded["labels"])]

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        return self._prepared(base, train, eval, max_length)

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        return self._prepared(path, None, eval, max_length)

    def _prepared(self, path: Path, train: Sequence[dict] | None, eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq

        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSeq2SeqLM.from_pretrained(path)
        return Prepared(
            model=model, tokenizer=tokenizer,
            train_dataset=self._encode(tokenizer, train, max_length) if train is not None else None,
            eval_dataset=self._encode(tokenizer, eval, max_length),
            collator=DataCollatorForSeq2Seq(tokenizer, model=model), compute_metrics=_metrics(tokenizer),
            seq2seq=True,
        )
