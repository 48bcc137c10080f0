"""Shared fixtures: a bot driven as a user drives it, tiny real models, a fake Slack, a real HTTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.config import load_config  # noqa: E402
from bot.core import Nlpbot  # noqa: E402
from tests.support.fakeslack import FakeSlack  # noqa: E402
from tests.support.tinymodels import tiny_text_classifier  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


@pytest.fixture(scope="session")
def tiny_sentiment(tmp_path_factory) -> Path:
    return tiny_text_classifier(tmp_path_factory.mktemp("models") / "tiny-sentiment")


def write_config(folder: Path, body: str) -> Path:
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path):
    """Write a config.toml into a fresh folder and return its path."""

    def make(body: str) -> Path:
        return write_config(tmp_path, body)

    return make


class TestBot:
    """Drive the bot the way a person does: `bot.ask("/nlp help")` and read the reply."""

    __test__ = False

    def __init__(self, config_path: Path) -> None:
        self.config = load_config(config_path)
        self.bot = Nlpbot(self.config)

    def ask(self, text: str, **kwargs):
        return self.bot.ask(text, **kwargs)


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


@pytest.fixture
def testbot(tmp_path, tiny_sentiment) -> TestBot:
    return TestBot(write_config(tmp_path, sentiment_config(tiny_sentiment)))


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    assert not fake.violations, f"the bot broke Slack's rules: {fake.violations}"


class BotServer:
    """`nlpbot run --adapter http` in a subprocess, as it runs in production."""

    def __init__(self, config: Path, fake: FakeSlack, *, env: dict[str, str] | None = None) -> None:
        self.log = config.parent / "bot.log"
        environment = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                       "SLACK_API_URL": fake.api_url, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--adapter", "http", "--port", "0", "--host", "127.0.0.1",
             "--config", str(config)],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=self._log_file, text=True,
        )
        deadline = time.monotonic() + 120
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


@pytest.fixture(scope="module")
def module_fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    assert not fake.violations, f"the bot broke Slack's rules: {fake.violations}"


@pytest.fixture(scope="module")
def http_bot(tmp_path_factory, tiny_sentiment, module_fake_slack):
    folder = tmp_path_factory.mktemp("http-bot")
    server = BotServer(write_config(folder, sentiment_config(tiny_sentiment, "max_wait_ms = 2")), module_fake_slack)
    yield server
    server.stop()
