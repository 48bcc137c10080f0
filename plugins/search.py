"""Search: answer questions from indexed documents, list the best passages, and let admins add documents from Slack."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from pydantic import Field

from bot.config import Config, SearchSettings
from bot.errors import UserInputError
from bot.format import channel_link, escape, link
from bot.plugin import Form, Input, Option, Plugin, PluginSettings, Reply, Request, command
from bot.request import Message, message_count, require_words
from bot.search import Answer, Document, DocumentIndex, Hit, IndexManager, check_allowed
from bot.search.errors import NoSuchIndex
from bot.search.reindex import summary
from bot.search.loaders import discover
from bot.search.shared_files import fetch_documents, indexable

HOW_TO_ADD = ("An admin can add documents: `/index PATH` (a folder under [search] allowed_paths), `/index #channel [N]`, "
              "`/index` alone (a form to upload files), or files shared in a DM with me with `index` as the message; "
              "on the server, `nlpbot index add --index {name} PATH`.")


class SearchPluginSettings(PluginSettings):
    k: int = Field(5, ge=1, le=50, description="hits /search lists and `nlpbot predict search` returns by default")
    answer_chunks: int = Field(5, ge=1, le=50, description="best chunks /ask reads its answer from")
    history_default: int = Field(200, ge=1, le=5000, description="/index #channel: messages read without N")
    history_max: int = Field(1000, ge=1, le=5000)


def parse_query(text: str) -> tuple[str | None, dict[str, Any] | None, str]:
    """`in:NAME` and `source:GLOB` taken out of the text: (index name, filters, the rest)."""
    name, source, words = None, None, []
    for word in text.split():
        if word.startswith("in:") and len(word) > 3:
            name = word[3:]
        elif word.startswith("source:") and len(word) > 7:
            source = word[7:]
        else:
            words.append(word)
    return name, ({"source": source} if source else None), " ".join(words)


def source_channel(source: str) -> str | None:
    """The Slack channel a source was read from (`slack://CHANNEL`), None for files, folders and shared files."""
    if source.startswith("slack://") and not source.startswith("slack://file/"):
        return source.removeprefix("slack://").split("/", 1)[0]
    return None


def source_label(source: str, metadata: dict[str, Any] | None = None) -> str:
    """How a source is shown in Slack: a channel link for channel history, a name for a shared file, else the path."""
    metadata = metadata or {}
    if source.startswith("slack://file/"):
        return f"{escape(metadata.get('name') or source.rsplit('/', 1)[-1])} (shared file)"
    if source.startswith("slack://"):
        channel = source.removeprefix("slack://").split("/", 1)[0]
        return channel_link(channel, metadata.get("channel_name"))
    return f"`{escape(source)}`"


def channel_document(channel_id: str, channel_name: str, messages: list[Message]) -> Document:
    """A channel's messages (plain text from the adapter), oldest first, one paragraph each: `slack://CHANNEL`."""
    ordered = [message for message in sorted(messages, key=lambda message: float(message.ts or 0))
               if message.text.strip()]
    texts, offsets, at = [], [], 0
    for message in ordered:  # where each message starts in the text, so an answer can link the message it quotes
        texts.append(message.text.strip())
        offsets.append([at, message.ts])
        at += len(texts[-1]) + 2
    return Document(f"slack://{channel_id}", "\n\n".join(texts), "slack",
                    {"channel": channel_id, "channel_name": channel_name, "messages": offsets})


