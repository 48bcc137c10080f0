"""The bot as tests drive it: in process (`TestBot`), or `nlpbot run --adapter http` in a subprocess (`BotServer`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Sequence

from bot.adapters.slack.markup import parse
from bot.config import load_config
from bot.core import Nlpbot
from tests.support.fakeslack import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
__all__ = ["BOT_TOKEN", "SIGNING_SECRET", "ROOT", "TestBot", "BotServer", "write_config", "sentiment_config"]


def write_config(folder: Path, body: str) -> Path:
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


class TestBot:
    """Drive the bot the way a person does: `bot.ask("/nlp help")` and read the reply.

    The text is a message as Slack delivers it (`<#C0BANK|banking>`, `<@UBOT0001> summarize` with
    `bot_user_id`), made plain by the Slack adapter's own parser before the core sees it, as in production.
    """

    __test__ = False

    def __init__(self, config_path: Path) -> None:
        self.config = load_config(config_path)
        self.bot = Nlpbot(self.config)

    def ask(self, text: str, *, bot_user_id: str | None = None, **kwargs):
        message = parse(text, bot_user_id=bot_user_id, mention=kwargs.get("source") == "mention")
        return self.bot.ask(message.text, channel_refs=message.channel_refs, user_refs=message.user_refs, **kwargs)


def sentiment_config(model: Path, extra: str = "") -> str:
    return f"""
        [bot]
        admins = ["UADMIN01"]
        [models]
        models_dir = "models"
        [plugins.sentiment]
        model = "{model}"
        batch_size = 8
        {extra}
    """


class BotServer:
    """`nlpbot run --adapter http` in a subprocess, as it runs in production."""

    def __init__(self, config: Path, fake: FakeSlack, *, env: dict[str, str] | None = None, args: Sequence[str] = (),
                 start_timeout_s: float = 120.0) -> None:
        """`args` go after `nlpbot run ...` (e.g. ["--warm"]: every model loads before the port listens)."""
        self.log = config.parent / "bot.log"
        environment = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                       "SLACK_API_URL": fake.api_url, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--adapter", "http", "--port", "0", "--host", "127.0.0.1",
             "--config", str(config), *args],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=self._log_file, text=True,
        )
        deadline = time.monotonic() + start_timeout_s
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("listening on "):
                break
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"the bot did not start:\n{self.log.read_text()}")
        self.url = line.split("listening on ", 1)[1].strip()
        self.base = self.url.rsplit("/slack/events", 1)[0]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_file.close()
