"""Several workspaces: install through OAuth, then every team is answered with its own bot token."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.bots import SIGNING_SECRET, BotServer, sentiment_config, write_config
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


def install(server, fake, team: str, token: str) -> tuple[http.client.HTTPResponse, http.client.HTTPResponse, str]:
    """A person opens /slack/install, approves on Slack's page, and Slack sends them back with a code."""
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
    return get(server, f"/slack/oauth_redirect?code={code}&state={query['state'][0]}", cookie=cookie), start, cookie


def mention_from(server, team: str, *, ts: str, event_id: str) -> int:
    body = json.dumps({
        "token": "unused", "team_id": team, "api_app_id": "A0001", "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()), "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": {"type": "app_mention", "user": "UPERSON1", "text": f"<@{BOT_USER_ID}> sentiment what a great team",
                  "ts": ts, "channel": "C0TEAM", "event_ts": ts},
    })
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))
    return status


@pytest.fixture(scope="module")
def oauth_bot(tmp_path_factory, tiny_sentiment, module_fake_slack):
    folder = tmp_path_factory.mktemp("oauth-bot")
    server = BotServer(write_config(folder, sentiment_config(tiny_sentiment)), module_fake_slack,
                       env={"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret-for-tests"})
    yield server
    server.stop()


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(oauth_bot, module_fake_slack):
    fake_slack = module_fake_slack
    for team, token in (("T0002", "xoxb-team-two"), ("T0003", "xoxb-team-three")):
        done, _, _ = install(oauth_bot, fake_slack, team, token)
        assert done.status == 200, done.body
    assert (oauth_bot.log.parent / "state" / "slack-installs.sqlite").is_file()

    fake_slack.add_channel("C0TEAM", "team", members=["UPERSON1"])
    for team, token, ts in (("T0002", "xoxb-team-two", "1700002000.000100"),
                            ("T0003", "xoxb-team-three", "1700002001.000100")):
        assert mention_from(oauth_bot, team, ts=ts, event_id=f"Ev0{team}") == 200
        [answer] = fake_slack.wait_for("/api/chat.postMessage", timeout=60, where=lambda c, ts=ts: c.body.get("thread_ts") == ts)
        assert answer.headers["Authorization"] == f"Bearer {token}" and answer.team == team
        assert "what a great team" in answer.body["text"]

    assert mention_from(oauth_bot, "T0999", ts="1700002002.000100", event_id="Ev0NOTINST") == 200
    time.sleep(1.0)  # a workspace that never installed the app gets nothing
    assert not [c for c in fake_slack.calls_to("/api/chat.postMessage") if c.body.get("thread_ts") == "1700002002.000100"]


def test_an_install_link_is_good_once_and_only_in_the_browser_that_started_it(oauth_bot, module_fake_slack):
    fake_slack = module_fake_slack
    done, start, cookie = install(oauth_bot, fake_slack, "T0004", "xoxb-team-four")
    assert done.status == 200
    state = parse_qs(urlsplit(start.getheader("Location")).query)["state"][0]
    fake_slack.oauth_codes["code-again"] = {"access_token": "xoxb-stolen", "team": {"id": "T0005"}}
    replay = get(oauth_bot, f"/slack/oauth_redirect?code=code-again&state={state}", cookie=cookie)
    assert replay.status >= 400
    other = get(oauth_bot, "/slack/install")
    other_state = parse_qs(urlsplit(other.getheader("Location")).query)["state"][0]
    assert get(oauth_bot, f"/slack/oauth_redirect?code=code-again&state={other_state}").status >= 400  # no cookie
    assert "code-again" in fake_slack.oauth_codes  # never exchanged
