"""Searching a small corpus: the right document first, hybrid retrieval, filters, answers."""

from __future__ import annotations

import pytest

from bot.errors import UserInputError
from bot.search import Document

from tests.support.documents import write_files


def test_search_finds_the_document_that_answers(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook", "guides"])

    assert index.search("how can I change my forgotten password?", k=3)[0].source == "handbook/accounts.md"
    assert index.search("when can I eat lunch at work", k=3)[0].source == "handbook/lunch.md"
    top = index.search("how often should I water tomatoes", k=3)[0]
    assert top.source == "guides/garden.html"
    assert top.extra["heading"] == "Watering tomatoes"
    assert "tracking" not in top.text  # scripts are not text


def test_hits_are_best_first_and_have_the_json_shape(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook"])

    hits = [hit.to_dict() for hit in index.search("baking bread", k=10)]
    assert {"source", "chunk", "score", "text"} <= set(hits[0])
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    assert all(isinstance(hit["chunk"], int) and isinstance(hit["score"], float) for hit in hits)


def test_hybrid_finds_exact_identifiers_that_dense_search_misses(tmp_path, monkeypatch, make_manager):
    monkeypatch.chdir(tmp_path)
    codes = ["INC40917", "INC73215", "INC18264", "INC95530", "INC26078", "INC61349", "INC84702", "INC37891"]
    parts = ["disk", "network card", "power supply", "memory module", "fan", "keyboard", "display", "battery"]
    write_files(tmp_path, {
        f"tickets/{code}.txt": f"Incident summary. The {part} of a laptop in the office failed during the weekly backup "
        f"and the machine was sent to the repair desk. The technician replaced the {part}, ran the diagnostics twice "
        f"and returned the laptop to its owner the next morning. Reference {code}. No data was lost."
        for code, part in zip(codes, parts)})
    index = make_manager().open()
    index.add(["tickets"])

    def mean_reciprocal_rank(mode: str) -> float:
        ranks = [[hit.source for hit in index.search(code, k=8, mode=mode)].index(f"tickets/{code}.txt") + 1
                 for code in codes]
        return sum(1 / rank for rank in ranks) / len(ranks)

    assert mean_reciprocal_rank("hybrid") == 1.0
    assert mean_reciprocal_rank("dense") < 0.9  # the identifier is a small part of long, similar texts


def test_filters_apply_before_the_top_k_cut(corpus, make_manager):
    index = make_manager(candidates=2).open()  # only 2 candidates per retriever: a filter after the cut finds nothing
    index.add(["handbook", "guides"])

    hits = index.search("password reset link", k=2, filters={"source": "guides/*"})
    assert len(hits) == 2 and {hit.source for hit in hits} == {"guides/garden.html", "guides/bread.md"}
    assert [hit.source for hit in index.search("password", k=5, filters={"source": "guides/bread"})] == ["guides/bread.md"]


def test_metadata_filters_on_virtual_documents(tmp_path, make_manager):
    index = make_manager().open("slack")
    index.add_documents([
        Document("slack/C1/1700000000.1", "Deploys happen on Tuesdays after the standup.", metadata={"channel": "C1"}),
        Document("slack/C2/1700000000.2", "Deploys are frozen during the holidays.", metadata={"channel": "C2"}),
    ])

    hits = index.search("when do deploys happen", k=5, filters={"metadata": {"channel": "C2"}})
    assert [hit.source for hit in hits] == ["slack/C2/1700000000.2"]
    with pytest.raises(UserInputError, match="unknown search filter"):
        index.search("deploys", filters={"channel": "C2"})


def test_answer_highlights_the_sentence_and_names_its_source(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook", "guides"])

    answer = index.answer("How long is the password reset link valid?")
    assert answer.found
    assert answer.sentences[0].source == "handbook/accounts.md"
    assert "expires after one hour" in answer.sentences[0].sentence
    assert "*A reset link is emailed to you and expires after one hour.*" in answer.sentences[0].highlighted
    assert "handbook/accounts.md" in answer.text


def test_answer_says_it_does_not_know(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook", "guides"])

    answer = index.answer("What is the population of Mongolia?")
    assert not answer.found
    assert answer.text.startswith("I don't know")


def test_an_empty_query_is_a_user_error(corpus, make_manager):
    index = make_manager().open()
    index.add(["guides"])
    with pytest.raises(UserInputError, match="empty"):
        index.search("   ")
