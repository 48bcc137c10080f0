"""The command line a person types: ask, chat, predict, run on the console."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.predict import predict_stream
from tests.conftest import ROOT, sentiment_config


def nlpbot(*args, config=None, stdin="", env=None):
    command = [sys.executable, "-m", "bot", *args] + (["--config", str(config)] if config else [])
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=180,
                          env={**__import__("os").environ, **(env or {})})


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


def test_predict_keeps_order_and_reports_bad_lines_in_place(testbot):
    lines = [
        '{"text": "I love this"}',
        "a plain line of text",
        '{"text": 42}',
        '{"broken json',
        "",
        "!!! ???",
        '{"text": "last one"}',
    ]
    out = io.StringIO()
    failed = predict_stream(testbot.bot, "sentiment", lines, out, source="in.jsonl")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failed == 3
    assert [row.get("text") for row in rows] == ["I love this", "a plain line of text", None, None, "!!! ???", "last one"]
    assert rows[2]["error"] == 'in.jsonl:3: a JSON line needs a "text" string'
    assert rows[3]["error"].startswith("in.jsonl:4: not valid JSON")
    for row in (rows[0], rows[1], rows[5]):
        assert set(row) == {"text", "label", "score"}


def test_predict_command_on_a_file(make_config, tiny_sentiment, tmp_path):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps({"text": f"message number {i}"}) for i in range(50)) + "\n")
    result = nlpbot("predict", "sentiment", "--input", str(data), config=config)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == [f"message number {i}" for i in range(50)]


def test_predict_refuses_a_file_that_is_not_utf8(make_config, tiny_sentiment, tmp_path):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "binary.bin"
    data.write_bytes(b"\xff\xfe\x00\x81 not text")
    result = nlpbot("predict", "sentiment", "--input", str(data), config=config)
    assert result.returncode == 2
    assert "not UTF-8 text" in result.stderr


def test_json_logs_carry_the_request_id(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment).replace("[bot]", '[bot]\nlog_format = "json"\nlog_level = "DEBUG"'))
    result = nlpbot("ask", "/sentiment logs for operators", config=config)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = next(e for e in entries if e["logger"] == "bot.router" and "sentiment by console" in e["message"])
    assert finished["request_id"] != "-"
    assert finished["message"].startswith(f"request {finished['request_id']} ")
