"""Training kinds: what a plugin's model learns, how its data is read, and how it is fitted and scored."""

from __future__ import annotations

from bot.errors import NlpbotError
from bot.training.kinds.base import Kind, Prepared

KIND_NAMES = ("sequence-classification", "multi-label-classification", "token-classification", "seq2seq",
              "sentence-embeddings")

__all__ = ["KIND_NAMES", "Kind", "Prepared", "get_kind"]


def get_kind(name: str, *, metric: str | None = None, out_of_scope_label: str | None = None) -> Kind:
    """The Kind for a name, ranking by `metric` (a plugin's `training_metric`) or else by the kind's own; a
    classifier's `out_of_scope_label` names the examples that fit none of its labels."""
    kind: Kind
    if name == "sequence-classification":
        from bot.training.kinds.classification import SequenceClassification

        kind = SequenceClassification()
        kind.out_of_scope_label = out_of_scope_label
    elif name == "multi-label-classification":
        from bot.training.kinds.classification import MultiLabelClassification

        kind = MultiLabelClassification()
        kind.out_of_scope_label = out_of_scope_label
    elif name == "token-classification":
        from bot.training.kinds.tokens import TokenClassification

        kind = TokenClassification()
    elif name == "seq2seq":
        from bot.training.kinds.seq2seq import Seq2Seq

        kind = Seq2Seq()
    elif name == "sentence-embeddings":
        from bot.training.kinds.embeddings import SentenceEmbeddings

        kind = SentenceEmbeddings()
    else:
        raise NlpbotError(f"unknown training kind {name!r}; the kinds are {', '.join(KIND_NAMES)}")
    if metric is not None:
        if metric not in kind.metrics:
            raise NlpbotError(f"{name} cannot rank by {metric!r}; its metrics are {', '.join(kind.metrics)}")
        kind.primary_metric = metric
    return kind
