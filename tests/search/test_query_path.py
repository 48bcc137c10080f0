"""The per-generation keyword index also answers the pooled chunks' sources: a write, here or in another process, makes it fresh."""

from __future__ import annotations

from bot.search import Document

TEXT = "Deploys happen on Tuesdays after the standup, never on Fridays."


def sources(index, query: str = "when do deploys happen") -> set[str]:
    return set(index.candidates(query, 5).sources)


def test_the_pooled_chunks_sources_follow_a_write(tmp_path, make_manager):
    index = make_manager().open("team")
    index.add_documents([Document("notes/old.md", TEXT)])
    assert sources(index) == {"notes/old.md"}

    index.remove(["notes/old.md"])
    index.add_documents([Document("notes/new.md", TEXT)])  # same text, so the same chunk text under a new source

    assert sources(index) == {"notes/new.md"}
    assert [hit.source for hit in index.search("when do deploys happen", k=3)] == ["notes/new.md"]


def test_a_write_by_another_process_reaches_a_reader_that_already_searched(tmp_path, make_manager):
    reader = make_manager().open("team")
    writer = make_manager().open("team")  # its own connection and caches, like a second process
    writer.add_documents([Document("notes/a.md", TEXT)])
    assert sources(reader) == {"notes/a.md"}

    writer.add_documents([Document("notes/b.md", "The cafeteria serves lunch from noon; deploys pause for it.")])
    writer.remove(["notes/a.md"])

    assert sources(reader) == {"notes/b.md"}
    assert {hit.source for hit in reader.search("deploys", k=5, mode="keyword")} == {"notes/b.md"}
