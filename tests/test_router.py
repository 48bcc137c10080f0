"""A person's first minutes with the bot: help, unknown commands, and how text reaches a plugin."""

from __future__ import annotations

import pytest


def test_nlp_help_lists_every_enabled_plugin_and_its_commands(testbot):
    reply = testbot.ask("/nlp help")
    assert "sentiment" in reply.text
    assert "/sentiment TEXT" in reply.text
    assert "sentiment" in reply.data["commands"]
    assert not reply.is_error


@pytest.mark.parametrize("text", ["help", "/help", "nlp help", "  help  "])
def test_help_in_a_dm_and_on_the_console(testbot, text):
    reply = testbot.ask(text, source="dm")
    assert "/sentiment TEXT" in reply.text


def test_help_for_one_command(testbot):
    reply = testbot.ask("/nlp help sentiment")
    assert reply.title == "/sentiment"
    assert "Usage:" in reply.text


def test_unknown_command_gets_help_not_silence(testbot):
    reply = testbot.ask("/frobnicate the widgets")
    assert "I don't know the command `frobnicate`" in reply.text
    assert "/sentiment TEXT" in reply.text


def test_unknown_command_name_is_escaped(testbot):
    reply = testbot.ask("<!channel>")
    assert "<!channel>" not in reply.text


def test_a_mention_routes_the_first_word_as_the_command(testbot):
    reply = testbot.ask("<@UBOT0001> sentiment I love this", source="mention", bot_user_id="UBOT0001")
    assert reply.plugin == "sentiment"
    assert reply.data["label"] in {"positive", "negative", "neutral"}
    assert reply.data["text"] == "I love this"


def test_command_with_a_newline_after_it(testbot):
    reply = testbot.ask("sentiment\nwhat a day", source="dm")
    assert reply.data["text"] == "what a day"


def test_control_characters_never_reach_a_plugin_whatever_the_adapter_did(testbot):
    reply = testbot.bot.ask("/sentiment what\x00 a\x1b day\u200b")  # straight to the core, past any adapter
    assert not reply.is_error and reply.data["text"] == "what a day"


def test_empty_text_gets_usage(testbot):
    reply = testbot.ask("/sentiment    ")
    # with no text and no channel the sentiment command asks for one or the other
    assert reply.is_error
    assert "/sentiment" in reply.text


def test_text_without_letters_is_refused_clearly(testbot):
    reply = testbot.ask("/sentiment 12345 !!! ###")
    assert reply.is_error
    assert "doesn't look like text" in reply.text


def test_text_over_the_limit_is_refused_with_the_numbers(tmp_path, tiny_sentiment, make_config):
    from tests.support.bots import TestBot, sentiment_config

    bot = TestBot(make_config(sentiment_config(tiny_sentiment, "max_text_chars = 50")))
    reply = bot.ask("/sentiment " + "word " * 20)
    assert reply.is_error
    assert "takes at most 50" in reply.text


def test_a_plugin_bug_becomes_a_reply_with_a_request_id(testbot, monkeypatch):
    plugin = testbot.bot.plugins["sentiment"]

    def broken(texts, **options):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(plugin, "predict", broken)
    reply = testbot.ask("/sentiment fine text")
    assert reply.is_error
    assert "request id" in reply.text
    assert "ZeroDivisionError" not in reply.text and "Traceback" not in reply.text


def test_admin_only_commands_refuse_others_and_run_nothing(tmp_path, tiny_sentiment, make_config):
    from bot.plugin import Plugin, Reply, command
    from tests.support.bots import sentiment_config

    ran = []

    class Danger(Plugin):
        name = "danger"
        description = "admin things"

        @command(admin_only=True, accepts_empty=True)
        def wipe(self, request):
            """Wipe everything."""
            ran.append(request.user_id)
            return Reply(text="wiped")

    from bot.config import load_config
    from bot.core import Nlpbot

    bot = Nlpbot(load_config(make_config(sentiment_config(tiny_sentiment))), extra_plugins={"danger": Danger})
    refused = bot.ask("/wipe", user_id="UNOBODY1")
    assert refused.is_error and "admins" in refused.text and "UNOBODY1" in refused.text
    assert ran == []
    assert bot.ask("/wipe", user_id="UADMIN01").text == "wiped"
    assert ran == ["UADMIN01"]
    assert "_(admins)_" in bot.ask("help").text


class RecordingConversation:
    """Channel history with no messages, remembering how many were asked for."""

    def __init__(self) -> None:
        self.limits: list[int] = []

    def history(self, channel_id: str, *, limit: int) -> list:
        self.limits.append(limit)
        return []

    def thread(self, channel_id: str, thread_ts: str) -> list:
        return []


@pytest.mark.parametrize("command, maximum", [("/sentiment", 500), ("/summarize", 1000), ("/index", 1000)])
def test_every_command_that_reads_a_channel_takes_its_message_count_the_same_way(testbot, command, maximum):
    conversation = RecordingConversation()
    reply = testbot.ask(f"{command} <#C0BANK|banking> 7", user_id="UADMIN01", conversation=conversation)
    assert conversation.limits == [7] and "no text messages" in reply.text
    for count in (0, maximum + 1):
        reply = testbot.ask(f"{command} <#C0BANK|banking> {count}", user_id="UADMIN01", conversation=conversation)
        assert reply.is_error and f"I can read between 1 and {maximum} messages." in reply.text
    assert conversation.limits == [7]


@pytest.mark.parametrize("asked", ["/nlp-admin help train", "/nlp help nlp-admin train", "help nlp-admin train"])
def test_a_subcommand_has_help_of_its_own(testbot, asked):
    reply = testbot.ask(asked, user_id="UADMIN01")
    assert reply.title == "/nlp-admin train" and not reply.is_error
    assert "Usage: `/nlp-admin train PLUGIN" in reply.text and "• `--epochs N` passes over the data" in reply.text
    assert "_Admins only._" in reply.text


def test_a_command_with_subcommands_lists_them_and_names_a_wrong_one(testbot):
    listing = testbot.ask("/nlp-admin", user_id="UADMIN01")
    assert listing.title == "/nlp-admin" and "• `/nlp-admin rollback PLUGIN`" in listing.text
    assert "`/nlp-admin help SUBCOMMAND` shows one." in listing.text
    wrong = testbot.ask("/nlp-admin frobnicate", user_id="UADMIN01")
    assert wrong.is_error and "No such admin task" in wrong.text
    assert testbot.ask("/nlp-admin help train", user_id="UNOBODY1").is_error  # admins' subcommands stay theirs
