"""Working out what an add or remove changes: new, changed, unchanged and vanished sources."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.search.chunker import Chunk
from bot.search.loaders import Document, LoadError, Problem, discover, read_entry
from bot.search.store import SourceRow

if TYPE_CHECKING:
    from bot.search.index import DocumentIndex


@dataclass
class AddReport:
    """What one add did, by source; `problems` are the files that could not be indexed and why."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    chunks_embedded: int = 0

    @property
    def indexed(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)


@dataclass(frozen=True)
class Pending:
    """A source to (re)write: its row, its chunks, and unchanged chunks whose vectors are kept (position -> id)."""

    row: SourceRow
    chunks: list[Chunk]
    reused: dict[int, int]


def add_paths(index: DocumentIndex, paths: list[str], *, remove_vanished: bool) -> AddReport:
    entries, problems = discover(paths, max_file_mb=index.settings.max_file_mb)
    known_roots = roots(index)  # before this add: a new index has none yet
    known = index.store.sources()
    report = AddReport()
    gone = _vanished(paths, {entry.source for entry in entries}, known) if remove_vanished else []
    report.problems = [problem for problem in problems if not any(_under(source, problem.source) for source in gone)]
    pending, touch = [], []
    for entry in entries:
        old = known.get(entry.source)
        if old and (old.mtime, old.size) == (entry.mtime, entry.size):
            report.unchanged.append(entry.source)
            continue
        try:
            document = read_entry(entry)
        except LoadError as exc:
            report.problems.append(Problem(entry.source, str(exc)))
            continue
        row = SourceRow(entry.source, content_hash(document), entry.mtime, entry.size, entry.kind, time.time())
        _plan(index, document, row, old, report, pending, touch)
    report.removed = gone
    report.chunks_embedded = index.commit(delete=gone, pending=pending, touch=touch)
    _remember_roots(index, paths, known_roots)
    return report


def add_documents(index: DocumentIndex, documents: list[Document]) -> AddReport:
    known = index.store.sources()
    report = AddReport()
    pending: list[Pending] = []
    for document in documents:
        if not document.source.strip():
            report.problems.append(Problem(repr(document.source), "a document needs a source name"))
        elif not document.text.strip():
            report.problems.append(Problem(document.source, "no text in it"))
        else:
            row = SourceRow(document.source, content_hash(document), None, None, document.kind, time.time())
            _plan(index, document, row, known.get(document.source), report, pending, [])
    report.chunks_embedded = index.commit(delete=[], pending=pending, touch=[])
    return report


def remove_sources(index: DocumentIndex, names: list[str]) -> list[str]:
    known = index.store.sources()
    removed = [source for source in known if any(_under(source, name) for name in names)]
    index.commit(delete=removed, pending=[], touch=[])
    kept = {root: kind for root, kind in roots(index).items() if not any(_under(root, name) for name in names)}
    index.store.set_meta(roots=kept)
    return removed


def roots(index: DocumentIndex) -> dict[str, str]:
    """The files and folders the index was built from (path as added -> "file" | "folder").

    Indexes written before roots were recorded: the folders holding their files.
    """
    meta = index.store.meta()
    if "roots" in meta:
        return meta["roots"]
    files = [source for source, row in index.store.sources().items() if row.mtime is not None]
    found = {os.path.dirname(source): "folder" for source in files if os.path.dirname(source)}
    found.update({source: "file" for source in files if not os.path.dirname(source)})  # never "." (all of the cwd)
    return {root: kind for root, kind in found.items()
            if not any(_under(root, other) for other in found if other != root)}


def _remember_roots(index: DocumentIndex, paths: list[str], known: dict[str, str]) -> None:
    for path in paths:
        name = os.path.normpath(path)
        if os.path.exists(path):
            known[name] = "folder" if os.path.isdir(path) else "file"
        elif known.get(name) == "file":
            del known[name]  # a vanished file: add_paths has just removed it from the index
    index.store.set_meta(roots=known)


def _plan(index: DocumentIndex, document: Document, row: SourceRow, old: SourceRow | None,
          report: AddReport, pending: list[Pending], touch: list[SourceRow]) -> None:
    if old and old.content_hash == row.content_hash:
        touch.append(row)
        report.unchanged.append(row.source)
        return
    chunks = index.chunker.split(document)
    if not chunks:
        report.problems.append(Problem(row.source, "no text to index (only headings?)"))
        return
    existing = index.store.chunk_hashes_of(row.source) if old else {}
    reused = {chunk.position: existing[chunk.hash] for chunk in chunks if chunk.hash in existing}
    pending.append(Pending(row, chunks, reused))
    (report.updated if old else report.added).append(row.source)


def _vanished(paths: list[str], found: set[str], known: dict) -> list[str]:
    """Indexed sources under the given folders (or given files) that are no longer on disk."""
    gone = []
    for source, row in known.items():
        if row.mtime is None or source in found:
            continue
        if any(_under(source, path) for path in paths if os.path.isdir(path) or not os.path.exists(path)):
            gone.append(source)
    return gone


def _under(source: str, name: str) -> bool:
    name = os.path.normpath(name)
    return source == name or source.startswith(name.rstrip(os.sep) + os.sep)


def content_hash(document: Document) -> str:
    payload = json.dumps([document.text, document.metadata], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
