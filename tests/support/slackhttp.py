"""Slack's side of an HTTP conversation with the bot: signed slash commands, events and view submissions."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request

from tests.support.bots import SIGNING_SECRET
from tests.support.fakeslack import BOT_USER_ID
from tests.support.signing import event_body, signed_headers, slash_command_body

FORM = "application/x-www-form-urlencoded"


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def slash(server, fake, command: str, text: str, *, name: str, user: str = "UUSER001", secret=SIGNING_SECRET,
          timestamp=None, extra_headers=None, team: str = "T0001"):
    body = slash_command_body(command, text, user_id=user, channel_id="C0GENERAL", response_url=fake.response_url(name),
                              trigger_id=fake.trigger_id(), team_id=team)  # fresh: every command Slack sends has one
    headers = {**signed_headers(secret, body, timestamp=timestamp, content_type=FORM), **(extra_headers or {})}
    return post(server.url, body, headers)


def mention(server, event_id: str, text: str, *, user: str, ts: str, files: list[dict] | None = None) -> dict:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": "C0GENERAL",
             "event_ts": ts, **({"files": files} if files else {})}
    body = event_body(event, event_id=event_id)
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))
    assert status == 200
    return event


_EVENT_IDS = itertools.count(1)


def deliver(server, event: dict, *, team: str = "T0001") -> None:
    """Slack delivers one event (a fresh event id) to the bot, signed; it must be acked with a 200."""
    body = json.loads(event_body(event, event_id=f"Ev0DELIVER{next(_EVENT_IDS):05d}"))
    body["team_id"] = body["authorizations"][0]["team_id"] = team
    text = json.dumps(body)
    status, _, _ = post(server.url, text, signed_headers(SIGNING_SECRET, text, content_type="application/json"))
    assert status == 200, status


def submit_view(server, view: dict, *, user: str) -> int:
    """A modal's view_submission, as Slack posts it: form-encoded `payload`, signed like everything else."""
    from urllib.parse import urlencode

    payload = {"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": user}, "api_app_id": "A0001",
               "view": view}
    body = urlencode({"payload": json.dumps(payload)})
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))
    return status


def click(server, fake, action: dict, *, user: str, name: str, channel: str = "C0GENERAL") -> int:
    """A button or menu of a feedback block clicked, as Slack posts the block_actions payload: form-encoded, signed."""
    from urllib.parse import urlencode

    payload = {"type": "block_actions", "trigger_id": "1337.43.abcd", "token": "unused", "api_app_id": "A0001",
               "team": {"id": "T0001", "domain": "example"}, "user": {"id": user, "team_id": "T0001"},
               "channel": {"id": channel}, "container": {"type": "message", "is_ephemeral": False},
               "response_url": fake.response_url(name), "actions": [{**action, "block_id": "feedback", "action_ts": "1.2"}]}
    body = urlencode({"payload": json.dumps(payload)})
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))
    return status
