"""The App Home tab within Slack's limits: many jobs are summed up, and nothing is cut without saying so."""

from __future__ import annotations

import json

from bot.adapters.slack.home import HOME_BLOCKS, JOBS_SHOWN, home_blocks
from bot.reply import Reply
from tests.support import blockkit
from tests.support.bots import SIGNING_SECRET, BotServer, sentiment_config, write_config
from tests.support.signing import event_body, signed_headers
from tests.support.slackhttp import post

JOBS = JOBS_SHOWN + 5


def test_an_admin_with_many_jobs_sees_the_next_ones_and_how_many_more(tmp_path, tiny_sentiment, fake_slack):
    jobs = "".join(f"""
        [[schedule.jobs]]
        id = "reindex-{n:02d}"
        action = "reindex"
        target = "docs"
        cron = "{'0 3 * * *' if n < JOBS_SHOWN else '0 3 1 1 *'}"
        """ for n in range(JOBS))  # daily, then yearly
    server = BotServer(write_config(tmp_path, sentiment_config(tiny_sentiment, jobs)), fake_slack)
    try:
        event = {"type": "app_home_opened", "user": "UADMIN01", "channel": "DADMIN01", "tab": "home",
                 "event_ts": "1700000500.000100"}
        body = event_body(event, event_id="Ev0HOMEJOBS")
        assert post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))[0] == 200
        [published] = fake_slack.wait_for("/api/views.publish", timeout=60)
    finally:
        server.stop()
    text = json.dumps(fake_slack.home["UADMIN01"])
    assert published.accepted and "admin overview" in text
    shown = [n for n in range(JOBS) if f"reindex-{n:02d}" in text]
    assert shown == list(range(JOBS_SHOWN))  # the daily jobs run next: the yearly ones are the ones summed up
    assert f"and {JOBS - JOBS_SHOWN} more jobs (the admin commands below list every job)" in text


def test_a_home_tab_longer_than_slack_allows_says_what_was_left_out():
    reply = Reply(title="Everything", text="\n\n".join(f"Paragraph {n}: " + "words " * 480 for n in range(150)))
    blocks = home_blocks(reply)
    assert len(blocks) == HOME_BLOCKS and blockkit.problems(blocks, surface="home") == []
    assert "Paragraph 0:" in json.dumps(blocks[1]) and "Paragraph 149:" not in json.dumps(blocks)
    note = blocks[-1]["elements"][0]["text"]
    assert note.startswith("…52 more sections do not fit in the Home tab")  # 1 header + 150 sections, 99 kept

    short = Reply(title="Little", text="Only a few words.")
    assert home_blocks(short) == [{"type": "header", "text": {"type": "plain_text", "text": "Little"}},
                                  {"type": "section", "text": {"type": "mrkdwn", "text": "Only a few words."}}]
