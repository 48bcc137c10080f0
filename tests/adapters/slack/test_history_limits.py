"""Slack's 2025 history limits for apps distributed outside the Marketplace, as a person meets them: channel
summaries, channel sentiment, `/index #channel` and recaps read the bot's message log (kept from channel events,
edits and deletions applied), and only a gap costs a history call: one a minute, 15 messages a page. The fake
Slack enforces the limits here; a call too many is a violation and fails the module."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.history import history_tier
from bot.config import load_config
from tests.support.bots import BOT_TOKEN, ROOT, BotServer, sentiment_config, write_config
from tests.support.fakeslack import FakeSlack
from tests.support.slackhttp import deliver, slash, wait_until

MONTH_AGO = f"{time.time() - 30 * 86400:.6f}"  # the bot joined long ago: its log covers all it keeps (14 days)


@pytest.fixture(scope="module")
def slack(module_fake_slack):
    return module_fake_slack.distributed_limits()


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_sentiment, slack):
    folder = tmp_path_factory.mktemp("distributed")
    config = write_config(folder, sentiment_config(tiny_sentiment, f"""max_wait_ms = 2
        [slack]
        history_limits = "distributed"
        membership_ttl_s = 0
        double_submit_s = 0
        [search]
        embedding_model = "{tiny_sentiment}"
        """))
    bot = BotServer(config, slack)
    yield bot, config
    bot.stop()


def ask(server, fake, command: str, text: str, *, name: str, user: str = "UUSER001") -> str:
    slash(server, fake, command, text, name=name, user=user)
    [reply] = fake.wait_for(f"/response/{name}", timeout=90)
    return reply.body["text"]


def history_calls(fake, channel: str) -> list:
    return [c for c in fake.calls_to("/api/conversations.history") if c.body.get("channel") == channel]


def a_channel_the_bot_is_in(server, fake, channel: str, name: str, texts: list[tuple[str, str]]) -> list[dict]:
    """The bot has been in the channel for a month; then people say `texts` ((user, text)), each as an event."""
    fake.add_channel(channel, name, members=["UUSER001", "UMEMBER2", "UADMIN01"], bot=False)
    deliver(server, {**fake.join(channel), "event_ts": MONTH_AGO})
    said = [fake.say(channel, text, user=user) for user, text in texts]
    for event in said:
        deliver(server, event)
    return said


def test_a_channel_summary_reads_the_log_with_edits_and_deletions_applied(server, slack):
    bot, _ = server
    said = a_channel_the_bot_is_in(bot, slack, "C0LAUNCH", "launch", [
        ("UUSER001", "The launch checklist is in the shared drive."),
        ("UMEMBER2", "The launch moves to Wednesday."),
        ("UMEMBER2", "Ignore me, wrong channel."),
    ])
    deliver(bot, slack.edit("C0LAUNCH", said[1]["ts"], "The launch moves to Thursday after the security review."))
    deliver(bot, slack.delete("C0LAUNCH", said[2]["ts"]))
    text = ask(bot, slack, "/summarize", "<#C0LAUNCH|launch>", name="sum-launch")
    assert "Thursday after the security review" in text and "launch checklist" in text
    assert "Wednesday" not in text and "wrong channel" not in text
    assert "in 2 messages" in text and "ask again in a minute" not in text
    assert history_calls(slack, "C0LAUNCH") == []  # all from the log


def test_channel_sentiment_and_index_read_the_log_too(server, slack):
    bot, _ = server
    a_channel_the_bot_is_in(bot, slack, "C0KUDOS", "kudos", [
        ("UUSER001", "Huge thanks to the support team, the migration went perfectly."),
        ("UMEMBER2", "The new dashboard is great, I love the dark mode."),
    ])
    sentiment = ask(bot, slack, "/sentiment", "<#C0KUDOS|kudos>", name="sentiment-kudos")
    assert "2 messages" in sentiment and ":warning:" not in sentiment
    slash(bot, slack, "/index", "in:kudos <#C0KUDOS|kudos>", name="index-kudos", user="UADMIN01")
    answers = lambda: [c.body["text"] for c in slack.calls_to("/response/index-kudos")] + [  # noqa: E731
        m["text"] for m in slack.posts("DADMIN01")]  # at the response_url, or in a DM after progress
    wait_until(lambda: any("Indexed the last" in text and "C0KUDOS" in text for text in answers()), timeout=90)
    hits = ask(bot, slack, "/search", "in:kudos dark mode dashboard", name="search-kudos")
    assert "dark mode" in hits
    assert history_calls(slack, "C0KUDOS") == []


def test_a_thread_summary_reads_the_log(server, slack):
    bot, _ = server
    [parent] = a_channel_the_bot_is_in(bot, slack, "C0INFRA", "infra", [("UUSER001", "The backup job failed again.")])
    for user, text in (("UMEMBER2", "The disk was full, I cleared the old snapshots."),
                       ("UUSER001", "We decided to keep only seven days of snapshots.")):
        deliver(bot, slack.say("C0INFRA", text, user=user, thread_ts=parent["ts"]))
    mention = slack.say("C0INFRA", "<@UBOT0001> summarize", user="UUSER001", thread_ts=parent["ts"])
    deliver(bot, {**mention, "type": "app_mention"})
    [answer] = slack.wait_for("/api/chat.postMessage", timeout=90, where=lambda c: c.body.get("thread_ts") == parent["ts"])
    assert "seven days of snapshots" in answer.body["text"]
    assert not [c for c in slack.calls_to("/api/conversations.replies") if c.body.get("channel") == "C0INFRA"]


def test_a_gap_costs_one_history_page_a_minute_and_the_person_is_told(server, slack):
    bot, _ = server
    slack.add_channel("C0OLDER", "older", members=["UUSER001"], bot=False)
    day_ago = time.time() - 86400
    slack.history["C0OLDER"] = [{"type": "message", "user": "UUSER001", "ts": f"{day_ago + n * 60:.6f}",
                                 "text": f"Yesterday's note number {n} about the release plan."} for n in range(20)][::-1]
    deliver(bot, slack.join("C0OLDER"))  # joined just now: its log knows nothing before
    deliver(bot, slack.say("C0OLDER", "Today the release plan is final.", user="UUSER001"))

    first = ask(bot, slack, "/summarize", "<#C0OLDER|older> 30", name="sum-older-1")
    [call] = history_calls(slack, "C0OLDER")
    assert int(call.body["limit"]) <= 15
    assert "in 16 messages" in first and "ask again in a minute" in first  # the newest page of the gap, and a note
    again = ask(bot, slack, "/summarize", "<#C0OLDER|older> 30", name="sum-older-2")
    assert len(history_calls(slack, "C0OLDER")) == 1  # within the minute: no second call
    assert "in 16 messages" in again and "ask again in a minute" in again


def test_leaving_a_channel_deletes_its_log(server, slack):
    bot, config = server
    a_channel_the_bot_is_in(bot, slack, "C0GOSSIP", "gossip", [("UMEMBER2", "The coffee machine is fixed.")])
    stored = config.parent / "state" / "slack-messages.sqlite"

    def logged() -> int:
        with closing(sqlite3.connect(stored)) as conn:
            return conn.execute("SELECT COUNT(*) FROM messages WHERE channel = 'C0GOSSIP'").fetchone()[0]

    assert logged() == 1
    deliver(bot, slack.leave("C0GOSSIP"))
    assert logged() == 0


def test_a_recap_reads_the_log(server, slack):
    bot, config = server
    a_channel_the_bot_is_in(bot, slack, "C0OPSLOG", "opslog", [
        ("UMEMBER2", "The database failover drill is on Friday morning."),
        ("UUSER001", "Who will run the failover drill?"),
    ])
    slack.set_timezone("UUSER001", "Europe/Berlin")
    subscribed = ask(bot, slack, "/summarize", "subscribe <#C0OPSLOG|opslog> daily 08:00", name="sub-opslog")
    assert "Subscribed" in subscribed
    dms = len(slack.posts("DUSER001"))
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, "PYTHONPATH": str(ROOT)}
    ran = subprocess.run([sys.executable, "-m", "bot", "jobs", "run", "recap-UUSER001-C0OPSLOG", "--config",
                          str(config)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert "#opslog: 2 new message(s)" in ran.stdout
    [recap] = slack.posts("DUSER001")[dms:]
    shown = json.dumps(recap["blocks"])
    assert "failover drill is on Friday" in shown and "Who will run the failover drill?" in shown
    assert history_calls(slack, "C0OPSLOG") == []


def test_the_oauth_install_defaults_to_the_distributed_limits(make_config):
    default = load_config(make_config(""))
    assert history_tier(default, oauth=True) == "distributed" and history_tier(default, oauth=False) == "internal"
    internal = load_config(make_config('[slack]\nhistory_limits = "internal"'))
    assert history_tier(internal, oauth=True) == "internal"


def test_the_fake_enforces_the_distributed_limits():
    fake = FakeSlack().distributed_limits().start()
    try:
        fake.history["C0GENERAL"] = [{"type": "message", "user": "UUSER001", "ts": f"{1700000000 + n}.000100",
                                      "text": f"note {n}"} for n in range(40)][::-1]
        client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
        page = client.conversations_history(channel="C0GENERAL", limit=200)
        assert len(page["messages"]) == 15 and page["has_more"]  # a page over 15 is not served
        with pytest.raises(SlackApiError) as refused:
            client.conversations_history(channel="C0GENERAL", limit=15)
        assert refused.value.response.status_code == 429 and int(refused.value.response.headers["Retry-After"]) > 50
        assert len(fake.violations) == 1 and "one a minute" in fake.violations[0]
        assert client.conversations_replies(channel="C0GENERAL", ts="1700000001.000100")["ok"]  # its own minute
    finally:
        fake.stop()
