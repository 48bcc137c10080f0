"""The Slack app manifest of the bot as built: slash commands, shortcuts, scopes, events (`nlpbot slack manifest`).

Commands and shortcuts come from the enabled plugins (`Nlpbot.router`: each command's usage and help, each
plugin's `shortcuts`); scopes and events are what this adapter uses, whatever the plugins (they never call Slack).
The text is YAML written here, so the shipped slack/manifest.yml is byte for byte this module's output for the
shipped config.toml (tests/adapters/slack/test_manifest.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.errors import ConfigError
from bot.router import GENERIC_COMMAND

# What the adapter calls need (OAuth asks for exactly these): read channels for members (conversations.*,
# history for mentions, channels and recaps), DMs, post and update, files (shared data, training plots),
# slash commands, and people's timezones (users:read, for recaps).
BOT_SCOPES = ("app_mentions:read", "channels:history", "channels:read", "groups:history", "groups:read",
              "im:history", "im:read", "im:write", "chat:write", "commands", "files:read", "files:write",
              "users:read")
BOT_EVENTS = ("app_mention", "app_home_opened", "message.im")  # app.py's listeners (direct messages only)
EXAMPLE_URL = "https://nlpbot.example.com"
DESCRIPTION = "A multi-task NLP bot: every command comes from a plugin. /nlp help lists them."
# The limits of Slack's manifest schema (slackapi/manifest-schema, v1): a manifest past them is refused on paste.
COMMANDS, COMMAND_CHARS, SHORTCUTS, SHORTCUT_NAME_CHARS, SHORTCUT_DESCRIPTION_CHARS = 50, 32, 10, 24, 150
HEADER = """\
# Slack app manifest, written by `nlpbot slack manifest` for the enabled plugins: after adding a command (a plugin,
# a classifier) write it again and paste it into the app's settings (api.slack.com/apps -> your app -> App Manifest).
# A new app: api.slack.com/apps -> Create New App -> From an app manifest -> paste this.
# For HTTP mode: `nlpbot slack manifest --url https://YOUR-HOST` (its URLs, and socket_mode_enabled: false).
# Installing into several workspaces (OAuth): keep HTTP mode, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, and share
# {url}/slack/install (README: Install into several workspaces).
"""


def usage_hint(command: str, usage: str) -> str:
    """`/sentiment TEXT  |  /sentiment #channel [N]` -> `TEXT | #channel [N]`: the forms typed after the command."""
    hints = []
    for part in (part.strip() for part in usage.split("|")):
        if part == f"/{command}":
            continue
        if part.startswith(f"/{command} "):
            part = part[len(command) + 2:].strip()
        elif part.startswith(("/", "@")):
            continue  # another way in (`@nlpbot summarize` in a thread), not typed after this command
        hints.append(part)
    return " | ".join(hints)[:1000]


def manifest(bot: Any, *, url: str | None = None) -> dict[str, Any]:
    """The manifest as a dict; `url` (the bot's public base URL) means HTTP mode, else Socket Mode."""
    base = (url or EXAMPLE_URL).rstrip("/")
    events_url = base + bot.config.slack.path
    commands = [{"command": f"/{GENERIC_COMMAND}", "url": events_url,
                 "description": f"Help, and every {bot.config.bot.name} command", "usage_hint": "help | COMMAND TEXT",
                 "should_escape": True}]
    ordered = sorted(bot.router.commands.values(), key=lambda pair: (pair[1].admin_only, pair[0].name, pair[1].name))
    for plugin, spec in ordered:
        if len(spec.name) + 1 > COMMAND_CHARS:
            raise ConfigError(f"the {plugin.name} plugin's command /{spec.name} is longer than Slack's "
                              f"{COMMAND_CHARS} characters")
        described = (spec.help or plugin.description or spec.name).replace("`", "")  # Slack shows it as plain text
        if spec.admin_only:
            described = described.rstrip(".") + " (admins only)."
        entry = {"command": f"/{spec.name}", "url": events_url, "description": described}
        hint = usage_hint(spec.name, spec.usage)
        commands.append({**entry, **({"usage_hint": hint} if hint else {}), "should_escape": True})
    if len(commands) > COMMANDS:
        raise ConfigError(f"{len(commands)} slash commands; a Slack app takes at most {COMMANDS}: disable some plugins")
    features: dict[str, Any] = {
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        "bot_user": {"display_name": bot.config.bot.name, "always_online": True},
        "slash_commands": commands,
    }
    shortcuts = [{"name": shortcut.name, "type": "message", "callback_id": callback_id,
                  "description": shortcut.description} for callback_id, (_, shortcut) in bot.router.shortcuts.items()]
    _check_shortcuts(shortcuts)
    if shortcuts:
        features["shortcuts"] = shortcuts
    return {
        "display_information": {"name": bot.config.bot.name, "description": DESCRIPTION, "background_color": "#2c2d30"},
        "features": features,
        "oauth_config": {"redirect_urls": [base + "/slack/oauth_redirect"], "scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": events_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": events_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": url is None,
            "token_rotation_enabled": False,
        },
    }


def _check_shortcuts(shortcuts: list[dict[str, str]]) -> None:
    if len(shortcuts) > SHORTCUTS:
        raise ConfigError(f"{len(shortcuts)} message shortcuts; a Slack app takes at most {SHORTCUTS}: disable some")
    for shortcut in shortcuts:
        if not (0 < len(shortcut["name"]) <= SHORTCUT_NAME_CHARS
                and 0 < len(shortcut["description"]) <= SHORTCUT_DESCRIPTION_CHARS):
            raise ConfigError(f"the shortcut {shortcut['callback_id']!r}: Slack takes a name of 1 to "
                              f"{SHORTCUT_NAME_CHARS} characters and a description of 1 to {SHORTCUT_DESCRIPTION_CHARS}")


def manifest_yaml(bot: Any, *, url: str | None = None) -> str:
    """The manifest as the YAML to paste, with its comment header."""
    return HEADER.format(url=(url or EXAMPLE_URL).rstrip("/")) + "\n".join(to_yaml(manifest(bot, url=url))) + "\n"


# -- a small YAML writer: mappings, lists and scalars, two spaces a level, as Slack's own examples look ----------

PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9 _./:;,?!()'’…-]*")
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    """One value: booleans and numbers as YAML has them, a string plain where YAML reads it back unchanged, else
    double-quoted with every character YAML would not keep as it is escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if (PLAIN.fullmatch(text) and text == text.strip() and ": " not in text and not text.endswith(":")
            and text.lower() not in RESERVED):
        return text
    return '"' + "".join(_quoted(ch) for ch in text) + '"'


def _quoted(ch: str) -> str:
    code = ord(ch)
    if ch in '"\\':
        return "\\" + ch
    if (0x20 <= code <= 0x7E or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF) or 0x10000 <= code <= 0x10FFFF):
        return ch
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def to_yaml(value: Any, indent: int = 0) -> list[str]:
    """The lines of a mapping or a list (block style)."""
    pad, lines = " " * indent, []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines += to_yaml(item, indent + 2)
            else:
                empty = "{}" if isinstance(item, dict) else "[]"
                lines.append(f"{pad}{key}: {empty if isinstance(item, (dict, list)) else scalar(item)}")
        return lines
    for item in value:
        if isinstance(item, dict) and item:
            first, *rest = to_yaml(item, indent + 2)
            lines += [f"{pad}- {first.lstrip()}", *rest]
        else:
            lines.append(f"{pad}- {scalar(item)}")
    return lines
