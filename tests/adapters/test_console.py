"""The console reads a line as a person types it in Slack: markup made plain, a channel named is a channel."""

from __future__ import annotations

import io

from bot.adapters.console import answer, ask


def test_slack_markup_typed_on_the_console_reaches_the_plugin_plain(testbot):
    reply = answer(testbot.bot, "/sentiment I &lt;3 <https://x.io|this page>")
    assert not reply.is_error and reply.data["text"] == "I <3 this page"


def test_a_channel_named_on_the_console_is_a_channel_the_console_cannot_read(testbot):
    out = io.StringIO()
    assert ask(testbot.bot, "/sentiment <#C0BANK|banking> 5", out=out) == 2  # a usage error: not here
    assert "reading channel history needs Slack" in out.getvalue()
