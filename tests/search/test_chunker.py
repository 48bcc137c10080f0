"""Chunks: within the token budget by the model's own tokenizer, overlapping, cut at paragraphs, under their heading."""

from __future__ import annotations

from bot.search.chunker import Chunker, message_at
from bot.search.loaders import Document

PARAGRAPHS = [f"Paragraph {p}: " + " ".join(["the quick brown fox jumps over the lazy dog"] * 4) + "." for p in range(6)]
TEXT = "Preface before any heading.\n\n# Setup\n\n" + "\n\n".join(PARAGRAPHS) + "\n\n## Usage\n\nRun the tool."


def test_chunks_respect_the_budget_headings_and_paragraphs(model_handle):
    tokenizer = model_handle.tokenizer
    chunker = Chunker(tokenizer=tokenizer, chunk_tokens=120, overlap=20)
    chunks = chunker.split(Document("guide.md", TEXT))

    assert [chunk.heading for chunk in chunks][0] == "" and chunks[-1].heading == "Usage"
    assert chunks[-1].text == "Run the tool."
    setup = [chunk for chunk in chunks if chunk.heading == "Setup"]
    assert len(setup) >= 2
    for chunk in chunks:
        assert len(tokenizer(chunk.embed_text, add_special_tokens=False)["input_ids"]) <= 120
        assert TEXT[chunk.start:chunk.end] == chunk.text
    assert setup[0].text.endswith("lazy dog.")  # cut at a paragraph end, not mid-paragraph
    assert not any(chunk.text.endswith(("la", "qu", "jum")) for chunk in chunks)
    assert setup[1].start < setup[0].end  # consecutive chunks overlap
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))


def test_a_long_paragraph_is_cut_between_words_not_inside_one(model_handle):
    text = " ".join(f"zorbulation{i}" for i in range(200))  # several word pieces per word, no sentence end
    chunks = Chunker(tokenizer=model_handle.tokenizer, chunk_tokens=50, overlap=10).split(Document("x.txt", text))
    assert len(chunks) > 3
    assert all(text[chunk.end:chunk.end + 1] in {"", " "} and text[chunk.start - 1:chunk.start] in {"", " "}
               for chunk in chunks[:-1])


def test_word_fallback_without_a_tokenizer():
    chunks = Chunker(chunk_tokens=20, overlap=5).split(Document("notes.txt", " ".join(f"w{i}" for i in range(50))))
    assert [len(chunk.text.split()) for chunk in chunks] == [20, 20, 20]
    assert chunks[1].text.split()[0] == "w15"
    assert len({chunk.hash for chunk in chunks}) == 3


def test_each_chunk_of_a_channel_knows_which_message_each_of_its_characters_came_from():
    messages = [f"Message number {n} says the build {n} passed on the first try." for n in range(30)]
    offsets, at = [], 0
    for n, text in enumerate(messages):
        offsets.append([at, f"1700000{n:03d}.000100"])
        at += len(text) + 2
    document = Document("slack://C1", "\n\n".join(messages), "slack", {"channel": "C1", "messages": offsets})
    chunks = Chunker(chunk_tokens=40, overlap=8).split(document)
    assert len(chunks) > 3
    for chunk in chunks:
        for n, text in enumerate(messages):
            where = chunk.text.find(f"build {n} passed")
            if where >= 0:
                assert message_at(chunk.metadata, where) == f"1700000{n:03d}.000100"
    assert max(len(chunk.metadata["messages"]) for chunk in chunks) < len(messages)  # each keeps only its own
