"""Documents to chunks: token windows with overlap, cut at paragraph ends when possible, headings kept."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.search.loaders import Document
from bot.text import sentence_spans

HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
WORD = re.compile(r"\S+")


class Tokenizer(Protocol):
    def __call__(self, text: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Chunk:
    """A piece of a document; `start`/`end` are character offsets into the document's text."""

    source: str
    position: int
    text: str
    heading: str
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def embed_text(self) -> str:
        """What is embedded and matched: the section heading travels with every chunk of its section."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()[:32]


def chunk_metadata(metadata: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    """The document's metadata for one chunk; `messages` ([offset, ts] of each Slack message in the document)
    is cut to the messages the chunk overlaps, offsets made relative to the chunk (the first may start before it)."""
    messages = metadata.get("messages")
    if not messages:
        return dict(metadata)
    inside = [[offset - start, ts] for offset, ts in messages if offset < end]
    first = max((i for i, (offset, _) in enumerate(inside) if offset <= 0), default=0)
    return {**metadata, "messages": [[max(offset, 0), ts] for offset, ts in inside[first:]]}


def message_at(metadata: dict[str, Any], offset: int) -> str | None:
    """The ts of the Slack message that a chunk's character `offset` falls in (None for files)."""
    found = None
    for start, ts in metadata.get("messages") or []:
        if start > offset:
            break
        found = ts
    return found


class Chunker:
    """Splits text by the embedding model's tokens (or by words when no tokenizer is given).

    Example::

        chunker = Chunker(tokenizer=embed.tokenizer, chunk_tokens=200, overlap=40)
        chunks = chunker.split(Document("notes.md", "# Setup\\n\\nRun make."))
    """

    def __init__(self, *, tokenizer: Tokenizer | None = None, chunk_tokens: int = 200, overlap: int = 40) -> None:
        if not 0 <= overlap < chunk_tokens:
            raise ValueError("overlap must be at least 0 and smaller than chunk_tokens")
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of `text`."""
        if self.tokenizer is None:
            return [match.span() for match in WORD.finditer(text)]
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [(int(start), int(end)) for start, end in encoded["offset_mapping"] if end > start]

    def split(self, document: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for heading, start, end in sections(document.text):
            budget = max(self.chunk_tokens - len(self.token_spans(heading)), self.overlap + 8)
            for chunk_start, chunk_end in self._windows(document.text[start:end], budget):
                text = document.text[start + chunk_start:start + chunk_end]
                chunks.append(Chunk(document.source, len(chunks), text, heading, start + chunk_start,
                                    start + chunk_end, chunk_metadata(document.metadata, start + chunk_start,
                                                                      start + chunk_end)))
        return chunks

    def _windows(self, body: str, budget: int) -> list[tuple[int, int]]:
        spans = self.token_spans(body)
        if not spans:
            return []
        windows = []
        first = 0
        while True:
            last = min(first + budget, len(spans))
            if last < len(spans):
                last = self._cut(body, spans, first, last)
            windows.append((spans[first][0], spans[last - 1][1]))
            if last >= len(spans):
                return windows
            previous, first = first, max(last - self.overlap, first + 1)
            while first > previous + 1 and spans[first][0] == spans[first - 1][1]:
                first -= 1  # start the overlap at a word's beginning, not inside it

    @staticmethod
    def _cut(body: str, spans: list[tuple[int, int]], first: int, last: int) -> int:
        """The end of the window: the latest paragraph end past its middle, else a sentence end, else a word end
        (a sub-word token never ends a chunk unless a single word fills half the window)."""
        middle = first + (last - first) // 2
        for token in range(last, middle, -1):
            if PARAGRAPH_END.search(body, spans[token - 1][1], spans[token][0]):
                return token
        sentence_ends = {end for _, end in sentence_spans(body[spans[middle][0]:spans[last][1]], wrapped=True)}
        for token in range(last, middle, -1):
            if spans[token][0] > spans[token - 1][1] and spans[token - 1][1] - spans[middle][0] in sentence_ends:
                return token
        for token in range(last, middle, -1):
            if spans[token][0] > spans[token - 1][1]:
                return token
        return last


def sections(text: str) -> list[tuple[str, int, int]]:
    """(heading, body start, body end) for each section; text before the first heading has heading ""."""
    found = []
    headings = list(HEADING.finditer(text))
    starts = [(match.group(2).strip(), match.end()) for match in headings]
    ends = [match.start() for match in headings[1:]] + [len(text)]
    if not headings or text[:headings[0].start()].strip():
        found.append(("", 0, headings[0].start() if headings else len(text)))
    for (heading, start), end in zip(starts, ends):
        if text[start:end].strip():
            found.append((heading, start, end))
    return found