class SearchPlugin(Plugin):
    name = "search"
    description = "Answers questions from the indexed documents, with their sources."
    Settings = SearchPluginSettings
    training_kind = "sentence-embeddings"
    predict_options = (Option("index", metavar="NAME", help="which index (default: [search] default_index)"),
                       Option("k", type=int, metavar="N", help="hits per query (default: [plugins.search] k)"))

    @classmethod
    def served_model(cls, config: Config, settings: PluginSettings) -> str | None:
        return config.search.embedding_model  # what the indexes embed with: a trained search model replaces it

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()

    def forms(self) -> tuple[Form, ...]:
        """`/index` alone: upload files into an index (Slack sends no files with a slash command)."""
        return (Form("index", title="Index files", submit="Index", runs="in:{index}", inputs=(
            Input("index", "Index", initial=self.search_settings.default_index,
                  hint="the index the files are added to (`/ask in:NAME`)"),
            Input("files", "Files", kind="files",
                  hint="Markdown, text, HTML or PDF; I report in a DM when they are indexed"))),)

    @property
    def search_settings(self) -> SearchSettings:
        return self.config.search  # checked with the whole config at start-up

    def _embedder(self) -> Any:
        return self.model("sentence-transformer", spec=self.search_settings.embedding_model)

    def manager(self) -> IndexManager:
        """The bot's IndexManager (the core builds it on first use); this plugin's embedding model is attached
        before an index is opened."""
        return self.services.indexes

    def open_index(self, name: str | None, *, create: bool = False) -> DocumentIndex:
        """The index to read (it must exist and hold documents) or, with create, to write."""
        manager = self.manager()
        name = name or self.search_settings.default_index
        if not create:
            try:
                manager.require(name)  # no model needed to say an index is missing
            except NoSuchIndex:
                known = ", ".join(f"`{n}`" for n in manager.names()) or "none yet"
                raise UserInputError(f"There is no index named `{escape(name)}` (indexes: {known}). "
                                     + HOW_TO_ADD.format(name=escape(name))) from None
        with self._lock:
            manager.embedder = manager.embedder or self._embedder()
        index = manager.open(name)
        if not create and not index.store.count_chunks():
            raise UserInputError(f"The index `{escape(name)}` is empty. " + HOW_TO_ADD.format(name=escape(name)))
        return index

    def warm_up(self) -> None:
        self._embedder()

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        index = self.open_index(options.get("index"))
        k = int(options.get("k") or self.settings.k)
        return [{"text": text, "hits": [hit.to_dict() for hit in index.search(text, k)]} for text in texts]

    # -- reading ------------------------------------------------------------------------------------
    @command(usage="/ask [in:INDEX] QUESTION [source:GLOB]")
    def ask(self, request: Request) -> Reply:
        """Answer a question from the indexed documents: the sentences that answer it, with their sources."""
        name, filters, question = parse_query(request.text)
        question = require_words(question, usage="/ask [in:INDEX] QUESTION [source:GLOB]")
        index = self.open_index(name)
        filters, readable = self._visible(request, index, filters)
        answer = index.answer(question, k=self.settings.answer_chunks, filters=filters)
        data = {"index": index.name, **answer.to_dict()}
        refs = [{"channel": source_channel(item.source), "ts": item.message_ts} for item in answer.sentences
                if item.message_ts and source_channel(item.source)]
        if refs:  # the adapter links each message the answer quotes
            data["message_refs"] = list({(ref["channel"], ref["ts"]): ref for ref in refs}.values())
        if not answer.found:
            return Reply(text=self._dont_know(index, answer, readable), data=data)
        metadata = {(hit.source, hit.chunk): hit.extra.get("metadata") for hit in answer.hits}
        lines = []
        for item in answer.sentences:
            label = source_label(item.source, metadata.get((item.source, item.chunk)))
            heading = f" › {escape(item.heading)}" if item.heading else ""
            opens = f" · {link(item.link, 'open')}" if item.link else ""
            lines.append(f"{context(item.highlighted, item.sentence)}\n— {label}{heading}{opens} · chunk {item.chunk} "
                         f"· score {item.score:.2f}")
        return Reply(text="\n\n".join(lines), footer=f"From the index `{index.name}`: {escape(question[:200])}", data=data)

    @staticmethod
    def _visible(request: Request, index: DocumentIndex,
                 filters: dict[str, Any] | None) -> tuple[dict[str, Any] | None, set[str]]:
        """The filters plus the channels this person may read: chunks of other channels are cut before the top k."""
        channels = index.store.channels()
        readable = request.conversation.readable(channels)
        if readable >= set(channels):
            return filters, readable  # nothing to hide: no filter, so a large index keeps its fast path
        return {**(filters or {}), "channels": sorted(readable)}, readable

    def _dont_know(self, index: DocumentIndex, answer: Answer, readable: set[str]) -> str:
        sources = [item for item in index.sources() if source_channel(item["source"]) in readable | {None}]
        sample = ", ".join(source_label(item["source"]) for item in sources[:3]) + (", …" if len(sources) > 3 else "")
        text = (f"I don't know: nothing in `{index.name}` answers that closely enough. It holds {len(sources)} "
                f"document{'s' if len(sources) != 1 else ''} ({sample}).")
        if answer.hits:
            closest = answer.hits[0]
            text += (f" The closest passage is in {source_label(closest.source, closest.extra.get('metadata'))}; "
                     f"`/search` lists what comes nearest.")
        return text

    @command("search", usage="/search [in:INDEX] QUERY [source:GLOB]")
    def search_command(self, request: Request) -> Reply:
        """List the passages that match a query best, with their sources and scores."""
        name, filters, query = parse_query(request.text)
        query = require_words(query, usage="/search [in:INDEX] QUERY [source:GLOB]")
        index = self.open_index(name)
        filters, _ = self._visible(request, index, filters)
        hits = index.search(query, self.settings.k, filters)
        if not hits:
            return Reply(text=f"No passage in `{index.name}` matches that" + (" filter." if filters and set(filters) - {"channels"} else "."),
                         data={"index": index.name, "hits": []})
        return Reply(text="\n\n".join(render_hit(rank, hit) for rank, hit in enumerate(hits, start=1)),
                     footer=f"{len(hits)} best of `{index.name}`", data={"index": index.name,
                                                                         "hits": [hit.to_dict() for hit in hits]})

    # -- writing (admins) ---------------------------------------------------------------------------
    @command(usage="/index [in:INDEX] PATH… | #channel [N] | (nothing: a form to upload files)", admin_only=True,
             accepts_empty=True)
    def index(self, request: Request) -> Reply:
        """Add documents to an index: server files under [search] allowed_paths, a channel's messages, or files.

        Files come from the `/index` form or a DM with `index` as the message (Slack sends none with slash commands).
        Indexing a channel needs the asker to be in it, and the channel in [search] channels when that is set.

        A channel becomes one document, `slack://CHANNEL`, replaced by each `/index #channel N`: the index then
        holds the channel's last N messages as of that moment. A shared file becomes `slack://file/ID/NAME`.
        Server paths are checked after resolving `..` and symlinks, file by file; one outside refuses them all.
        """
        name, _, rest = parse_query(request.text)
        if request.files:
            return self._index_files(request, name)
        if rest.startswith("#"):
            if not request.channel_refs:
                raise UserInputError("Pick the channel from Slack's list as you type `#`, so I get its id.")
            return self._index_channel(request, name, rest)
        if rest:
            return self._index_paths(request, name, rest.split())
        raise UserInputError("Tell me what to add: `/index PATH`, `/index #channel [N]`, or files: share them in a "
                             "DM with me with `index` as the message (in Slack, `/index` alone opens a form).")

    def _index_paths(self, request: Request, name: str | None, paths: list[str]) -> Reply:
        resolved = [check_allowed(self.search_settings, path) for path in paths]  # any path outside: nothing is indexed
        entries, _ = discover(resolved, max_file_mb=self.search_settings.max_file_mb)
        for entry in entries:  # a symlink inside an allowed folder may point outside it
            check_allowed(self.search_settings, entry.path)
        index = self.open_index(name, create=True)
        request.responder.send(Reply(text=f"Indexing {len(entries)} file(s) into `{index.name}`…", in_channel=False))
        report = index.add([str(path) for path in resolved])
        return Reply(text=escape(summary(index.name, report, [])), data={"index": index.name, "added": report.added,
                     "updated": report.updated, "removed": report.removed,
                     "problems": [str(problem) for problem in report.problems]})

    def _index_channel(self, request: Request, name: str | None, rest: str) -> Reply:
        channel_id, channel_name = request.channel_refs[0].id, request.channel_refs[0].name
        allowed = self.search_settings.channels
        if allowed and channel_id not in allowed:
            raise UserInputError(f"#{escape(channel_name)} is not among the channels this bot may index "
                                 "([search] channels in config.toml).")
        count = message_count(rest.split(), default=self.settings.history_default, maximum=self.settings.history_max)
        document = channel_document(channel_id, channel_name, request.conversation.history(channel_id, limit=count))
        if not document.text:
            return Reply(text=f"There are no text messages to index in {channel_link(channel_id)}.", in_channel=False)
        index = self.open_index(name, create=True)
        request.responder.send(Reply(text=f"Indexing the last {count} messages of #{escape(channel_name)} into "
                                          f"`{index.name}`…", in_channel=False))
        report = index.add_documents([document])
        return Reply(text=f"Indexed the last {count} messages of {source_label(document.source, document.metadata)} "
                          f"into `{index.name}` ({report.chunks_embedded} chunks embedded). Ask with `/ask in:{index.name} …`.",
                     data={"index": index.name, "source": document.source, "chunks_embedded": report.chunks_embedded})

    def _index_files(self, request: Request, name: str | None) -> Reply:
        usable, problems = indexable(request.files)
        index = self.open_index(name, create=True)
        if usable:
            request.responder.send(Reply(text=f"Downloading {len(usable)} file(s) into `{index.name}`…", in_channel=False))
        with tempfile.TemporaryDirectory(prefix="nlpbot-files-") as folder:
            documents, failed = fetch_documents(usable, Path(folder), max_file_mb=self.search_settings.max_file_mb)
        report = index.add_documents(documents)
        report.problems = problems + failed + report.problems
        if not documents:
            raise UserInputError("Nothing indexed: " + "; ".join(escape(str(problem)) for problem in report.problems))
        return Reply(text=escape(summary(index.name, report, [])),
                     data={"index": index.name, "added": report.added, "updated": report.updated,
                           "problems": [str(problem) for problem in report.problems]})


def context(highlighted: str, sentence: str, *, around: int = 120) -> str:
    """The answering sentence in bold with a little of the text around it, escaped for mrkdwn."""
    marked = f"*{sentence}*"
    at = highlighted.find(marked)
    before, after = (highlighted[:at], highlighted[at + len(marked):]) if at >= 0 else ("", "")
    before, after = " ".join(before.split()), " ".join(after.split())
    before = ("…" + before[-around:]) if len(before) > around else before
    after = (after[:around] + "…") if len(after) > around else after
    bold = "*" + escape(" ".join(sentence.replace("*", "").split())) + "*"
    return ">" + " ".join(part for part in (escape(before), bold, escape(after)) if part)


def render_hit(rank: int, hit: Hit) -> str:
    similarity = hit.extra.get("similarity")
    score = f"score {hit.score:.4f}" + (f" (similarity {similarity:.2f})" if similarity is not None else "")
    snippet = " ".join(hit.text.split())
    snippet = snippet[:300] + ("…" if len(snippet) > 300 else "")
    return f"{rank}. {source_label(hit.source, hit.extra.get('metadata'))} · chunk {hit.chunk} · {score}\n>{escape(snippet)}"
