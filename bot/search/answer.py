"""Answers: the sentences of the top chunks most similar to the question, highlighted, with where they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from bot.search.chunker import message_at
from bot.search.hybrid import Hit
from bot.text import sentence_spans

MIN_SENTENCE_CHARS = 12  # shorter fragments ("See below.", "Yes.") answer nothing


@dataclass(frozen=True)
class AnswerSentence:
    sentence: str
    source: str
    chunk: int
    score: float
    highlighted: str  # the chunk's text with the sentence in *bold* (Slack mrkdwn)
    heading: str = ""  # the section it is under
    link: str | None = None  # a URL to it, when the document's metadata has one
    message_ts: str | None = None  # the Slack message it quotes, for chunks of an indexed channel


@dataclass(frozen=True)
class Answer:
    """`found` is False ("I don't know") when no passage is as similar to the question as [search] min_score,
    a threshold calibrated on judged queries (`nlpbot index tune`)."""

    question: str
    found: bool
    sentences: list[AnswerSentence] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.found:
            return "I don't know: nothing in the indexed documents answers that closely enough."
        return "\n".join(f"{' '.join(item.sentence.split())} ({where(item)})" for item in self.sentences)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(item.source for item in self.sentences))

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "found": self.found, "text": self.text, "sources": self.sources,
            "sentences": [vars(item) for item in self.sentences], "hits": [hit.to_dict() for hit in self.hits],
        }


def best_sentences(
    question: str,
    hits: list[Hit],
    embed: Callable[[list[str]], np.ndarray],
    *,
    min_score: float,
    max_sentences: int = 2,
) -> Answer:
    """The best sentences of the hits (scored in one embedding call), if the best hit reaches min_score."""
    candidates = [(hit, start, end) for hit in hits for start, end in sentence_spans(hit.text, wrapped=True)
                  if end - start >= MIN_SENTENCE_CHARS]
    if not candidates or max(hit.extra.get("similarity", 1.0) for hit in hits) < min_score:
        return Answer(question, False, hits=hits)
    texts = [question] + [hit.text[start:end] for hit, start, end in candidates]
    vectors = np.asarray(embed(texts), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scores = vectors[1:] @ vectors[0]
    chosen = []
    for index in np.argsort(-scores, kind="stable"):
        if len(chosen) == max_sentences:
            break
        hit, start, end = candidates[index]
        sentence = hit.text[start:end]
        if any(item.sentence == sentence for item in chosen):
            continue
        highlighted = f"{hit.text[:start]}*{sentence}*{hit.text[end:]}"
        metadata = hit.extra.get("metadata") or {}
        chosen.append(AnswerSentence(sentence, hit.source, hit.chunk, round(float(scores[index]), 4), highlighted,
                                     hit.extra.get("heading", ""), metadata.get("permalink") or metadata.get("url"),
                                     message_at(metadata, start)))
    return Answer(question, bool(chosen), chosen, hits)


def where(item: AnswerSentence) -> str:
    """The document, the heading it is under, and its link: `handbook.md › Accounts <https://...>`."""
    text = item.source + (f" › {item.heading}" if item.heading else "") + f" #{item.chunk}"
    return text + (f" {item.link}" if item.link else "")
