"""Training kinds: what a plugin's model learns, how its data is read, which metric decides promotion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import NlpbotError

KIND_NAMES = ("sequence-classification", "token-classification", "seq2seq", "sentence-embeddings")


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


class Kind:
    """One training kind. Subclasses read and validate data and build models; `bot.training.fit` runs them.

    `primary_metric` is the key in the metrics dict that early stopping, the best checkpoint and
    promotion compare (higher is better).
    """

    name: str = ""
    primary_metric: str = ""
    uses_hf_trainer: bool = True

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        """Validated records from a data file; raises UserInputError listing every bad line."""
        raise NotImplementedError

    def labels(self, records: Sequence[dict], declared: Sequence[str] | None) -> list[str] | None:
        """The label set the model is trained with (None for kinds without labels)."""
        return None

    def stratify_key(self) -> str | None:
        return None

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        """A fresh model from `base` (a new head where needed) plus tokenized datasets."""
        raise NotImplementedError

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        """A trained model from `path` to evaluate on `eval`; NlpbotError when it cannot judge this data."""
        raise NotImplementedError


def get_kind(name: str, *, plugin: str = "") -> Kind:
    """The Kind for a name; seq2seq ranks translations by BLEU and everything else by ROUGE-L."""
    if name == "sequence-classification":
        from bot.training.kinds.classification import SequenceClassification

        return SequenceClassification()
    if name == "token-classification":
        from bot.training.kinds.tokens import TokenClassification

        return TokenClassification()
    if name == "seq2seq":
        from bot.training.kinds.seq2seq import Seq2Seq

        return Seq2Seq(primary_metric="bleu" if plugin == "translate" else "rougeL")
    if name == "sentence-embeddings":
        from bot.training.kinds.embeddings import SentenceEmbeddings

        return SentenceEmbeddings()
    raise NlpbotError(f"unknown training kind {name!r}; the kinds are {', '.join(KIND_NAMES)}")
