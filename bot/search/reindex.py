"""Re-indexing as a job: the scheduler's `reindex` action and the admin's `/nlp-admin reindex`."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Sequence

import numpy as np

from bot.search.document_vectors import DocumentEmbedders, variant_of
from bot.search.embedding import embed_texts, model_name
from bot.search.index import DocumentIndex
from bot.search.manager import IndexManager
from bot.search.planner import AddReport
from bot.search.stale import hub_models, is_stale
from bot.search.vectors import VectorIndex
from bot.search.writer import remove_stale_files

if TYPE_CHECKING:
    from bot.config import Config
    from bot.models import ModelHub


def reindex(config: Config, name: str, *, paths: Sequence[str] = (), hub: ModelHub | None = None) -> str:
    """Add `paths` to index `name` again (default: the files and folders it was built from); one line back.

    Changed and new files are embedded, unchanged ones skipped, files gone from a folder removed. A
    folder that is missing altogether is reported and left in the index: a wrong working directory
    must not empty it.
    """
    settings = config.search
    if hub is None:
        from bot.models import ModelHub

        hub = ModelHub(config)
    manager = IndexManager(settings, progress=False)
    if not paths:
        manager.require(name)  # re-adding an index's own files needs the index
    manager.embedder = hub.sentence_model(settings.embedding_model, batch_size=settings.batch_size,
                                          what="[search] embedding_model", runtime=settings.document_runtime)
    manager.documents = DocumentEmbedders(hub, config)
    manager.models = hub_models(hub, config.models_dir, batch_size=settings.batch_size)
    index = manager.open(name)
    try:
        rebuilt = f"; {rebuild(index)} chunks re-embedded with {model_name(index.embedder)}" if stale(index) else ""
        missing: list[str] = []
        if paths:
            roots = list(paths)
        else:
            roots, missing = own_roots(index)
            if not roots and not missing:
                return (f"{index.name}: no files to re-index (Slack messages are re-added with /index)" + rebuilt
                        if rebuilt else
                        f"{index.name}: nothing to re-index (it holds no files; Slack messages are re-added with /index)")
        report = index.add(roots) if roots else AddReport()
        return summary(index.name, report, missing) + rebuilt
    finally:
        manager.close()


def stale(index: DocumentIndex) -> bool:
    """Built by another model than the serving one (a promoted search model, a changed [search] embedding_model)."""
    index.vectors()
    return is_stale(index.built_with, index.embedder)


def rebuild(index: DocumentIndex) -> int:
    """Re-embed every chunk with the serving model and switch to it in one transaction; the chunks embedded.

    Until the switch, searches use the old model with the old vectors. Writes made meanwhile (with the old
    model) are caught up before it: the switch happens only when no write came between reading and switching.
    """
    serving, done = index.documents(None) if index.documents is not None else index.embedder, {}
    while True:
        generation = index.store.generation()
        ids, texts = index.store.all_chunk_texts()  # "heading\ntext": what the chunks were embedded as
        todo = [text for text in dict.fromkeys(texts) if text not in done]
        if todo:
            done.update(zip(todo, embed_texts(serving, todo, batch_size=index.settings.batch_size,
                                              progress=index.progress)))
        with index.writing():
            if index.store.generation() != generation:
                continue
            with index.store.transaction():
                values: dict = {"model": model_name(index.embedder), "document_vectors": variant_of(serving),
                                "updated_at": time.time()}
                if ids:
                    vectors = VectorIndex.empty(len(done[texts[0]]), index.params)
                    stats = vectors.update(remove=[], add_ids=np.asarray(ids, dtype=np.int64),
                                           add_vectors=np.vstack([done[text] for text in texts]))
                    name = f"vectors-{generation + 1}.faiss"
                    values |= {"vectors_file": name, "checksum": vectors.save(index.folder / name), "stats": stats,
                               "dim": vectors.dim}
                index.store.set_meta(generation=generation + 1, **values)
            remove_stale_files(index.store, index.folder)
            return len(ids)


def own_roots(index: DocumentIndex) -> tuple[list[str], list[str]]:
    """The roots to add again (a vanished file among them, so it is removed), and the folders that are gone."""
    present, missing = [], []
    for root, kind in index.roots().items():
        (present if os.path.exists(root) or kind == "file" else missing).append(root)
    return present, missing


def summary(name: str, report: AddReport, missing: list[str]) -> str:
    problems = [str(problem) for problem in report.problems] + [f"{root}: not found, left as it was" for root in missing]
    line = (f"{name}: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.removed)} removed, {len(problems)} problems")
    if problems:
        line += f" ({'; '.join(problems[:3])}{'; …' if len(problems) > 3 else ''})"
    return line
