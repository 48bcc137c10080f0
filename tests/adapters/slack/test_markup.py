"""Slack's text as the core receives it: plain words, the bot's own mention gone, channels and people typed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack.markup import clean_text, parse
from bot.request import ChannelRef, UserRef


def test_slack_markup_becomes_readable_text():
    text = "hey <@U123ABC|ana> see <#C0123|general> and <https://x.io/a|the doc> &amp; <!here> &lt;3"
    assert clean_text(text) == "hey @ana see #general and the doc & @here <3"


def test_control_characters_are_dropped_but_newlines_kept():
    assert clean_text("a\x00b\x07c\nd\te") == "abc\nd\te"


@given(st.text(max_size=300))
def test_clean_text_leaves_no_slack_markup_or_control_characters(text):
    cleaned = clean_text(text)
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned)
    assert "<@U" not in clean_text(f"<@U1{text[:0]}23>")


def test_the_bots_own_mention_is_taken_out_and_the_references_come_typed():
    message = parse("<@UBOT0001> summarize <#C0BANK|banking> for <@U9|ana> and <@UBOT0001|nlpbot>",
                    bot_user_id="UBOT0001", mention=True)
    assert message.text == "summarize #banking for @ana and"
    assert message.channel_refs == [ChannelRef("C0BANK", "banking")]
    assert message.user_refs == [UserRef("U9", "ana")]  # the bot itself is not a person the text names


def test_a_mention_whose_bot_id_is_unknown_loses_only_its_first_mention():
    message = parse("<@UBOT0001> sentiment ask <@U9> and <#C0123>", mention=True)
    assert message.text == "sentiment ask @U9 and #C0123"
    assert message.user_refs == [UserRef("U9", "U9")] and message.channel_refs == [ChannelRef("C0123", "C0123")]
    assert parse("<@U9> is here").user_refs == [UserRef("U9", "U9")]  # not a mention event: every person stays


def test_plain_text_comes_through_as_typed():
    message = parse("  sentiment what a day  ")
    assert message.text == "sentiment what a day" and message.channel_refs == [] and message.user_refs == []
