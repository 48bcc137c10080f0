"""`nlpbot ask`, `nlpbot chat` and `nlpbot run` (bot/cli/run.py) as a person types them."""

from __future__ import annotations

import json

from tests.support.bots import sentiment_config
from tests.support.commandline import nlpbot


def test_ask_json_has_the_documented_shape(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("ask", "--json", "/sentiment I love this", config=config)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert set(reply) == {"plugin", "text", "blocks", "data"}
    assert reply["plugin"] == "sentiment"
    assert reply["data"]["label"] in {"positive", "negative", "neutral"}
    assert 0.0 <= reply["data"]["score"] <= 1.0


def test_the_bot_agrees_with_the_raw_pipeline(testbot, tiny_sentiment):
    from transformers import pipeline

    raw = pipeline("text-classification", model=str(tiny_sentiment), device="cpu")
    for text in ["I love this", "this is awful", "the meeting is at noon"]:
        expected = raw(text)[0]
        got = testbot.ask(f"/sentiment {text}").data
        assert got["label"] == expected["label"]
        assert abs(got["score"] - expected["score"]) < 1e-3


def test_chat_answers_each_line_until_quit(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("chat", config=config, stdin="help\nsentiment what a day\nquit\nsentiment never read\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("nlpbot> ") == 2
    assert "/sentiment TEXT" in result.stdout


def test_run_without_slack_credentials_serves_the_console(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    env = {"SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": ""}
    result = nlpbot("run", config=config, stdin="help\n", env=env)
    assert result.returncode == 0, result.stderr
    assert "serving the console" in result.stdout
    assert "/sentiment TEXT" in result.stdout


def test_http_without_a_bot_token_is_a_clear_runtime_error(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("run", "--adapter", "http", config=config, env={"SLACK_BOT_TOKEN": ""})
    assert result.returncode == 3
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


def test_json_logs_carry_the_request_id(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment).replace("[bot]", '[bot]\nlog_format = "json"\nlog_level = "DEBUG"'))
    result = nlpbot("ask", "/sentiment logs for operators", config=config)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = next(e for e in entries if e["logger"] == "bot.router" and "sentiment by console" in e["message"])
    assert finished["request_id"] != "-"
    assert finished["message"].startswith(f"request {finished['request_id']} ")


def test_ask_prints_readable_text_without_slack_markup(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    scored = nlpbot("ask", "/sentiment I love this", config=config)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.split()[1] in {"Positive", "Negative", "Neutral"}
    assert "*" not in scored.stdout and ":large_green_circle:" not in scored.stdout
    refused = nlpbot("ask", "/sentiment", config=config)
    assert refused.returncode == 2  # asked wrongly: a usage error
    assert refused.stdout.startswith("⚠ ") and ":warning:" not in refused.stdout
    helped = nlpbot("ask", "help", config=config)
    assert "_(admins)_" not in helped.stdout and "(admins)" in helped.stdout
    assert "/sentiment #channel [N] — Score a text" in helped.stdout  # usage and description apart
    assert not any(mark in helped.stdout for mark in ("*", "`", "<", ">"))


def test_the_console_starts_without_library_log_lines(make_config, tiny_sentiment):
    jobs = '[schedule]\nstate_db = "state/jobs.sqlite"\n[[schedule.jobs]]\nid = "nightly"\naction = "reindex"\n' \
           'target = "docs"\ncron = "0 3 * * *"\n'
    config = make_config(sentiment_config(tiny_sentiment) + jobs)
    result = nlpbot("run", config=config, stdin="sentiment what a day\n",
                    env={"SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": ""})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # APScheduler's "Added job" / "Scheduler started", transformers' warnings
    assert "nlpbot> " in result.stdout
