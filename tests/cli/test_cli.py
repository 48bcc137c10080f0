"""The command line a person types: ask, chat, predict, run on the console."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.engines.stream import predict_stream
from tests.support.bots import ROOT, sentiment_config


def nlpbot(*args, config=None, stdin="", env=None, stdin_bytes=None):
    command = [sys.executable, "-m", "bot", *args] + (["--config", str(config)] if config else [])
    if stdin_bytes is not None:
        result = subprocess.run(command, cwd=ROOT, input=stdin_bytes, capture_output=True, timeout=180,
                                env={**__import__("os").environ, **(env or {})})
        return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())
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


def test_an_undecodable_line_gets_its_error_and_every_other_line_is_scored(make_config, tiny_sentiment, tmp_path):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "mixed.txt"
    lines = [f"message number {i}".encode() for i in range(300)]
    lines[150] = b"caf\xe9 latin-1, not UTF-8"
    data.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    result = nlpbot("predict", "sentiment", "--input", str(data), config=config)
    assert result.returncode == 1, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 300
    assert rows[150] == {"text": "caf\ufffd latin-1, not UTF-8",
                         "error": f"{data}:151: not UTF-8 text (invalid continuation byte at byte 3)"}
    assert all(set(row) == {"text", "label", "score"} for i, row in enumerate(rows) if i != 150)
    assert rows[0]["text"] == "message number 0"  # the byte order mark is not part of the text
    assert "1 input(s) could not be scored" in result.stderr

    piped = nlpbot("predict", "sentiment", config=config, stdin=None, stdin_bytes=b"fine\n\xff\xfe\x00\x81\n")
    assert piped.returncode == 1
    assert [("error" in json.loads(line)) for line in piped.stdout.splitlines()] == [False, True]


def test_json_logs_carry_the_request_id(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment).replace("[bot]", '[bot]\nlog_format = "json"\nlog_level = "DEBUG"'))
    result = nlpbot("ask", "/sentiment logs for operators", config=config)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = next(e for e in entries if e["logger"] == "bot.router" and "sentiment by console" in e["message"])
    assert finished["request_id"] != "-"
    assert finished["message"].startswith(f"request {finished['request_id']} ")


def test_version():
    result = nlpbot("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"nlpbot {__import__('bot').__version__}"


def test_models_list_without_a_plugin_lists_every_trainable_plugin(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("models", "list", config=config)
    assert result.returncode == 0, result.stderr
    assert {"sentiment:", "ner:", "summarize:", "translate:", "search:"} <= set(result.stdout.splitlines())
    listed = nlpbot("models", "list", "--json", config=config)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_usage_errors_exit_2_and_say_what_was_wrong(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    unknown = nlpbot("models", "list", "nosuch", config=config)
    assert unknown.returncode == 2
    assert unknown.stderr == "error: 'nosuch' cannot be trained; trainable plugins: ner, search, sentiment, summarize, translate\n"
    no_plugin = nlpbot("predict", "nosuch", config=config, stdin="hello\n")
    assert no_plugin.returncode == 2 and "no enabled plugin 'nosuch'" in no_plugin.stderr
    assert nlpbot("jobs", "run", config=config).returncode == 2
    assert nlpbot("frobnicate").returncode == 2  # argparse's own usage errors


def test_a_missing_model_is_a_runtime_error(make_config):
    config = make_config('[models]\nmodels_dir = "models"\n')  # sentiment serves trained:sentiment, never trained here
    result = nlpbot("predict", "sentiment", config=config, stdin="I love this\n")
    assert result.returncode == 3, result.stderr
    assert "nlpbot train sentiment" in result.stderr and "Traceback" not in result.stderr


def test_predict_with_bad_lines_exits_1_and_scores_the_rest(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("predict", "sentiment", config=config, stdin='I love this\n{"text": 3}\nso so\n')
    assert result.returncode == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in row) for row in rows] == [False, True, False]
    assert "1 input(s) could not be scored" in result.stderr


def test_predict_output_file_keeps_stdout_clean_and_shows_no_bar_off_a_terminal(make_config, tiny_sentiment, tmp_path):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.txt"
    data.write_text("".join(f"message number {i}\n" for i in range(30)))
    out = tmp_path / "scored.jsonl"
    result = nlpbot("predict", "sentiment", "--input", str(data), "--output", str(out), config=config)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "30/30" not in result.stderr  # no bar of ours (the model loader may draw its own)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["text"] for row in rows] == [f"message number {i}" for i in range(30)]


def test_predict_shows_a_progress_bar_on_a_terminal(make_config, tiny_sentiment, tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios
    import threading

    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.txt"
    data.write_text("".join(f"message number {i}\n" for i in range(200)))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    seen = bytearray()

    def drain():  # a full pty would block the child
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    process = subprocess.run([sys.executable, "-m", "bot", "predict", "sentiment", "--input", str(data),
                              "--config", str(config)], cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, timeout=180)
    os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    assert process.returncode == 0
    assert len(process.stdout.decode().splitlines()) == 200  # stdout: only the JSON lines
    assert "200/200" in seen.decode(errors="replace")


def test_ask_prints_readable_text_without_slack_markup(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    scored = nlpbot("ask", "/sentiment I love this", config=config)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.split()[1] in {"Positive", "Negative", "Neutral"}
    assert "*" not in scored.stdout and ":large_green_circle:" not in scored.stdout
    refused = nlpbot("ask", "/sentiment", config=config)
    assert refused.returncode == 1
    assert refused.stdout.startswith("⚠ ") and ":warning:" not in refused.stdout
    helped = nlpbot("ask", "help", config=config)
    assert "_(admins)_" not in helped.stdout and "(admins)" in helped.stdout
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
