"""Bad input, tried on purpose: every case gets a clear reply, nothing crashes, nothing stored is lost."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.markup import parse
from bot.format import SECTION_CHARS, split_text, to_slack_messages
from bot.reply import Reply

slack_text = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(["<@U123ABC>", "<#C0123|general>", "<!here>", "&amp;", "&lt;",
                                                      "<https://x.io|x>", "\n", " ", "/", "`", "*", "sentiment"])),
    max_size=30,
).map("".join)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "\x00\x01\x02", "\ufffd\ufffd", "🙂🙂🙂", "<@U123ABC>"])
def test_nothing_to_work_on_gets_a_clear_reply(testbot, text):
    reply = testbot.ask(f"/sentiment {text}", channel_id=None)
    assert reply.is_error
    assert "text" in reply.text.lower()


def test_a_megabyte_of_text_is_refused_without_running_the_model(testbot, monkeypatch):
    plugin = testbot.bot.plugins["sentiment"]
    monkeypatch.setattr(plugin, "predict", lambda *a, **k: pytest.fail("the model must not run"))
    reply = testbot.ask("/sentiment " + "a" * 1_000_000)
    assert reply.is_error and "1,000,000 characters" in reply.text


def test_invalid_utf8_from_the_command_line_is_dropped_not_crashing(testbot):
    garbled = b"caf\xe9 is \xff great".decode("utf-8", errors="surrogateescape")
    reply = testbot.ask(f"/sentiment {garbled}")
    assert not reply.is_error
    assert reply.data["text"] == "caf is  great"


def test_unknown_admin_flags_are_named(tmp_path, tiny_sentiment, make_config):
    from tests.support.bots import TestBot, sentiment_config

    bot = TestBot(make_config(sentiment_config(tiny_sentiment)))
    reply = bot.ask("/nlp-admin train sentiment --bogus 3", user_id="UADMIN01")
    assert reply.is_error and "--bogus" in reply.text
    reply = bot.ask("/nlp-admin train sentiment --epochs lots", user_id="UADMIN01")
    assert reply.is_error and "--epochs needs a number" in reply.text


def test_a_non_admin_is_refused_admin_commands(testbot):
    reply = testbot.ask("/nlp-admin rollback sentiment", user_id="UNOBODY1")
    assert reply.is_error and "admins" in reply.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=slack_text, source=st.sampled_from(["slash", "mention", "dm", "console"]),
       slash=st.sampled_from([None, "/nlp", "/sentiment", "/NLP", "/unknown-thing"]))
def test_the_router_parses_anything_into_a_sane_request(testbot, text, source, slash):
    message = parse(text, bot_user_id="U123ABC", mention=source == "mention")  # what the Slack adapter hands the router
    request = testbot.bot.router.parse(message.text, source=source, user_id="U1",
                                       slash_command=slash if source == "slash" else None,
                                       channel_refs=message.channel_refs, user_refs=message.user_refs)
    assert request.command == request.command.strip().lower() and " " not in request.command
    assert request.command  # empty becomes help
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in request.text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=slack_text)
def test_any_text_gets_a_reply_never_an_exception(testbot, text):
    for prefix in ("", "/nlp ", "help ", "/nlp-admin "):
        reply = testbot.ask(prefix + text)
        assert isinstance(reply, Reply)
        assert "Traceback" not in reply.text
        assert "failed on my side" not in reply.text  # no bug of ours reached the person


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20_000), st.integers(50, 4000))
def test_splitting_keeps_every_word_and_every_limit(text, limit):
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    joined = " ".join(pieces).replace("```", " ")
    assert joined.split() == text.replace("```", " ").split()


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=30_000))
def test_any_reply_fits_slack(text):
    for message in to_slack_messages(Reply(text=text, title=text[:200], fields=[("f", text[:3000])], footer=text[:100])):
        assert len(message["blocks"]) <= 50
        assert len(message["text"]) <= 4000
        for block in message["blocks"]:
            if block["type"] == "section" and "text" in block:
                assert len(block["text"]["text"]) <= SECTION_CHARS
