"""/translate: the source language is detected, a pair model or a multilingual model translates."""

from __future__ import annotations

import io
import json

import pytest

from bot.engines.stream import predict_stream

ENGLISH = "The weather is lovely today and the train is late again."
GERMAN = "Der Ausschuss hat am Montag über den Haushalt der neuen Bibliothek beraten."
FRENCH = "Le comité s'est réuni lundi pour discuter du budget de la nouvelle bibliothèque."


@pytest.fixture(scope="module")
def pair_bot(bot_for, tiny_seq2seq):
    return bot_for(f"""
        [plugins.translate]
        default_target = "en"
        languages = ["en", "de", "fr"]
        max_length = 16
        num_beams = 1
        [plugins.translate.models]
        "en-de" = "{tiny_seq2seq}"
        "de-en" = "{tiny_seq2seq}"
    """)


@pytest.fixture(scope="module")
def nllb_bot(bot_for, tiny_multilingual):
    return bot_for(f"""
        [plugins.translate]
        languages = ["en", "de", "fr"]
        multilingual_model = "{tiny_multilingual}"
        multilingual_family = "nllb"
        max_length = 16
        num_beams = 1
    """)


def test_to_lang_picks_the_target_and_the_pair_model(pair_bot, tiny_seq2seq):
    reply = pair_bot.ask(f"/translate to de {ENGLISH}")
    assert not reply.is_error, reply.text
    assert reply.data["source_lang"] == "en" and reply.data["target_lang"] == "de"
    assert reply.data["text"] == ENGLISH
    assert reply.data["translation"].strip()
    assert dict(reply.fields) == {"From": "English (en)", "To": "German (de)"}
    assert reply.footer == str(tiny_seq2seq)


def test_without_to_the_default_target_is_used(pair_bot):
    reply = pair_bot.ask(f"/translate {GERMAN}")
    assert (reply.data["source_lang"], reply.data["target_lang"]) == ("de", "en")


def test_the_target_can_be_named_in_english(pair_bot):
    assert pair_bot.ask(f"/translate to German {ENGLISH}").data["target_lang"] == "de"


@pytest.mark.parametrize("text, lang", [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")])
def test_the_source_language_is_detected_offline(pair_bot, text, lang):
    assert pair_bot.bot.plugins["translate"].detect(text) == lang


def test_an_unsupported_pair_lists_what_is_available(pair_bot):
    reply = pair_bot.ask(f"/translate to de {FRENCH}")
    assert reply.is_error
    assert "This looks like French (fr)" in reply.text
    assert "can't translate French (fr) to German (de)" in reply.text
    assert "Available: de → en; en → de" in reply.text


def test_text_already_in_the_target_language_is_not_translated(pair_bot):
    reply = pair_bot.ask(f"/translate to en {ENGLISH}")
    assert not reply.is_error
    assert "already in English" in reply.text
    assert reply.data["translation"] == ENGLISH


@pytest.mark.parametrize("text, expected", [
    ("/translate", "needs some text"),
    ("/translate to de", "Give me some text"),
    ("/translate to klingon hello there", "I don't know the language 'klingon'"),
    ("/translate 42 + 17 = 59 !!!", "doesn't look like text"),
    ("/translate " + "word " * 5000, "takes at most 20,000"),
])
def test_bad_requests_get_a_clear_reply(pair_bot, text, expected):
    reply = pair_bot.ask(text)
    assert reply.is_error
    assert expected in reply.text


def test_a_multilingual_model_gets_its_own_language_codes(nllb_bot):
    plugin = nllb_bot.bot.plugins["translate"]
    assert plugin.route("en", "fr")[2:] == ("eng_Latn", "fra_Latn")
    reply = nllb_bot.ask(f"/translate to French {GERMAN}")
    assert not reply.is_error, reply.text
    assert (reply.data["source_lang"], reply.data["target_lang"]) == ("de", "fr")
    assert reply.data["translation"].strip()


def test_codes_the_multilingual_tokenizer_lacks_are_named(bot_for, tiny_multilingual):
    bot = bot_for(f"""
        [plugins.translate]
        languages = ["en", "de"]
        multilingual_model = "{tiny_multilingual}"
        multilingual_family = "m2m100"
        num_beams = 1
    """)
    reply = bot.ask(f"/translate {GERMAN}")
    assert reply.is_error
    assert "no language code 'de'" in reply.text  # m2m100 writes "de", this NLLB tokenizer knows deu_Latn


def test_a_language_code_table_overrides_the_family_codes(bot_for, tiny_multilingual):
    bot = bot_for(f"""
        [plugins.translate]
        languages = ["en", "de"]
        multilingual_model = "{tiny_multilingual}"
        multilingual_family = "m2m100"
        language_codes = {{ en = "eng_Latn", de = "deu_Latn" }}
        max_length = 8
        num_beams = 1
    """)
    reply = bot.ask(f"/translate {GERMAN}")
    assert not reply.is_error, reply.text


def test_the_shipped_offline_config_says_how_to_add_a_model():
    from tests.support.bots import ROOT, TestBot

    reply = TestBot(ROOT / "config.toml").ask(f"/translate {GERMAN}")
    assert reply.is_error
    assert "This looks like German (de)" in reply.text
    assert "No translation model is configured" in reply.text
    assert '"de-en" = "Helsinki-NLP/opus-mt-de-en"' in reply.text
    assert "multilingual_model" in reply.text
    assert "Traceback" not in reply.text


def test_a_pair_model_that_cannot_load_gets_a_clear_reply(bot_for, tmp_path):
    bot = bot_for(f"""
        [plugins.translate.models]
        "de-en" = "{tmp_path}"
    """)
    reply = bot.ask(f"/translate {GERMAN}")
    assert reply.is_error
    assert 'plugins.translate.models."de-en": could not load' in reply.text


@pytest.mark.parametrize("body, expected", [
    ('[plugins.translate.models]\n"english-german" = "x"\n', "not a pair of ISO 639-1 codes"),
    ('[plugins.translate]\ndefault_target = "xx"\n', "not an ISO 639-1 language code"),
    ('[plugins.translate]\nmodel = "x"\n', "use models"),
])
def test_translate_settings_are_checked_at_start_up(make_config, body, expected):
    from bot.config import load_config
    from bot.core import Nlpbot
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match=expected):
        Nlpbot(load_config(make_config(body)))


def test_nlpbot_predict_translate_to_a_target(pair_bot):
    out = io.StringIO()
    lines = [json.dumps({"text": ENGLISH}), GERMAN, FRENCH]
    predict_stream(pair_bot.bot, "translate", lines, out, options={"to": "de"})
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["source_lang"], r["target_lang"]) for r in rows] == [("en", "de"), ("de", "de"), ("fr", "de")]
    assert rows[0]["translation"].strip() and "error" not in rows[0]
    assert rows[1]["translation"] == GERMAN
    assert rows[2]["translation"] is None and "can't translate French" in rows[2]["error"]
