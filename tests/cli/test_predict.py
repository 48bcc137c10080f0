"""`nlpbot predict PLUGIN` (bot/cli/predict.py): files, stdin, bad lines, --output and the progress bar."""

from __future__ import annotations

import json
import subprocess
import sys

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
    assert all(set(row) == {"text", "label", "score"} for i, row in enumerate(rows) if i != 150)
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
