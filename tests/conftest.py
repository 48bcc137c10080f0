"""Shared fixtures (helpers live in tests/support/): a tiny real model, a bot, a fake Slack, a real HTTP server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from hypothesis import settings  # noqa: E402

# Property tests check what comes out, never how fast: a shared machine must not fail them on time.
settings.register_profile("nlpbot", deadline=None)
settings.load_profile("nlpbot")

from tests.support.bots import BotServer, TestBot, sentiment_config, write_config  # noqa: E402
from tests.support.fakeslack import FakeSlack  # noqa: E402
from tests.support.redisserver import RedisServer  # noqa: E402
from tests.support.tinymodels import tiny_text_classifier  # noqa: E402


@pytest.fixture(scope="session")
def tiny_sentiment(tmp_path_factory) -> Path:
    return tiny_text_classifier(tmp_path_factory.mktemp("models") / "tiny-sentiment")


@pytest.fixture(scope="session")
def trained_triage(tmp_path_factory, tiny_sentiment) -> Path:
    """A folder whose config.toml defines [classifiers.triage] and whose models/ holds its first trained version
    (`nlpbot train triage` on a tiny BERT, once per session); copy it (tests.support.classifiers.copy_trained)."""
    from tests.support.classifiers import nlpbot, triage_config

    folder = tmp_path_factory.mktemp("triage")
    trained = nlpbot("train", "triage", "--quiet", config=triage_config(folder, tiny_sentiment))
    assert trained.returncode == 0, trained.stderr
    return folder


@pytest.fixture
def make_config(tmp_path):
    """Write a config.toml into a fresh folder and return its path."""

    def make(body: str) -> Path:
        return write_config(tmp_path, body)

    return make


@pytest.fixture
def testbot(tmp_path, tiny_sentiment) -> TestBot:
    return TestBot(write_config(tmp_path, sentiment_config(tiny_sentiment)))


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    fake.check()


@pytest.fixture(scope="module")
def module_fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    fake.check()


@pytest.fixture(autouse=True)
def slack_refusals_fail_their_test(request):
    """A module's fake Slack outlives each test: the refusals a test caused and did not declare fail that test."""
    if "module_fake_slack" not in request.fixturenames:
        yield
        return
    fake = request.getfixturevalue("module_fake_slack")
    yield
    fake.check()  # also what an earlier test's late replies broke meanwhile: the message names the call


@pytest.fixture(scope="module")
def http_bot(tmp_path_factory, tiny_sentiment, module_fake_slack):
    folder = tmp_path_factory.mktemp("http-bot")
    server = BotServer(write_config(folder, sentiment_config(tiny_sentiment, "max_wait_ms = 2")), module_fake_slack)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A real redis-server of the test module's own (tests/support/redisserver.py), stopped after the module."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()
