"""What an add or remove would change, worked out without writing: a Plan for DocumentIndex to apply."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from bot.search.chunker import Chunk
from bot.search.loaders import Document, FileEntry, LoadError, Problem, read_entry
from bot.search.store import SourceRow

Split = Callable[[Document], list[Chunk]]


@dataclass(frozen=True)
class NewSource:
    """A source to (re)write: its row and all its chunks."""

    row: SourceRow
    chunks: list[Chunk]


@dataclass
class Plan:
    """Sources to add, replace and remove; `skip` is unchanged (`touch`: same text, new mtime/size to record).

    `roots` is what the index was built from after this write (None: as it was).
    """

    add: list[NewSource] = field(default_factory=list)
    replace: list[NewSource] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    touch: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roots: dict[str, str] | None = None

    def batches(self, chunks: int) -> Iterator[Plan]:
        """This plan as consecutive plans of about `chunks` chunks each, every source whole in one of them.

        The first carries the removals, touches and roots, so a run killed after it has recorded what it
        was adding (`nlpbot index add` again, or a re-index, picks up the rest).
        """
        first = Plan(remove=self.remove, touch=self.touch, roots=self.roots)
        current, size = first, 0
        for item, replace in [(item, False) for item in self.add] + [(item, True) for item in self.replace]:
            if size and size + len(item.chunks) > chunks:
                yield current
                current, size = Plan(), 0
            (current.replace if replace else current.add).append(item)
            size += len(item.chunks)
        yield current

    def report(self, chunks_embedded: int) -> AddReport:
        return AddReport([item.row.source for item in self.add], [item.row.source for item in self.replace],
                         list(self.skip), list(self.remove), list(self.problems), chunks_embedded)


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


def plan_paths(paths: list[str], entries: list[FileEntry], problems: list[Problem], known: dict[str, SourceRow], *,
               roots: dict[str, str], split: Split, remove_vanished: bool = True) -> Plan:
    """Files found on disk (`entries`, from `discover(paths)`) against the index's rows (`known`).

    Unchanged mtime and size: skipped unread. A read file whose text is the same: only its mtime and size recorded.
    """
    plan = Plan()
    plan.remove = _vanished(paths, {entry.source for entry in entries}, known) if remove_vanished else []
    plan.problems = [problem for problem in problems if not any(_under(source, problem.source) for source in plan.remove)]
    for entry in entries:
        old = known.get(entry.source)
        if old and (old.mtime, old.size) == (entry.mtime, entry.size):
            plan.skip.append(entry.source)
            continue
        try:
            document, partial = read_entry(entry)
        except LoadError as exc:
            plan.problems.append(Problem(entry.source, str(exc)))
            continue
        if partial is not None:
            plan.problems.append(partial)
        row = SourceRow(entry.source, content_hash(document), entry.mtime, entry.size, entry.kind, time.time())
        _plan_source(plan, document, row, old, split)
    plan.roots = _roots_after_add(paths, dict(roots))
    return plan


def plan_documents(documents: list[Document], known: dict[str, SourceRow], *, split: Split) -> Plan:
    """Virtual documents (channel history, shared files): the same source name and text is no work."""
    plan = Plan()
    for document in documents:
        if not document.source.strip():
            plan.problems.append(Problem(repr(document.source), "a document needs a source name"))
        elif not document.text.strip():
            plan.problems.append(Problem(document.source, "no text in it"))
        else:
            row = SourceRow(document.source, content_hash(document), None, None, document.kind, time.time())
            _plan_source(plan, document, row, known.get(document.source), split, touch=False)
    return plan


def plan_removal(names: list[str], known: dict[str, SourceRow], *, roots: dict[str, str]) -> Plan:
    """Remove sources by name, or every source under a folder; roots under them are forgotten."""
    return Plan(remove=[source for source in known if any(_under(source, name) for name in names)],
                roots={root: kind for root, kind in roots.items() if not any(_under(root, name) for name in names)})


def roots_of(meta: dict, known: dict[str, SourceRow]) -> dict[str, str]:
    """The files and folders the index was built from (path as added -> "file" | "folder").

    Indexes written before roots were recorded: the folders holding their files.
    """
    if "roots" in meta:
        return meta["roots"]
    files = [source for source, row in known.items() if row.mtime is not None]
    found = {os.path.dirname(source): "folder" for source in files if os.path.dirname(source)}
    found.update({source: "file" for source in files if not os.path.dirname(source)})  # never "." (all of the cwd)
    return {root: kind for root, kind in found.items()
            if not any(_under(root, other) for other in found if other != root)}


def _roots_after_add(paths: list[str], roots: dict[str, str]) -> dict[str, str]:
    for path in paths:
        name = os.path.normpath(path)
        if os.path.exists(path):
            roots[name] = "folder" if os.path.isdir(path) else "file"
        elif roots.get(name) == "file":
            del roots[name]  # a vanished file: this plan removes it from the index
    return roots


def _plan_source(plan: Plan, document: Document, row: SourceRow, old: SourceRow | None, split: Split, *,
                 touch: bool = True) -> None:
    if old and old.content_hash == row.content_hash:
        if touch:
            plan.touch.append(row)
        plan.skip.append(row.source)
        return
    chunks = split(document)
    if not chunks:
        plan.problems.append(Problem(row.source, "no text to index (only headings?)"))
        return
    (plan.replace if old else plan.add).append(NewSource(row, chunks))


def _vanished(paths: list[str], found: set[str], known: dict[str, SourceRow]) -> list[str]:
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
