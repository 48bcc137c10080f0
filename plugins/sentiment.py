"""Sentiment: positive, negative or neutral, for a text or for the recent mood of a channel."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from bot.errors import ModelUnavailable, UserInputError
from bot.format import escape
from bot.plugin import Feedback, Plugin, PluginSettings, Reply, Request, Shortcut, command
from bot.request import message_count, require_words

LABELS = ("negative", "neutral", "positive")
EMOJI = {"positive": ":large_green_circle:", "neutral": ":white_circle:", "negative": ":red_circle:"}


class SentimentSettings(PluginSettings):
    model: str | None = "trained:sentiment"
    label_map: dict[str, str] = Field(default_factory=dict, description="model label -> negative|neutral|positive")
    history_default: int = Field(50, ge=1, le=1000)
    history_max: int = Field(500, ge=1, le=5000)
    max_length: int = Field(256, ge=8, le=4096, description="tokens per text the model reads")


def canonical_label(label: str, label_map: dict[str, str]) -> str:
    """Map a model's own label names (POSITIVE, LABEL_2, pos ...) to negative / neutral / positive."""
    if label in label_map:
        return label_map[label]
    lowered = label.lower()
    for canonical in LABELS:
        if lowered.startswith(canonical[:3]):
            return canonical
    raise ModelUnavailable(
        f"the sentiment model's label {label!r} is not negative/neutral/positive; map it in "
        f"[plugins.sentiment] label_map, e.g. label_map = {{ {label!r} = \"positive\" }}"
    )


class SentimentPlugin(Plugin):
    name = "sentiment"
    description = "Is a text (or a channel) positive, negative or neutral?"
    Settings = SentimentSettings
    training_kind = "sequence-classification"
    labels = LABELS

    # -- what the adapters and the command line read (bot.declarations, bot.feedback) --
    shortcuts = (Shortcut("sentiment_message", "Sentiment", command="sentiment",
                          description="Is this message positive, negative or neutral?"),)

    def feedback(self) -> Feedback:
        """The answer's label may be corrected to another; corrections export as {"text", "label"}."""
        return Feedback(labels=tuple(self.labels))

    def _classifier(self):
        return self.model("pipeline", task="text-classification")

    def warm_up(self) -> None:
        self._classifier()

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        outputs = self._classifier()(texts, truncation=True, max_length=self.settings.max_length)
        results = []
        for text, output in zip(texts, outputs):
            best = output[0] if isinstance(output, list) else output
            results.append({"text": text, "label": canonical_label(best["label"], self.settings.label_map),
                            "score": round(float(best["score"]), 4)})
        return results

    @command(usage="/sentiment TEXT  |  /sentiment #channel [N]", accepts_empty=True)
    def sentiment(self, request: Request) -> Reply:
        """Score a text, or the mood of a channel's last N messages (no text: this channel)."""
        args = request.args
        if not args or (request.channel_refs and args[0].startswith("#")):
            return self._channel_mood(request)
        text = request.require_text(usage="/sentiment TEXT")
        result = self.predict([text])[0]
        label = result["label"]
        return Reply(
            text=f"{EMOJI[label]} *{label.capitalize()}* ({result['score']:.0%} sure)\n>{escape(text[:300])}",
            data={**result, "model_version": self.answering_version(self._classifier())},
        )

    def _channel_mood(self, request: Request) -> Reply:
        if request.channel_refs:
            channel_id, channel_name = request.channel_refs[0].id, request.channel_refs[0].name
        elif request.channel_id:
            channel_id, channel_name = request.channel_id, "this channel"
        else:
            raise UserInputError("Give me a text (`/sentiment I love this`) or a channel (`/sentiment #general 50`).")
        count = message_count(request.args, default=self.settings.history_default, maximum=self.settings.history_max)
        messages = [m for m in request.conversation.history(channel_id, limit=count) if m.text.strip()]
        texts = []
        for message in messages:
            try:
                texts.append(require_words(message.text))
            except UserInputError:
                continue  # emoji-only and empty messages carry no words to score
        if not texts:
            return Reply(text=f"There are no text messages to read in {channel_name}.", in_channel=False)
        results = self.predict(texts)
        counts = Counter(result["label"] for result in results)
        signed = [(r["score"] if r["label"] == "positive" else -r["score"] if r["label"] == "negative" else 0, r)
                  for r in results]
        best = max(signed, key=lambda pair: pair[0])[1]
        worst = min(signed, key=lambda pair: pair[0])[1]
        mood = max(LABELS, key=lambda label: counts[label])
        lines = [f"{EMOJI[mood]} Mostly *{mood}* across the last {len(results)} messages."]
        fields = [(label.capitalize(), f"{counts[label]} ({counts[label] / len(results):.0%})") for label in reversed(LABELS)]
        if best["label"] == "positive":
            fields.append(("Most positive", f">{escape(best['text'][:200])}"))
        if worst["label"] == "negative":
            fields.append(("Most negative", f">{escape(worst['text'][:200])}"))
        return Reply(
            title=f"Mood of {channel_name}",
            text="\n".join(lines),
            fields=fields,
            data={"channel": channel_id, "messages": len(results), "counts": dict(counts),
                  "most_positive": best, "most_negative": worst},
        )
