"""Sentiment: positive, negative or neutral, for a text or for the recent mood of a channel; a classifier like any other."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from bot.classifier import Classifier
from bot.config import ClassifierSettings
from bot.errors import ModelUnavailable
from bot.format import escape
from bot.plugin import Reply, Shortcut

LABELS = ("negative", "neutral", "positive")
EMOJI = {"positive": ":large_green_circle:", "neutral": ":white_circle:", "negative": ":red_circle:"}


class SentimentSettings(ClassifierSettings):
    model: str | None = "trained:sentiment"
    label_map: dict[str, str] = Field(default_factory=dict, description="model label -> negative|neutral|positive")
    max_length: int = Field(256, ge=8, le=4096, description="tokens per text the model reads")
    abstain: bool = Field(False, description='true: "not sure" below the calibrated confidence; false: always a label')


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


class SentimentPlugin(Classifier):
    name = "sentiment"
    description = "Is a text (or a channel) positive, negative or neutral?"
    command_help = "Score a text, or the mood of a channel's last N messages (no text: this channel)."
    Settings = SentimentSettings
    labels = LABELS
    emoji = EMOJI

    settings: SentimentSettings
    # a message shortcut (bot.declarations): the feedback menu comes with every classifier (bot.classifier)
    shortcuts = (Shortcut("sentiment_message", "Sentiment", command="sentiment",
                          description="Is this message positive, negative or neutral?"),)

    def label_name(self, label: str) -> str:
        return canonical_label(label, self.settings.label_map)

    def describe(self, result: dict[str, Any]) -> str:
        label = result["label"]
        if label is None:
            return super().describe(result)
        return f"{EMOJI[label]} *{label.capitalize()}* ({result['score']:.0%} sure)"

    def channel_summary(self, channel_id: str, channel_name: str, results: list[dict[str, Any]]) -> Reply:
        """The mood: each label's share, and the most positive and most negative message."""
        answered = [result for result in results if result["label"]]  # "not sure" (abstain = true) takes no side
        if not answered:
            return super().channel_summary(channel_id, channel_name, results)
        results = answered
        counts = Counter(result["label"] for result in results)
        signed = [(r["score"] if r["label"] == "positive" else -r["score"] if r["label"] == "negative" else 0, r)
                  for r in results]
        best = max(signed, key=lambda pair: pair[0])[1]
        worst = min(signed, key=lambda pair: pair[0])[1]
        mood = max(LABELS, key=lambda label: counts[label])
        fields = [(label.capitalize(), f"{counts[label]} ({counts[label] / len(results):.0%})") for label in reversed(LABELS)]
        if best["label"] == "positive":
            fields.append(("Most positive", f">{escape(best['text'][:200])}"))
        if worst["label"] == "negative":
            fields.append(("Most negative", f">{escape(worst['text'][:200])}"))
        return Reply(
            title=f"Mood of {channel_name}",
            text=f"{EMOJI[mood]} Mostly *{mood}* across the last {len(results)} messages.",
            fields=fields,
            data={"channel": channel_id, "messages": len(results), "counts": dict(counts),
                  "most_positive": best, "most_negative": worst},
        )
