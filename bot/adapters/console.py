"""The console adapter: `nlpbot chat`, `nlpbot ask` and `nlpbot run` without Slack, through the same router."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from bot.core import Nlpbot
from bot.format import to_json, to_plain
from bot.request import CollectingResponder

PROMPT = "you> "


def ask(bot: Nlpbot, text: str, *, user_id: str = "console", as_json: bool = False, out: TextIO = sys.stdout) -> int:
    """One message, one printed reply; exit code 1 when the reply is an error."""
    responder = CollectingResponder(printer=lambda line: out.write(line + "\n"))
    reply = bot.ask(text, user_id=user_id, responder=responder)
    out.write((json.dumps(to_json(reply), ensure_ascii=False) if as_json else to_plain(reply)) + "\n")
    return 1 if reply.is_error else 0


def chat(bot: Nlpbot, *, user_id: str = "console", stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """A conversation: each line is a message as in a DM; `quit`, `exit` or end of input stops."""
    interactive = stdin.isatty()
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
        responder = CollectingResponder(printer=lambda text: out.write(f"{bot.config.bot.name}> {text}\n"))
        reply = bot.ask(line.strip(), user_id=user_id, source="dm", responder=responder)
        out.write(f"{bot.config.bot.name}> " + to_plain(reply) + "\n")
        out.flush()
