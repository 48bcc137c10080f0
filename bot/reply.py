"""One Reply, whatever the plugin: a body in Slack mrkdwn, optional fields, and machine-readable data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import EXIT_OK, EXIT_RUNTIME


@dataclass
class Reply:
    """What a plugin answers. `bot.format` renders it for Slack, the console or JSON."""

    text: str
    title: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    plugin: str = ""
    in_channel: bool = True  # a slash command's answer is seen by the channel; errors and help by the asker only
    is_error: bool = False
    exit_code: int = EXIT_OK  # what `nlpbot ask` exits with (bot.errors): 2 asked wrongly, 3 the bot could not

    @classmethod
    def error(cls, message: str, *, plugin: str = "", footer: str | None = None, exit_code: int = EXIT_RUNTIME) -> Reply:
        return cls(text=f":warning: {message}", plugin=plugin, in_channel=False, is_error=True, footer=footer,
                   data={"error": message}, exit_code=exit_code)
