"""The console adapter: `nlpbot chat`, `nlpbot ask` and `nlpbot run` without Slack, through the same router.

A line is read as a message a person would type in Slack (the contract of `nlpbot ask`), so Slack's markup in
it (`<#C0123|general>`, `&amp;`) is made plain by the Slack adapter's own parser (bot.adapters.slack.markup).
Replies are rendered for a terminal (bold, italics, emoji, links) when the output is one, and as plain
text without Slack markup when it is a pipe or a file; `--json` prints the documented JSON shape.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from bot.adapters.slack import markup
from bot.core import Nlpbot
from bot.format import to_json, to_text
from bot.reply import Reply
from bot.request import CollectingResponder

PROMPT = "you> "


def show(out: TextIO, text: Text, prefix: str = "") -> None:
    """Styles on a terminal, plain text elsewhere."""
    line = Text.assemble((prefix, "bold green"), text)
    if out.isatty():
        Console(file=out, highlight=False, soft_wrap=True).print(line)
    else:
        out.write(line.plain + "\n")
    out.flush()


class ConsoleResponder(CollectingResponder):
    """Replies a plugin sends before its answer (progress, extra messages) are shown as they come."""

    def __init__(self, out: TextIO, prefix: str = "") -> None:
        super().__init__()
        self.out, self.prefix = out, prefix

    def send(self, reply: Any) -> None:
        self.sent.append(reply)
        show(self.out, to_text(reply), self.prefix)

    def upload(self, path: str, *, title: str, comment: str = "") -> None:
        self.uploads.append((path, title))
        show(self.out, Text(f"{title}: {path}" + (f" ({comment})" if comment else "")), self.prefix)


def answer(bot: Nlpbot, text: str, **fields: Any) -> Reply:
    """The reply to one line as a person would type it in Slack: its markup made plain, its channels typed."""
    message = markup.parse(text)
    return bot.ask(message.text, channel_refs=message.channel_refs, user_refs=message.user_refs, **fields)


def ask(bot: Nlpbot, text: str, *, user_id: str = "console", as_json: bool = False, out: TextIO | None = None) -> int:
    """One message, one printed reply; the exit code says how it went (bot.errors): 0 answered, 2 asked wrongly
    (an unknown command, no text), 3 the bot could not answer (a missing model, a failure on its side)."""
    out = out or sys.stdout  # looked up now: a caller may have replaced sys.stdout since import
    reply = answer(bot, text, user_id=user_id, responder=ConsoleResponder(sys.stderr if as_json else out))
    if as_json:
        out.write(json.dumps(to_json(reply), ensure_ascii=False) + "\n")
    else:
        show(out, to_text(reply))
    return reply.exit_code


def chat(bot: Nlpbot, *, user_id: str = "console", stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """A conversation: each line is a message as in a DM; `quit`, `exit` or end of input stops."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    interactive = stdin.isatty()
    prefix = f"{bot.config.bot.name}> "
    out.write(f"{bot.config.bot.name}: type a command (`help` lists them), `quit` to leave.\n")
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = stdin.readline()
        if not line or line.strip().lower() in {"quit", "exit"}:
            return 0
        if not line.strip():
            continue
        reply = answer(bot, line.strip(), user_id=user_id, source="dm", responder=ConsoleResponder(out, prefix))
        show(out, to_text(reply), prefix)
