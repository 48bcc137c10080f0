"""Re-adding: unchanged files cost nothing, changed files replace their chunks, gone files leave the index."""

from __future__ import annotations

import os

from bot.search import Document

from tests.support.documents import write_files


def sources_found(index, query: str) -> list[str]:
    return [hit.source for hit in index.search(query, k=10)]


def test_re_adding_unchanged_files_calls_no_model(corpus, make_manager, embedder):
    index = make_manager().open()
    first = index.add(["handbook", "guides"])
    assert sorted(first.added) == sorted(["handbook/accounts.md", "handbook/lunch.md", "handbook/travel.txt",
                                          "guides/garden.html", "guides/bread.md"])
    calls, generation = embedder.calls, index.stats()["generation"]

    again = index.add(["handbook", "guides"])
    assert embedder.calls == calls
    assert len(again.unchanged) == 5 and not again.added and not again.updated
    assert index.stats()["generation"] == generation

    os.utime("handbook/lunch.md")  # touched, same content: still no embedding
    assert index.add(["handbook"]).unchanged and embedder.calls == calls


def test_a_changed_file_replaces_its_chunks(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook"])
    chunks_before = index.stats()["chunks"]

    write_files(corpus, {"handbook/lunch.md": "# Cafeteria\n\nThe cafeteria is closed for renovation until March; "
                                             "bring a packed lunch or use the food trucks outside."})
    report = index.add(["handbook"])
    assert report.updated == ["handbook/lunch.md"]
    assert index.stats()["chunks"] == chunks_before
    top = index.search("is the cafeteria open?", k=1)[0]
    assert top.source == "handbook/lunch.md" and "renovation" in top.text
    assert not any("green leaf" in hit.text for hit in index.search("vegetarian dishes green leaf", k=10))


def test_editing_one_section_embeds_only_that_chunk(corpus, make_manager, embedder):
    index = make_manager(chunk_tokens=40, chunk_overlap=0).open()
    sections = "\n\n".join(f"# Part {n}\n\nParagraph number {n} talks about topic {n} in a few plain words." for n in range(6))
    write_files(corpus, {"long.md": sections})
    assert index.add(["long.md"]).chunks_embedded == 6

    write_files(corpus, {"long.md": sections.replace("topic 3", "volcanoes")})
    calls = embedder.calls
    report = index.add(["long.md"])
    assert report.updated == ["long.md"] and report.chunks_embedded == 1 and embedder.calls == calls + 1
    assert index.search("volcanoes", k=1)[0].extra["heading"] == "Part 3"


def test_remove_and_vanished_files_delete_their_chunks(corpus, make_manager):
    index = make_manager().open()
    index.add(["handbook", "guides"])

    assert index.remove(["guides/bread.md"]) == ["guides/bread.md"]
    assert "guides/bread.md" not in sources_found(index, "sourdough starter")

    os.remove("handbook/travel.txt")
    report = index.add(["handbook"])
    assert report.removed == ["handbook/travel.txt"] and not report.problems
    assert [source["source"] for source in index.sources()] == ["guides/garden.html", "handbook/accounts.md",
                                                                 "handbook/lunch.md"]
    assert index.remove(["handbook"]) == ["handbook/accounts.md", "handbook/lunch.md"]
    assert index.stats()["chunks"] == index.stats()["vectors"] == 1


def test_virtual_documents_are_incremental_too(tmp_path, make_manager, embedder):
    index = make_manager().open("slack")
    messages = [Document("slack/C1/2024-05-01", "The offsite is in Lisbon on June 12."),
                Document("slack/C1/2024-05-02", "Remember to submit expense reports by Friday.")]
    assert len(index.add_documents(messages).added) == 2
    calls = embedder.calls
    assert len(index.add_documents(messages).unchanged) == 2 and embedder.calls == calls
    assert index.search("where is the offsite?", k=1)[0].source == "slack/C1/2024-05-01"


def test_several_named_indexes_are_separate(corpus, make_manager):
    manager = make_manager()
    manager.open("handbook").add(["handbook"])
    manager.open("guides").add(["guides"])
    assert manager.names() == ["guides", "handbook"]
    assert {hit.source for hit in manager.open("guides").search("password", k=10)} <= {"guides/garden.html", "guides/bread.md"}
