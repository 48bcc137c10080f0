"""`nlpbot predict PLUGIN` (bot/cli/predict.py): files, stdin, bad lines, --output and the progress bar."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from bot import plugin_manager
from bot.cli import main, parser
from bot.plugin import Option, Plugin, Reply, Request, command
from tests.support.bots import ROOT, sentiment_config
from tests.support.commandline import nlpbot


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
    assert all(set(row) == {"text", "label", "score", "top"} for i, row in enumerate(rows) if i != 150)
    assert rows[0]["text"] == "message number 0"  # the byte order mark is not part of the text
    assert "1 input(s) could not be scored" in result.stderr

    piped = nlpbot("predict", "sentiment", config=config, stdin=None, stdin_bytes=b"fine\n\xff\xfe\x00\x81\n")
    assert piped.returncode == 1
    assert [("error" in json.loads(line)) for line in piped.stdout.splitlines()] == [False, True]


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


class Echo(Plugin):
    """A third-party plugin whose batch use takes options of its own: the command line must know it only by them."""

    name = "echo"
    description = "Says your text again."
    predict_options = (Option("times", type=int, metavar="N", help="say it N times"),
                       Option("end_mark", help="what follows each text"))

    @command(usage="/echo TEXT")
    def echo(self, request: Request) -> Reply:
        """Say it again."""
        return Reply(text=request.require_text(usage="/echo TEXT"))

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        said = [(text + (options.get("end_mark") or "")) * (options.get("times") or 1) for text in texts]
        return [{"text": text, "echo": echo, "options": options} for text, echo in zip(texts, said)]


@pytest.fixture
def with_echo(monkeypatch):
    """Echo installed as an entry point would install it: both the command line and the bot find it."""
    installed = plugin_manager.discover

    monkeypatch.setattr(plugin_manager, "discover", lambda: {**installed(), "echo": lambda: Echo})


def parse_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["predict", *argv])
    assert exited.value.code == 2, "a usage error"
    return capsys.readouterr().err


def test_a_plugins_own_options_reach_its_predict(with_echo, make_config, tiny_sentiment, tmp_path, capsys):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.txt"
    data.write_text("hello\nbye\n", encoding="utf-8")
    assert main(["predict", "echo", "--input", str(data), "--times", "2", "--end-mark", "!", "--config", str(config)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"text": "hello", "echo": "hello!hello!", "options": {"times": 2, "end_mark": "!"}},
                    {"text": "bye", "echo": "bye!bye!", "options": {"times": 2, "end_mark": "!"}}]
    assert main(["predict", "echo", "--input", str(data), "--config", str(config)]) == 0
    assert [json.loads(line)["options"] for line in capsys.readouterr().out.splitlines()] == [{}, {}]  # none given


def test_predict_plugin_help_shows_that_plugins_options(with_echo, capsys):
    shown = {}
    for plugin in ("search", "translate", "sentiment", "echo"):
        with pytest.raises(SystemExit) as exited:
            main(["predict", plugin, "--help"])
        assert exited.value.code == 0
        shown[plugin] = capsys.readouterr().out
    assert "the search plugin's options:" in shown["search"]
    assert "--index NAME" in shown["search"] and "--k N" in shown["search"] and "--to" not in shown["search"]
    assert "--to LANG" in shown["translate"] and "--index" not in shown["translate"]
    assert "plugin's options" not in shown["sentiment"] and not {"--index", "--k", "--to"} & set(shown["sentiment"].split())
    assert "--times N" in shown["echo"] and "--end-mark END_MARK" in shown["echo"]


def test_an_option_the_plugin_does_not_declare_is_a_usage_error_naming_its_options(with_echo, capsys):
    assert "the sentiment plugin has no option --to; it takes no options of its own" in parse_error(capsys, "sentiment", "--to", "de")
    assert "the search plugin has no option --to; its options: --index NAME, --k N" in parse_error(capsys, "search", "--to=de")
    assert "the translate plugin has no option --k; its options: --to LANG" in parse_error(capsys, "translate", "--k", "3")
    assert "the echo plugin has no option --index; its options: --times N, --end-mark END_MARK" in parse_error(
        capsys, "--index", "docs", "echo")  # a flag before the plugin is still the plugin's
    assert "no plugin 'nosuch'" in parse_error(capsys, "nosuch", "--k", "3")


def test_options_given_before_the_plugin_are_the_plugins(make_config, tiny_sentiment, capsys):
    args = parser().parse_args(["predict", "--k", "3", "--index", "docs", "search", "--no-progress"])
    assert (args.plugin, args.plugin_options, args.no_progress) == ("search", {"k": 3, "index": "docs"}, True)
    args = parser().parse_args(["predict", "translate", "--to", "de"])
    assert (args.plugin, args.plugin_options) == ("translate", {"to": "de"})
