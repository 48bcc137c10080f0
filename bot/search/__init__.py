"""Document search: load, chunk, embed and index files; hybrid dense + keyword retrieval; answers with sources."""

from bot.search.answer import Answer, AnswerSentence
from bot.search.hybrid import Hit
from bot.search.index import DocumentIndex
from bot.search.loaders import Document, Problem
from bot.search.manager import IndexManager
from bot.search.planner import AddReport
from bot.search.settings import SearchSettings, check_allowed, search_settings

__all__ = [
    "AddReport", "Answer", "AnswerSentence", "Document", "DocumentIndex", "Hit", "IndexManager", "Problem",
    "SearchSettings", "check_allowed", "search_settings",
]
