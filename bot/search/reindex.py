"""Re-indexing as a job: the scheduler's `reindex` action and the admin's `/nlp-admin reindex`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

from bot.search.index import DocumentIndex
from bot.search.manager import IndexManager
from bot.search.planner import AddReport
from bot.search.settings import search_settings

if TYPE_CHECKING:
    from bot.config import Config
    from bot.models import ModelHub


def reindex(config: Config, name: str, *, paths: Sequence[str] = (), hub: ModelHub | None = None) -> str:
    """Add `paths` to index `name` again (default: the files and folders it was built from); one line back.

    Changed and new files are embedded, unchanged ones skipped, files gone from a folder removed. A
    folder that is missing altogether is reported and left in the index: a wrong working directory
    must not empty it.
    """
    settings = search_settings(config)
    if hub is None:
        from bot.models import ModelHub

        hub = ModelHub(config)
    manager = IndexManager(settings, progress=False)
    if not paths:
        manager.require(name)  # re-adding an index's own files needs the index
    manager.embedder = hub.sentence_model(settings.embedding_model, batch_size=settings.batch_size,
                                          what="[search] embedding_model")
    index = manager.open(name)
    try:
        missing: list[str] = []
        if paths:
            roots = list(paths)
        else:
            roots, missing = own_roots(index)
            if not roots and not missing:
                return f"{index.name}: nothing to re-index (it holds no files; Slack messages are re-added with /index)"
        report = index.add(roots) if roots else AddReport()
        return summary(index.name, report, missing)
    finally:
        manager.close()


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
