"""Document search: load, chunk, embed and index files; hybrid dense + keyword retrieval; answers with sources."""

from __future__ import annotations

import importlib
from typing import Any

# name -> module; imported on first use, so `nlpbot ask` (whose command line includes bot.cli.index) does not
# load FAISS and the index code at start-up (measured: 0.4 s of a 2 s start).
_EXPORTS = {
    "Answer": "answer", "AnswerSentence": "answer", "Hit": "hybrid", "DocumentIndex": "index", "Document": "loaders",
    "Problem": "loaders", "IndexManager": "manager", "AddReport": "planner", "SearchSettings": "settings",
    "check_allowed": "settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bot.search' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.search.{_EXPORTS[name]}"), name)
