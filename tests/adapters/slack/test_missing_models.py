"""[bot] missing_models: a plugin without a working model either stops the bot (exit 3, naming the plugin and the fix)
or is marked unavailable on /healthz ("degraded") and in its answers; the mark goes when the model comes."""

from __future__ import annotations

import json
import shutil
import urllib.request

from bot.models import versions
from tests.support.bots import BOT_TOKEN, BotServer, TestBot, sentiment_config, write_config
from tests.support.commandline import nlpbot
from tests.support.slackhttp import slash, wait_until

NO_TRANSLATE = "\n[plugins.translate]\nenabled = false\n"  # it ships without a model: degraded or stopped by it too


def stopping(model) -> str:
    return sentiment_config(model).replace("[bot]", '[bot]\nmissing_models = "stop"') + NO_TRANSLATE


def healthz(server: BotServer) -> dict:
    with urllib.request.urlopen(server.base + "/healthz", timeout=10) as response:
        assert response.status == 200  # degraded still serves: a load balancer keeps sending work
        return json.loads(response.read())


def test_degrade_serves_the_rest_says_what_is_missing_and_recovers_when_the_model_comes(tmp_path, tiny_sentiment,
                                                                                        fake_slack):
    """The default: an empty models folder, sentiment untrained. /healthz and the answer both say how to train it;
    a version promoted into the (shared) models folder clears it within [schedule] model_check_s, unasked."""
    config = write_config(tmp_path, sentiment_config("trained:sentiment") + NO_TRANSLATE
                          + "\n[schedule]\nmodel_check_s = 0.5\n")
    server = BotServer(config, fake_slack)
    try:
        health = healthz(server)
        assert health["status"] == "degraded"
        assert "sentiment" not in health["plugins"] and "summarize" in health["plugins"]
        (problem,) = health["problems"]
        assert problem["source"] == "plugin sentiment" and "nlpbot train sentiment" in problem["detail"]
        assert slash(server, fake_slack, "/sentiment", "I love this", name="untrained")[0] == 200
        (answer,) = [call.body for call in fake_slack.wait_for("/response/untrained")]
        assert "no trained sentiment model is serving yet" in answer["text"] and "nlpbot train sentiment" in answer["text"]
        assert "plugin sentiment is unavailable" in server.log.read_text()  # the operator's one line about it
        shutil.copytree(tiny_sentiment, tmp_path / "models" / "sentiment" / "v0001-20261206T1200")
        versions.promote(tmp_path / "models", "sentiment", "v0001-20261206T1200")  # as `nlpbot train` would
        wait_until(lambda: healthz(server)["status"] == "ok", timeout=30)
        assert "sentiment" in healthz(server)["plugins"]
    finally:
        server.stop()


def test_stop_refuses_to_start_naming_the_plugin_and_the_fix(make_config):
    config = make_config(stopping("trained:sentiment"))
    result = nlpbot("run", "--adapter", "http", "--port", "0", config=config,
                    env={"SLACK_BOT_TOKEN": "xoxb-never-asked", "SLACK_SIGNING_SECRET": "s" * 32})
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: plugin sentiment: ") and "nlpbot train sentiment" in line
    assert 'missing_models = "degrade"' in line and "listening on" not in result.stdout


def test_stop_refuses_a_model_that_is_there_but_does_not_load(tmp_path, fake_slack):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")  # no weights, no tokenizer
    config = write_config(tmp_path, stopping(broken))
    result = nlpbot("run", "--adapter", "http", "--port", "0", config=config,
                    env={"SLACK_API_URL": fake_slack.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s" * 32})
    assert result.returncode == 3, result.stderr
    assert "error: plugin sentiment: plugins.sentiment.model: could not load" in result.stderr
    assert "listening on" not in result.stdout and "Traceback" not in result.stderr


def test_the_mark_goes_when_a_model_is_trained_and_comes_back_when_one_breaks(tmp_path, tiny_sentiment):
    bot = TestBot(write_config(tmp_path, sentiment_config("trained:sentiment") + NO_TRANSLATE)).bot
    assert set(bot.check_models()) == {"sentiment"}
    assert bot.ask("/sentiment I love this").exit_code == 3
    models = tmp_path / "models"
    shutil.copytree(tiny_sentiment, models / "sentiment" / "v0001-20261206T1200")
    versions.promote(models, "sentiment", "v0001-20261206T1200")  # as `nlpbot train` or an admin would
    assert bot.ask("/sentiment I love this").exit_code == 0
    assert bot.health.problems() == [] and bot.unavailable() == {}
    (models / "sentiment" / "v0002-20261206T1300").mkdir()  # promoted, but nothing in it loads
    versions.promote(models, "sentiment", "v0002-20261206T1300")
    fresh = TestBot(tmp_path / "config.toml").bot  # a bot started now finds the broken version
    assert fresh.check_models() == {}  # its files are there: only loading tells
    reply = fresh.ask("/sentiment I love this")
    assert reply.exit_code == 3 and "could not load" in reply.text
    assert set(fresh.unavailable()) == {"sentiment"}
