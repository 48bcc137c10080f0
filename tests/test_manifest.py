"""The Slack app manifest declares every command the plugins answer, and the events the adapter listens to."""

from __future__ import annotations

import yaml

from bot.config import load_config
from bot.core import Nlpbot
from tests.conftest import ROOT


def test_every_plugin_command_has_a_slash_command_in_the_manifest():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    declared = {entry["command"].lstrip("/") for entry in manifest["features"]["slash_commands"]}
    bot = Nlpbot(load_config(ROOT / "config.toml"))
    assert set(bot.router.commands) | {"nlp"} == declared
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "app_home_opened"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history", "channels:history", "files:read"} <= scopes
