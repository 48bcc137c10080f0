"""Slack's Web API failing: 5xx and 429 are retried with backoff; a reply that finally fails is logged with its id."""

from __future__ import annotations

import re
import time

from tests.support.bots import SIGNING_SECRET
from tests.support.fakeslack import BOT_USER_ID
from tests.support.signing import event_body, signed_headers
from tests.support.slackhttp import post, slash


def test_a_response_url_failing_twice_with_503_still_gets_the_answer(http_bot, module_fake_slack):
    module_fake_slack.fail("/response/flaky", status=503, times=2, retry_after=None)
    status, _, _ = slash(http_bot, module_fake_slack, "/sentiment", "flaky network today", name="flaky")
    assert status == 200
    [answer] = module_fake_slack.wait_for("/response/flaky", timeout=30)
    assert "flaky network today" in answer.body["text"]
    assert [call.status for call in module_fake_slack.calls_to("/response/flaky")] == [503, 503, 200]


def test_a_reply_that_finally_fails_is_logged_with_its_request_id(http_bot, module_fake_slack):
    module_fake_slack.fail("/response/down", status=500, times=10, retry_after=None)
    status, _, _ = slash(http_bot, module_fake_slack, "/sentiment", "nobody will read this", name="down")
    assert status == 200
    deadline = time.monotonic() + 60
    line = None
    while time.monotonic() < deadline and line is None:
        line = next((l for l in http_bot.log.read_text().splitlines() if "could not deliver the reply" in l), None)
        time.sleep(0.2)
    assert line is not None, "the lost reply was not logged"
    request_id = re.search(r"request ([0-9a-f]{12})", line).group(1)
    assert f"request {request_id} sentiment by UUSER001" in http_bot.log.read_text()  # the same id as the request
    assert len(module_fake_slack.calls_to("/response/down")) == 4  # the first try and three retries


def test_a_rate_limited_post_message_is_retried_after_retry_after(http_bot, module_fake_slack):
    module_fake_slack.fail("/api/chat.postMessage", status=429, times=1, retry_after=1)
    event = {"type": "app_mention", "user": "UUSER001", "text": f"<@{BOT_USER_ID}> sentiment patience pays",
             "ts": "1700000600.000100", "channel": "C0GENERAL", "event_ts": "1700000600.000100"}
    body = event_body(event, event_id="Ev0LIMITED")
    status, _, _ = post(http_bot.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))
    assert status == 200
    [answer] = module_fake_slack.wait_for("/api/chat.postMessage", where=lambda c: c.body.get("thread_ts") == event["ts"]
                                          and "patience pays" in str(c.body.get("text")), timeout=30)
    assert answer.body["channel"] == "C0GENERAL"
