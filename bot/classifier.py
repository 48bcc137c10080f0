"""The one text-classification plugin: sentiment (plugins/sentiment.py) and every [classifiers.NAME] table are one of these.

A classifier answers `/NAME TEXT` with a label and how sure it is, or "not sure" with its top guesses when the
serving version is less sure than the threshold calibrated with it on held-out data (`bot.models.decisions`);
`/NAME #channel [N]` shows the labels of a channel's last N messages, read under the channel's membership rules.
Every label's score comes from the model hub, on either runtime (torch or ONNX Runtime).

Example config.toml, and what it gives::

    [classifiers.triage]
    description = "Which team should handle this request?"
    labels = ["bug", "question", "billing"]
    data = "data/triage.jsonl"

    nlpbot train triage; nlpbot ask "/triage the invoice was charged twice"   # -> *billing* (91% sure)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, ClassVar

from bot.config import ClassifierSettings, ClassifierTable
from bot.errors import ModelUnavailable, UserInputError
from bot.format import escape
from bot.models import TRAINED, ModelHandle
from bot.models.versions import list_versions, serving_version
from bot.plugin import CommandSpec, Feedback, Plugin, Reply, Request, command
from bot.request import message_count, require_words

RESERVED = frozenset({"nlp", "help", "commands"})  # the router's own words (bot.router): no classifier is called so
SHOWN = 3  # guesses a "not sure" answer shows


class Classifier(Plugin):
    """Labels a text, or a channel's messages. Subclasses set `name` and `labels` and may change the look of an answer
    (`emoji`, `label_name`, `channel_summary`); `from_table` makes the class of a [classifiers.NAME] table."""

    Settings: ClassVar[type[ClassifierSettings]] = ClassifierSettings  # type: ignore[assignment]
    training_kind: ClassVar[str | None] = "sequence-classification"
    out_of_scope_label: ClassVar[str | None] = None  # the label of examples that fit none of the labels
    table: ClassVar[ClassifierTable | None] = None  # the [classifiers.NAME] table this class was made from
    command_help: ClassVar[str | None] = None  # default: the description, and what #channel does
    emoji: ClassVar[dict[str, str]] = {}

    settings: ClassifierSettings

    @classmethod
    def from_table(cls, name: str, table: ClassifierTable) -> type[Classifier]:
        """The plugin class of [classifiers.NAME]: its command is /NAME, its model the trained version of NAME."""
        shown = f": {', '.join(table.labels)}" if table.labels else " (the labels of its training data)"
        attributes: dict[str, Any] = {
            "name": name, "table": table, "__module__": __name__, "out_of_scope_label": table.out_of_scope_label,
            "description": table.description.strip() or f"Labels a text{shown}.",
            "training_kind": "multi-label-classification" if table.multi_label else "sequence-classification",
        }
        if table.labels:
            attributes["labels"] = tuple(table.labels)
        return type(f"Classifier_{name}", (cls,), attributes)

    @classmethod
    def settings_for(cls, name: str, table: ClassifierTable) -> ClassifierTable:
        """The table as the plugin's settings: its model, unless it names one, is the trained version of NAME."""
        return table if table.model else table.model_copy(update={"model": f"{TRAINED}{name}"})

    @classmethod
    def commands(cls) -> list[CommandSpec]:
        help = cls.command_help or f"{cls.description.rstrip()} With `#channel [N]`: the labels of its last N messages."
        return [replace(spec, name=cls.name, plugin=cls.name, help=help,
                        usage=f"/{cls.name} TEXT  |  /{cls.name} #channel [N]") for spec in super().commands()]

    @property
    def labels(self) -> tuple[str, ...] | None:  # type: ignore[override]
        """The labels a person can correct an answer to: the trained ones, until the table names them."""
        listed = list_versions(self.config.models_dir, self.name)
        serving = next((info for info in listed if info.serving), None)
        trained = [label for label in (serving.metadata.get("labels") or []) if label != self.out_of_scope_label] \
            if serving else []
        return tuple(trained) or None

    def feedback(self) -> Feedback | None:
        """An answer's label may be corrected to another of `labels` (a multi-label classifier's, to another set of
        them); corrections export as training records. None before the labels are known (no trained version)."""
        labels = self.labels
        return Feedback(labels=tuple(labels), multiple=self.training_kind == "multi-label-classification") \
            if labels else None

    def label_name(self, label: str) -> str:
        """A model's label as this classifier calls it (sentiment maps POSITIVE, LABEL_2, ... to its own)."""
        return label

    # -- the model ----------------------------------------------------------------------------------------------

    def _classifier(self) -> ModelHandle:
        try:
            return self.model("pipeline", task="text-classification")
        except ModelUnavailable:
            untrained = self.table is not None and self.settings.model == f"{TRAINED}{self.name}" \
                and serving_version(self.config.models_dir, self.name) is None
            if not untrained:
                raise
            data = self.config.training.plugin(self.name).data
            how = f"`nlpbot train {self.name}` (it learns from {data})" if data else \
                f"`nlpbot train {self.name} --data FILE` (JSON lines like {{\"text\": \"...\", \"label\": \"...\"}})"
            raise ModelUnavailable(f"/{self.name} has no trained model yet. Train it with {how}, or an admin "
                                   f"runs `/nlp-admin train {self.name}` in Slack.") from None

    def warm_up(self) -> None:
        self._classifier()

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        """{"text", "label": LABEL or None (not sure), "score", "top": [{"label", "score"}, ...]} per text, and
        "labels" for a multi-label classifier; with `abstain` off, the best guess instead of None."""
        answers = self._classifier()(texts, calibrated=True, truncation=True, max_length=self.settings.max_length)
        results = []
        for text, answer in zip(texts, answers):
            top = [{"label": self.label_name(guess["label"]), "score": guess["score"]} for guess in answer["top"]]
            label = self.label_name(answer["label"]) if answer["label"] is not None else None
            if label is None and not self.settings.abstain and top:
                label = top[0]["label"]
            result = {"text": text, "label": label, "score": answer["score"], "top": top}
            if "labels" in answer:
                result["labels"] = [self.label_name(name) for name in answer["labels"]]
            results.append(result)
        return results

    # -- the command ----------------------------------------------------------------------------------------------

    @command(usage="/NAME TEXT  |  /NAME #channel [N]", accepts_empty=True)
    def classify(self, request: Request) -> Reply:
        """Label a text, or the last N messages of a channel (no text: this channel)."""
        args = request.args
        if not args or (request.channel_refs and args[0].startswith("#")):
            return self._channel(request)
        text = request.require_text(usage=f"/{self.name} TEXT")
        result = self.predict([text])[0]
        return Reply(text=f"{self.describe(result)}\n>{escape(text[:300])}",
                     data={**result, "model_version": self.answering_version(self._classifier())})

    def describe(self, result: dict[str, Any]) -> str:
        """One answer in words: the label and how sure, or "not sure" with the top guesses."""
        guesses = ", ".join(f"{escape(g['label'])} {g['score']:.0%}" for g in result["top"][:SHOWN])
        if "labels" in result:
            if not result["labels"]:
                return f":grey_question: *Not sure:* no label is likely enough. Best guesses: {guesses}."
            scores = {g["label"]: g["score"] for g in result["top"]}
            return ", ".join(f"*{escape(label)}*" + (f" ({scores[label]:.0%})" if label in scores else "")
                             for label in result["labels"])
        label = result["label"]
        if label is None:
            return f":grey_question: *Not sure.* Best guesses: {guesses}."
        emoji = self.emoji.get(label)
        return f"{emoji + ' ' if emoji else ''}*{escape(label)}* ({result['score']:.0%} sure)"

    def _channel(self, request: Request) -> Reply:
        if request.channel_refs:
            channel_id, channel_name = request.channel_refs[0].id, request.channel_refs[0].name
        elif request.channel_id:
            channel_id, channel_name = request.channel_id, "this channel"
        else:
            raise UserInputError(f"Give me a text (`/{self.name} TEXT`) or a channel (`/{self.name} #general 50`).")
        count = message_count(request.args, default=self.settings.history_default, maximum=self.settings.history_max)
        texts = []
        for message in request.conversation.history(channel_id, limit=count):  # refused unless the asker is a member
            try:
                texts.append(require_words(message.text))
            except UserInputError:
                continue  # emoji-only and empty messages carry no words to label
        if not texts:
            return Reply(text=f"There are no text messages to read in {channel_name}.", in_channel=False)
        return self.channel_summary(channel_id, channel_name, self.predict(texts))

    def channel_summary(self, channel_id: str, channel_name: str, results: list[dict[str, Any]]) -> Reply:
        """The label mix of a channel's messages: each label's count and share, "not sure" apart."""
        counts: Counter[str] = Counter()
        for result in results:
            counts.update(result["labels"] if "labels" in result else [result["label"]] if result["label"] else [])
        unsure = sum(1 for r in results if not (r.get("labels") if "labels" in r else r["label"]))
        total = len(results)
        lines = [f"Mostly *{escape(counts.most_common(1)[0][0])}* across the last {total} messages." if counts else
                 f"Not sure about any of the last {total} messages."]
        fields = [(escape(label), f"{n} ({n / total:.0%})") for label, n in counts.most_common()]
        if unsure:
            fields.append(("Not sure", f"{unsure} ({unsure / total:.0%})"))
        return Reply(title=f"/{self.name} in {channel_name}", text="\n".join(lines), fields=fields,
                     data={"channel": channel_id, "messages": total, "counts": dict(counts), "not_sure": unsure})
