"""Sentence embeddings (search): {"query", "positive"[, "negative"]} lines, MultipleNegativesRankingLoss, MRR."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentence_transformers.evaluation import SentenceEvaluator

from bot.training.data import Problems, open_data, read_jsonl, require_examples, text_field
from bot.training.kinds.base import Kind
from bot.training.spec import FitOutcome, RunSpec, trainer_arguments

if TYPE_CHECKING:
    from bot.training.progress import Progress


class RetrievalEvaluator(SentenceEvaluator):
    """Each eval query searches every eval passage (negatives too): MRR and recall@1/5/10 of its own positive."""

    def __init__(self, records: Sequence[dict], batch_size: int = 32) -> None:
        super().__init__()
        self.queries = [r["query"] for r in records]
        self.corpus = list(dict.fromkeys([r["positive"] for r in records] + [r["negative"] for r in records
                                                                              if r.get("negative")]))
        where = {text: i for i, text in enumerate(self.corpus)}
        self.gold = [where[r["positive"]] for r in records]
        self.batch_size = batch_size
        self.primary_metric = "mrr"
        self.greater_is_better = True

    def __call__(self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict:
        import torch

        options = dict(batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=True,
                       show_progress_bar=False)
        scores = model.encode(self.queries, **options) @ model.encode(self.corpus, **options).T
        gold = torch.tensor(self.gold, device=scores.device)
        own = scores.gather(1, gold[:, None])
        ranks = (scores > own).sum(dim=1).float() + 1
        metrics = {"mrr": float((1 / ranks).mean())}
        for k in (1, 5, 10):
            metrics[f"recall@{k}"] = float((ranks <= k).float().mean())
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics


class SentenceEmbeddings(Kind):
    """Fitted and evaluated with the sentence-transformers trainer and `RetrievalEvaluator`, not the Trainer."""

    name = "sentence-embeddings"
    metrics = ("mrr", "recall@1", "recall@5", "recall@10")
    primary_metric = "mrr"
    base_serves = True  # the untrained MiniLM answers searches: a fine-tuned version must retrieve at least as well

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        path = open_data(path)
        problems = Problems()
        records = []
        for where, record in read_jsonl(path, problems):
            query = text_field(record, "query", where, problems)
            positive = text_field(record, "positive", where, problems)
            negative = text_field(record, "negative", where, problems, required=False)
            if query is not None and positive is not None:
                records.append({"query": query, "positive": positive} | ({"negative": negative} if negative else {}))
        require_examples(records, path, problems, minimum=2)
        problems.raise_if_any('Each line must be a JSON object like {"query": "vpn setup", "positive": "To set up '
                              'the VPN, ..."}: a question and the passage that answers it (and optionally a '
                              '"negative": a similar passage that does not).')
        return records

    def together_key(self) -> str:
        return "query"  # a query's other positives stay out of training when one of them is held out

    def fit(self, spec: RunSpec, train: Sequence[dict], eval: Sequence[dict],
            progress: Progress | None = None) -> FitOutcome:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from sentence_transformers.losses import MultipleNegativesRankingLoss
        from sentence_transformers.training_args import BatchSamplers, SentenceTransformerTrainingArguments
        from transformers import EarlyStoppingCallback, set_seed

        from bot.training.history import HistoryRecorder, best_metrics, clean_metrics, quiet

        set_seed(spec.seed)
        model = SentenceTransformer(spec.base_path, device=spec.device, local_files_only=True)
        model.max_seq_length = spec.max_length
        arguments, total, per_epoch = trainer_arguments(spec, self.primary_metric, len(train))
        arguments["batch_sampler"] = BatchSamplers.NO_DUPLICATES  # a duplicate in a batch is a false negative
        recorder = HistoryRecorder(self.primary_metric, total_steps=total, steps_per_epoch=per_epoch,
                                   progress=progress)

        hard = all("negative" in r for r in train)  # the loss takes a third column only if every example has one
        if progress and any("negative" in r for r in train):
            progress("hard negatives: " + ("one per example" if hard else "not used (some examples lack one)"))

        def pairs(records: Sequence[dict]) -> Dataset:
            columns = {"anchor": [r["query"] for r in records], "positive": [r["positive"] for r in records]}
            if hard and all("negative" in r for r in records):
                columns["negative"] = [r["negative"] for r in records]
            return Dataset.from_dict(columns)

        trainer = SentenceTransformerTrainer(
            model=model, args=SentenceTransformerTrainingArguments(**arguments), train_dataset=pairs(train),
            eval_dataset=pairs(eval), loss=MultipleNegativesRankingLoss(model),
            evaluator=RetrievalEvaluator(eval, batch_size=spec.batch_size * 2),
            callbacks=[recorder, EarlyStoppingCallback(early_stopping_patience=spec.patience)],
        )
        quiet(trainer, spec)
        trainer.train()
        metrics = best_metrics(recorder.history, self.primary_metric) or clean_metrics(trainer.evaluate())
        if trainer.is_world_process_zero():
            model.save(spec.out_dir)
        shutil.rmtree(Path(spec.out_dir) / "checkpoints", ignore_errors=True)
        return FitOutcome(metrics=metrics, history=recorder.history, step_seconds=recorder.step_seconds)

    def evaluate(self, spec: RunSpec, path: Path, eval: Sequence[dict]) -> dict[str, float]:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device=spec.device, local_files_only=True)
        return RetrievalEvaluator(eval, batch_size=spec.batch_size * 2)(model)
