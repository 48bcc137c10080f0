"""Several workspaces, as Slack and their admins drive the OAuth install: /slack/install, Slack's approval, the
redirect back with a code; and a mention from one of the installed teams."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import parse_qs, urlsplit

from tests.support.bots import SIGNING_SECRET
from tests.support.fakeslack import BOT_USER_ID
from tests.support.signing import signed_headers
from tests.support.slackhttp import post

CLIENT_ID = "1111.2222"


def get(server, path: str, *, cookie: str | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(server.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


def install(server, fake, team: str, token: str, *, back_to=None) -> tuple[http.client.HTTPResponse,
                                                                          http.client.HTTPResponse, str]:
    """A person opens /slack/install, approves on Slack's page, and Slack sends them back with a code (to
    `back_to`, another replica behind the same load balancer, when given)."""
    start = get(server, "/slack/install")
    assert start.status == 302
    authorize = urlsplit(start.getheader("Location"))
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == "https://slack.com/oauth/v2/authorize"
    assert query["client_id"] == [CLIENT_ID] and "chat:write" in query["scope"][0].split(",")
    code = f"code-{team}"
    fake.oauth_codes[code] = {"app_id": "A0001", "authed_user": {"id": "UINSTALL"}, "scope": query["scope"][0],
                              "token_type": "bot", "access_token": token, "bot_user_id": BOT_USER_ID,
                              "team": {"id": team, "name": f"Team {team}"}, "enterprise": None,
                              "is_enterprise_install": False}
    cookie = start.getheader("Set-Cookie").split(";", 1)[0]  # the browser that started the install
    return (get(back_to or server, f"/slack/oauth_redirect?code={code}&state={query['state'][0]}", cookie=cookie),
            start, cookie)


def mention_from(server, team: str, *, ts: str, event_id: str) -> int:
    body = json.dumps({
        "token": "unused", "team_id": team, "api_app_id": "A0001", "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()), "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": {"type": "app_mention", "user": "UPERSON1", "text": f"<@{BOT_USER_ID}> sentiment what a great team",
                  "ts": ts, "channel": "C0TEAM", "event_ts": ts},
    })
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))
    return status
