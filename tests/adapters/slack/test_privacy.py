"""Slack's rules, as a person meets them: nobody learns a channel they are not in; Slack's refusals become advice."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.adapters.slack.errors import advice
from tests.support.slackhttp import slash, wait_until

SECRET = "The Acme merger closes on Friday at a terrible price"
DEALS = [  # newest first, as conversations.history sends them
    {"type": "message", "user": "UMEMBER1", "ts": "1700001010.000100", "text": SECRET + "."},
    {"type": "message", "user": "UADMIN01", "ts": "1700001000.000100",
     "text": "Legal wants the Acme merger signed by the whole board before the announcement."},
]


@pytest.fixture(scope="module")
def deals(module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0DEALS", "deals", members=["UADMIN01", "UMEMBER1"], private=True)
    fake.history["C0DEALS"] = DEALS
    return fake


def answer(server, fake, command: str, text: str, *, name: str, user: str) -> dict:
    slash(server, fake, command, text, name=name, user=user)
    [reply] = fake.wait_for(f"/response/{name}", timeout=60)
    return reply.body


def history_reads(fake, channel: str) -> int:
    return len([c for c in fake.calls_to("/api/conversations.history") if c.body.get("channel") == channel])


@pytest.mark.parametrize("command", ["/sentiment", "/summarize"])
def test_a_non_member_learns_nothing_of_a_private_channel_and_a_member_gets_the_answer(http_bot, deals, command):
    before = history_reads(deals, "C0DEALS")
    refused = answer(http_bot, deals, command, "<#C0DEALS|deals>", name=f"{command[1:]}-outsider", user="UUSER001")
    assert refused["response_type"] == "ephemeral"
    assert "not a member of #deals" in refused["text"] and "Acme" not in json.dumps(refused)
    assert history_reads(deals, "C0DEALS") == before  # not a single message was read for them

    allowed = answer(http_bot, deals, command, "<#C0DEALS|deals>", name=f"{command[1:]}-member", user="UMEMBER1")
    assert "not a member" not in allowed["text"]
    assert ("Acme" in allowed["text"]) if command == "/summarize" else ("Mood of deals" in json.dumps(allowed))


def test_ask_and_search_show_a_channels_chunks_only_to_its_members(http_bot, deals):
    fake = deals
    slash(http_bot, fake, "/index", "in:private <#C0DEALS|deals> 50", name="index-deals", user="UADMIN01")
    wait_until(lambda: any("Indexed the last 50 messages" in m["text"] for m in fake.posts("DADMIN01")))

    for command, name in (("/ask", "ask"), ("/search", "search")):
        outsider = answer(http_bot, fake, command, "in:private when does the acme merger close?",
                          name=f"{name}-outsider", user="UUSER001")
        assert "Acme" not in json.dumps(outsider) and "C0DEALS" not in json.dumps(outsider)
        member = answer(http_bot, fake, command, "in:private when does the acme merger close?",
                        name=f"{name}-member", user="UMEMBER1")
        assert "Acme merger closes on Friday" in member["text"]


def test_indexing_a_channel_needs_its_membership_too(http_bot, deals):
    fake = deals
    fake.add_channel("C0BOARD", "board", members=["UMEMBER1"], private=True)
    fake.history["C0BOARD"] = [{"type": "message", "user": "UMEMBER1", "ts": "1700001100.000100",
                                "text": "Board salaries rise next year."}]
    slash(http_bot, fake, "/index", "in:private <#C0BOARD|board>", name="index-board", user="UADMIN01")
    [refused] = fake.wait_for("/response/index-board", timeout=60)
    assert "not a member of #board" in refused.body["text"]
    assert history_reads(fake, "C0BOARD") == 0


def test_a_channel_the_bot_is_not_in_gets_an_invitation_hint(http_bot, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0RANDOM", "random", members=["UUSER001"], bot=False)
    with fake.expect("not_in_channel", on="conversations.history"):
        reply = answer(http_bot, fake, "/sentiment", "<#C0RANDOM|random>", name="not-in", user="UUSER001")
    assert "I'm not in #random: invite me with `/invite @nlpbot`" in reply["text"]
    assert "request id" not in reply["text"]

    with fake.expect("channel_not_found", on="conversations.members"):
        gone = answer(http_bot, fake, "/summarize", "<#C0GHOST|ghost>", name="ghost", user="UUSER001")
    assert "I can't see #ghost" in gone["text"] and "request id" not in gone["text"]


def test_a_missing_scope_is_named(http_bot, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0TEAM", "team", members=["UUSER001"])
    fake.scopes.discard("channels:history")
    try:
        with fake.expect("missing_scope", on="conversations.history"):
            reply = answer(http_bot, fake, "/summarize", "<#C0TEAM|team>", name="scope", user="UUSER001")
    finally:
        fake.scopes.add("channels:history")
    assert "I lack the Slack permission `channels:history`" in reply["text"]


def test_rate_limits_that_outlast_the_retries_ask_to_try_again_later(http_bot, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0BUSY", "busy", members=["UUSER001"])
    fake.fail("/api/conversations.members", status=429, times=4, retry_after=0)
    started = time.monotonic()
    reply = answer(http_bot, fake, "/sentiment", "<#C0BUSY|busy>", name="limited-members", user="UUSER001")
    assert "rate-limiting me" in reply["text"] and "try again in a minute" in reply["text"]
    assert len(fake.calls_to("/api/conversations.members")) >= 4 and time.monotonic() - started < 30


def test_an_archived_channel_is_named_as_archived():
    response = SlackResponse(client=None, http_verb="POST", api_url="chat.postMessage", req_args={},
                             data={"ok": False, "error": "is_archived"}, headers={}, status_code=200)
    problem = advice(SlackApiError("is_archived", response), where="#old")
    assert str(problem) == "#old is archived, so I can't read or post there."


def test_membership_is_read_across_every_page_of_a_big_channel(http_bot, module_fake_slack):
    fake = module_fake_slack
    crowd = [f"U{i:07d}" for i in range(450)] + ["UZZLAST1"]  # conversations.members pages hold 200 at most
    fake.add_channel("C0BIG", "big", members=crowd, private=True)
    fake.history["C0BIG"] = [{"type": "message", "user": "U0000001", "ts": "1700001200.000100",
                              "text": "The offsite moves to the lake house in June. Bring boots for the hike."}]
    reply = answer(http_bot, fake, "/summarize", "<#C0BIG|big>", name="big-member", user="UZZLAST1")
    assert "lake house" in reply["text"]
    pages = [c for c in fake.calls_to("/api/conversations.members") if c.body.get("channel") == "C0BIG"]
    assert len(pages) == 3


def test_an_index_limited_to_some_channels_refuses_the_others(tmp_path, tiny_sentiment):
    from bot.request import Message
    from tests.support.bots import TestBot, sentiment_config, write_config

    class Chat:
        reads: list[str] = []

        def history(self, channel_id: str, *, limit: int) -> list[Message]:
            self.reads.append(channel_id)
            return [Message("U1", "Payroll runs on the 25th.", "1700000000.000100")]

    bot = TestBot(write_config(tmp_path, sentiment_config(tiny_sentiment, '[search]\nchannels = ["C0OPEN"]')))
    chat = Chat()
    reply = bot.ask("/index <#C0HR|hr>", user_id="UADMIN01", conversation=chat)
    assert reply.is_error and "#hr is not among the channels this bot may index" in reply.text
    assert chat.reads == []
