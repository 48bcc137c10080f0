"""`nlpbot run` checks Slack once before it serves: a refused token, an API out of reach or half-set variables stop it
in one line with exit 3 and what to do; never a trace, never an abort, never the token in the output."""

from __future__ import annotations

import socket

import pytest

from tests.support.bots import BOT_TOKEN, SIGNING_SECRET, BotServer, sentiment_config
from tests.support.commandline import nlpbot
from tests.support.fakeslack import APP_TOKEN

UNSET = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_CLIENT_ID": "",
         "SLACK_CLIENT_SECRET": ""}


def start(config, env: dict[str, str], *args: str):
    """`nlpbot run ARGS` with only ENV's Slack variables set (a free port: a run that is not refused would serve)."""
    return nlpbot("run", "--port", "0", "--host", "127.0.0.1", *args, config=config, env={**UNSET, **env})


def refused_in_one_line(result, *told: str) -> str:
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # no trace, no log lines around it
    assert all(piece in lines[0] for piece in told), lines[0]
    assert "listening on" not in result.stdout
    return lines[0]


@pytest.fixture
def config(make_config, tiny_sentiment):
    return make_config(sentiment_config(tiny_sentiment))


def test_an_invalid_token_is_refused_by_auth_test(config, fake_slack):
    with fake_slack.expect("invalid_auth", on="auth.test"):
        result = start(config, {"SLACK_BOT_TOKEN": "xoxb-not-a-token-this-workspace-issued",
                                "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_slack.api_url})
    line = refused_in_one_line(result, "Slack refused SLACK_BOT_TOKEN (invalid_auth)", "OAuth & Permissions")
    assert "xoxb-not-a-token" not in line
    assert len(fake_slack.calls_to("/api/auth.test")) == 1


def test_a_revoked_token_says_to_reinstall(config, fake_slack):
    fake_slack.revoke(BOT_TOKEN)
    with fake_slack.expect("token_revoked", on="auth.test"):
        result = start(config, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                "SLACK_API_URL": fake_slack.api_url})
    refused_in_one_line(result, "(token_revoked)", "reinstall the app")


def test_an_unreachable_api_names_the_url(config):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
    result = start(config, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url})
    refused_in_one_line(result, f"cannot reach Slack's Web API at {url}", "SLACK_API_URL")


def test_a_refused_app_token_stops_socket_mode(config, fake_slack):
    with fake_slack.expect("invalid_auth", on="apps.connections.open"):
        result = start(config, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-never-issued-by-this-fake",
                                "SLACK_API_URL": fake_slack.api_url})
    refused_in_one_line(result, "Slack refused SLACK_APP_TOKEN (invalid_auth)", "App-Level Tokens")
    assert len(fake_slack.calls_to("/api/auth.test")) == 1  # the bot token was fine


def test_a_bot_token_given_as_the_app_token_is_the_wrong_kind(config, fake_slack):
    with fake_slack.expect("not_allowed_token_type", on="apps.connections.open"):
        result = start(config, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN,
                                "SLACK_API_URL": fake_slack.api_url})
    refused_in_one_line(result, "(not_allowed_token_type)", "xapp-")


@pytest.mark.parametrize("env, told", [
    ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP)"),
    ({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_CLIENT_ID": "123.456"},
     "SLACK_CLIENT_SECRET is not set"),
], ids=["bot token only", "signing secret only", "app token only", "client id without secret"])
def test_half_set_variables_say_what_is_missing(config, env, told):
    refused_in_one_line(start(config, env), told)


def test_a_good_token_is_checked_once_and_the_bot_serves(config, fake_slack):
    server = BotServer(config, fake_slack)
    try:
        assert len(fake_slack.calls_to("/api/auth.test")) == 1
        log = server.log.read_text()
        assert "`token` will be unused" not in log  # bolt's warning about a token our client carries
    finally:
        server.stop()
