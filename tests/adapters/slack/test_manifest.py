"""The Slack app manifest is written from the plugins (`nlpbot slack manifest`); the shipped one is its output."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack.manifest import scalar, to_yaml
from bot.config import load_config
from bot.core import Nlpbot
from tests.support.bots import ROOT
from tests.support.commandline import nlpbot

SHIPPED = ROOT / "slack" / "manifest.yml"


def test_the_shipped_manifest_is_what_nlpbot_slack_manifest_writes_for_the_shipped_config():
    written = nlpbot("slack", "manifest", config=ROOT / "config.toml")
    assert written.returncode == 0, written.stderr
    assert written.stdout == SHIPPED.read_text(encoding="utf-8"), (
        "slack/manifest.yml is out of date: `nlpbot slack manifest --out slack/manifest.yml`")


def test_every_command_and_shortcut_the_bot_answers_is_in_the_manifest_with_the_events_it_listens_to():
    manifest = yaml.safe_load(SHIPPED.read_text())
    bot = Nlpbot(load_config(ROOT / "config.toml"))
    commands = {entry["command"].lstrip("/"): entry for entry in manifest["features"]["slash_commands"]}
    assert set(commands) == set(bot.router.commands) | {"nlp"}
    assert commands["sentiment"]["usage_hint"] == "TEXT | #channel [N]"  # the usage, less the command itself
    assert all(entry["should_escape"] for entry in commands.values())  # channels and people arrive with their ids
    shortcuts = manifest["features"]["shortcuts"]
    assert {s["callback_id"] for s in shortcuts} == set(bot.router.shortcuts)
    assert {s["name"] for s in shortcuts} == {"Summarize thread", "Translate", "Sentiment", "Entities"}
    assert {s["type"] for s in shortcuts} == {"message"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "app_home_opened"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history", "channels:history", "files:read"} <= scopes


def test_the_manifest_keeps_within_what_slack_accepts():
    """The limits of Slack's manifest schema (slackapi/manifest-schema v1): past them a paste is refused."""
    manifest = yaml.safe_load(SHIPPED.read_text())
    assert 0 < len(manifest["display_information"]["name"]) <= 35
    assert 0 < len(manifest["display_information"]["description"]) <= 140
    commands = manifest["features"]["slash_commands"]
    assert len(commands) <= 50
    for entry in commands:
        assert entry["command"].startswith("/") and 2 <= len(entry["command"]) <= 32
        assert 0 < len(entry["description"]) <= 2000 and 0 < len(entry.get("usage_hint", "x")) <= 1000
    assert 0 < len(manifest["features"]["shortcuts"]) <= 10
    for shortcut in manifest["features"]["shortcuts"]:
        assert 0 < len(shortcut["name"]) <= 24 and 0 < len(shortcut["description"]) <= 150


def test_an_oauth_install_asks_for_the_manifests_scopes():
    from bot.adapters.slack.oauth import BOT_SCOPES

    manifest = yaml.safe_load(SHIPPED.read_text())
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_the_manifest_follows_the_config_and_serves_http_mode(make_config, tmp_path):
    config = make_config('[plugins.translate]\nenabled = false\n[plugins.search]\nenabled = false\n'
                         '[bot]\nname = "helper"\n[slack]\npath = "/hooks/slack"\n')
    out = tmp_path / "manifest.yml"
    written = nlpbot("slack", "manifest", "--url", "https://bot.example.org/", "--out", str(out), config=config)
    assert written.returncode == 0, written.stderr
    assert written.stdout == "" and str(out) in written.stderr
    manifest = yaml.safe_load(out.read_text())
    commands = {entry["command"] for entry in manifest["features"]["slash_commands"]}
    assert "/translate" not in commands and "/ask" not in commands and {"/sentiment", "/nlp-admin"} <= commands
    assert "translate_message" not in {s["callback_id"] for s in manifest["features"]["shortcuts"]}
    assert manifest["display_information"]["name"] == manifest["features"]["bot_user"]["display_name"] == "helper"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.org/hooks/slack"
    assert manifest["oauth_config"]["redirect_urls"] == ["https://bot.example.org/slack/oauth_redirect"]
    assert "https://bot.example.org/slack/install" in out.read_text()  # the header says where to install
    refused = nlpbot("slack", "manifest", "--url", "bot.example.org", config=config)
    assert refused.returncode == 2 and "https://HOST" in refused.stderr


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80))
def test_any_text_reads_back_from_the_yaml_unchanged(text):
    assert yaml.safe_load("\n".join(to_yaml({"description": text, "list": [text, {"name": text}]}))) == {
        "description": text, "list": [text, {"name": text}]}
    assert yaml.safe_load(f"k: {scalar(text)}")["k"] == text
