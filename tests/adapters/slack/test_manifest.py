"""The Slack app manifest declares every command the plugins answer, and the events the adapter listens to."""

from __future__ import annotations

import yaml

from bot.config import load_config
from bot.core import Nlpbot
from tests.support.bots import ROOT


def test_every_plugin_command_has_a_slash_command_in_the_manifest():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    declared = {entry["command"].lstrip("/") for entry in manifest["features"]["slash_commands"]}
    bot = Nlpbot(load_config(ROOT / "config.toml"))
    assert set(bot.router.commands) | {"nlp"} == declared
    from bot.adapters.slack.app import BOT_EVENTS

    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history", "channels:history", "files:read"} <= scopes


def test_the_manifest_declares_the_message_shortcuts_the_bot_answers_and_interactivity():
    from bot.adapters.slack.interactivity import SHORTCUTS

    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    shortcuts = manifest["features"]["shortcuts"]
    assert {s["callback_id"] for s in shortcuts} == set(SHORTCUTS)
    assert {s["type"] for s in shortcuts} == {"message"}
    assert {s["name"] for s in shortcuts} == {"Summarize thread", "Translate", "Sentiment", "Entities"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_an_oauth_install_asks_for_the_manifests_scopes():
    from bot.adapters.slack.oauth import BOT_SCOPES

    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
