"""Named indexes under [search] indexes_dir: open, list, and the one embedder they share."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading

from bot.config import Config, SearchSettings
from bot.search.document_vectors import DocumentEmbedders, Documents
from bot.search.embedding import Embedder
from bot.search.errors import IndexBusy, NoSuchIndex
from bot.search.index import DocumentIndex
from bot.search.stale import Models, hub_models
from bot.errors import UserInputError

INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class IndexManager:
    """Opens each named index once and hands it out; the embedder comes from the caller (the model hub).

    Example::

        embed = ModelHub(config).sentence_model(config.search.embedding_model, batch_size=64)
        manager = IndexManager(config, embed)
        manager.open().add(["docs/"])
        manager.open().search("reset password", k=5)
    """

    def __init__(self, config: Config | SearchSettings, embedder: Embedder | None = None, *,
                 progress: bool | None = None, models: Models | None = None, documents: Documents | None = None) -> None:
        self.settings = config if isinstance(config, SearchSettings) else config.search
        self.embedder = embedder
        self.models = models  # loads the model an index was built with, while it differs from the serving one
        self.documents = documents  # what chunks are embedded with (default: the embedder)
        self.progress = progress
        self._open: dict[str, DocumentIndex] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        folder = self.settings.indexes_dir
        if not folder.is_dir():
            return []
        return sorted(path.name for path in folder.iterdir()
                      if not path.name.startswith(".") and (path / "chunks.sqlite").exists()
                      and INDEX_NAME.match(path.name))

    def require(self, name: str | None = None) -> None:
        """Raise NoSuchIndex, naming the indexes there are, unless `name` has been built."""
        name = self._valid_name(name)
        if not (self.settings.indexes_dir / name / "chunks.sqlite").exists():
            known = ", ".join(self.names()) or "none yet"
            raise NoSuchIndex(f"no index named {name!r} (indexes: {known}); build it with `nlpbot index add`")

    def open(self, name: str | None = None, *, create: bool = True) -> DocumentIndex:
        """The index called `name` (default: [search] default_index); create=False refuses a missing one."""
        name = self._valid_name(name)
        with self._lock:
            if name in self._open and not (self._open[name].folder / "chunks.sqlite").exists():
                self._open.pop(name).close()  # dropped since (by another process): never answer from a ghost
            if name not in self._open:
                folder = self.settings.indexes_dir / name
                if not create:
                    self.require(name)
                self._open[name] = DocumentIndex(folder, settings=self.settings, embedder=self.embedder,
                                                 progress=self.progress, models=self.models, documents=self.documents)
            return self._open[name]

    def drop(self, name: str | None) -> None:
        """Delete an index, files and all; IndexBusy while a write (here or in another process) holds its lock."""
        name = self._valid_name(name)
        self.require(name)
        folder = self.settings.indexes_dir / name
        with open(folder / "write.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusy(f"index {name!r} is being written (an `index add` or a re-index holds its lock); "
                                "drop it when that is done") from None
            with self._lock:
                if name in self._open:
                    self._open.pop(name).close()
            trash = folder.with_name(f".{name}.dropped-{os.getpid()}")
            os.replace(folder, trash)  # gone from every listing at once; deleting the files may take longer
        shutil.rmtree(trash, ignore_errors=True)

    def _valid_name(self, name: str | None) -> str:
        name = name or self.settings.default_index
        if not INDEX_NAME.match(name):
            raise UserInputError(f"{name!r} is not an index name: use letters, digits, '-', '_' and '.'")
        return name

    def close(self) -> None:
        with self._lock:
            for index in self._open.values():
                index.close()
            self._open.clear()


def attach_models(manager: IndexManager, config: Config, *, runtime: str | None = None) -> IndexManager:
    """MANAGER with the [search] embedding model from a model hub of its own, that hub's loader for an index
    built with another model, and the document embedders: what a command that embeds needs (the search plugin
    uses the bot's hub instead). Documents are embedded on [search] document_runtime; the query model on it too
    unless `runtime` says otherwise (`nlpbot search` embeds on the runtime /search uses), so that one fp32 model
    serves both (the hub loads each once)."""
    from bot.models import ModelHub

    hub = ModelHub(config)
    manager.documents = DocumentEmbedders(hub, config)
    manager.embedder = hub.sentence_model(
        manager.settings.embedding_model, batch_size=manager.settings.batch_size, what="[search] embedding_model",
        runtime=runtime or manager.settings.document_runtime)
    manager.models = hub_models(hub, config.models_dir, batch_size=manager.settings.batch_size)
    return manager
