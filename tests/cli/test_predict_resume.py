"""`nlpbot predict --output FILE` killed in the middle: the rerun continues after the last complete line."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

from bot.engines.stream import predict_stream
from tests.support.bots import ROOT, sentiment_config

LINES = 2_000


def start(config, data, out) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "predict", "sentiment", "--input", str(data), "--output",
                             str(out), "--config", str(config)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_predict_killed_mid_file_resumes_after_the_last_complete_line(make_config, tiny_sentiment, tmp_path, testbot):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.txt"
    texts = [f"message number {i} is {'great' if i % 3 else 'awful'}" for i in range(LINES)]
    data.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "scored.jsonl"

    first = start(config, data, out)
    deadline = time.monotonic() + 180
    while (not out.exists() or out.stat().st_size < 1_000) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL, first.stderr.read()
    left = out.read_bytes()
    done = left.count(b"\n")
    assert 0 < done < LINES

    second = start(config, data, out)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"holds {done} line(s) from an earlier run; continuing after them" in err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows] == texts  # every input once, in order: nothing lost, nothing twice

    reference = io.StringIO()
    assert predict_stream(testbot.bot, "sentiment", texts, reference) == 0
    expected = [json.loads(line) for line in reference.getvalue().splitlines()]
    assert [row["label"] for row in rows] == [row["label"] for row in expected]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(rows, expected)) < 1e-4


def test_an_output_file_of_other_input_is_refused_not_appended_to(make_config, tiny_sentiment, tmp_path):
    config = make_config(sentiment_config(tiny_sentiment))
    data = tmp_path / "in.txt"
    data.write_text("first line\nsecond line\nthird line\n", encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    out.write_text('{"text": "something else", "label": "neutral", "score": 0.5}\n{"text": "half', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "predict", "sentiment", "--input", str(data), "--output",
                             str(out), "--config", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 2
    assert "belongs to other input" in result.stderr
    assert out.read_text(encoding="utf-8") == '{"text": "something else", "label": "neutral", "score": 0.5}\n'
