"""POST /slack/events with signed random, truncated and oversized payloads of every kind: never a 500, never a crash."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bots import SIGNING_SECRET
from tests.support.signing import event_body, signed_headers, slash_command_body
from tests.support.slackhttp import slash

FORM, JSON = "application/x-www-form-urlencoded", "application/json"
COMMANDS = ["/sentiment", "/entities", "/summarize", "/translate", "/ask", "/search", "/index", "/nlp", "/nlp-admin"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def slash_bodies(draw) -> tuple[bytes, str]:
    command = draw(st.sampled_from(COMMANDS) | st.text(max_size=20))
    text = draw(st.text(max_size=300))
    body = slash_command_body(command, text, user_id=draw(st.sampled_from(["UFUZZ001", "UADMIN01", ""])),
                              channel_id=draw(st.sampled_from(["C0GENERAL", "D0FUZZ", ""])),
                              response_url=draw(st.sampled_from(["http://127.0.0.1:9/nowhere", "not a url", ""])))
    return body.encode(), FORM


def event_bodies(draw) -> tuple[bytes, str]:
    event = draw(st.fixed_dictionaries(
        {"type": st.sampled_from(["app_mention", "message", "app_home_opened", "reaction_added"]) | st.text(max_size=10)},
        optional={"user": st.text(max_size=12) | JSON_VALUES, "text": st.text(max_size=300) | JSON_VALUES,
                  "channel": st.text(max_size=12), "channel_type": st.sampled_from(["im", "channel"]),
                  "ts": st.text(max_size=20) | JSON_VALUES, "files": JSON_VALUES, "subtype": st.text(max_size=10)}))
    body = event_body(event, event_id=draw(st.text(min_size=1, max_size=20)))
    if draw(st.booleans()):
        outer = json.loads(body)
        outer.update(draw(st.dictionaries(st.sampled_from(["type", "event", "team_id", "authorizations"]), JSON_VALUES)))
        body = json.dumps(outer)
    return body.encode(), JSON


def interactive_bodies(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["block_actions", "view_submission", "shortcut", "message_action"]) | st.text(max_size=10))
    payload = {"type": kind, "user": {"id": draw(st.text(max_size=12))}, "team": {"id": "T0001"},
               "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/nowhere",
               **draw(st.dictionaries(st.sampled_from(["actions", "view", "state", "callback_id", "message", "channel"]),
                                      JSON_VALUES, max_size=4))}
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


@st.composite
def requests(draw) -> tuple[bytes, str]:
    build = draw(st.sampled_from([slash_bodies, event_bodies, interactive_bodies]))
    body, content_type = build(draw)
    damage = draw(st.sampled_from(["none", "truncate", "oversize", "random", "junk"]))
    if damage == "truncate":
        body = body[:draw(st.integers(0, len(body)))]
    elif damage == "oversize":
        body = body + b"x" * draw(st.sampled_from([20_000, 900_000]))  # past 1 MB the server answers 413 unread
    elif damage == "random":
        body = draw(st.binary(max_size=2000))
    elif damage == "junk":
        body = body + draw(st.binary(min_size=1, max_size=200))
    return body, draw(st.sampled_from([content_type, FORM, JSON, "text/plain"]))


def post_signed(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    # Signed over the text the server reads (undecodable bytes replaced), so every request gets past verification.
    headers = signed_headers(SIGNING_SECRET, body.decode("utf-8", errors="replace"), content_type=content_type)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


MALFORMED = {  # shapes bolt itself cannot read (it raised out of dispatch, and the server answered 500)
    "actions null": {"type": "block_actions", "actions": None},
    "actions empty": {"type": "block_actions", "actions": []},
    "actions an object": {"type": "block_actions", "actions": {"action_id": "feedback:label:positive"}},
    "view null": {"type": "view_submission", "view": None},
    "view without a type": {"type": "view_submission", "view": {"callback_id": None}},
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_a_signed_payload_bolt_cannot_read_gets_a_400(http_bot, shape):
    payload = {"user": {"id": "UFUZZ001"}, "team": {"id": "T0001"}, "trigger_id": "1.2.3", **MALFORMED[shape]}
    status, text = post_signed(http_bot.url, urlencode({"payload": json.dumps(payload)}).encode(), FORM)
    assert (status, text) == (400, "malformed payload")
    assert http_bot.process.poll() is None


def test_a_command_with_nobody_to_answer_is_acked_and_dropped(http_bot, module_fake_slack):
    before = len(module_fake_slack.calls)
    said = "ignoring /sentiment with no person or place to answer"
    logged = http_bot.log.read_text().count(said)  # the fuzzing above may have sent such a command already
    for user, channel in (("", "C0GENERAL"), ("UFUZZ001", "")):  # Slack always sends a user, a channel, a URL
        body = slash_command_body("/sentiment", "to nobody", user_id=user, channel_id=channel, response_url="")
        assert post_signed(http_bot.url, body.encode(), FORM)[0] == 200
    time.sleep(1.0)
    assert module_fake_slack.calls[before:] == []  # not posted to #general, not to a channel ""
    assert http_bot.log.read_text().count(said) == logged + 2


def test_signed_garbage_never_gets_a_500_or_a_stack_trace_and_the_bot_keeps_answering(http_bot, module_fake_slack):
    statuses: set[int] = set()

    @settings(max_examples=100, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(requests())
    def fuzz(request: tuple[bytes, str]) -> None:
        status, text = post_signed(http_bot.url, *request)
        statuses.add(status)
        assert status < 500, (status, text[:500], request[0][:300])
        assert "Traceback" not in text and 'File "' not in text
        assert http_bot.process.poll() is None

    fuzz()
    assert statuses <= {200, 400, 401, 404, 413, 415}, statuses
    assert http_bot.process.poll() is None
    status, _, _ = slash(http_bot, module_fake_slack, "/sentiment", "still here after the fuzzing", name="after-fuzz",
                         user="UAFTER01")
    assert status == 200
    [answer] = module_fake_slack.wait_for("/response/after-fuzz", timeout=60)
    assert "still here after the fuzzing" in answer.body["text"]
