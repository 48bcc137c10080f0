"""First run: `make run` indexes the project's README (and docs/) as `docs`, so `/ask` answers before anything is added."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.search.store import ChunkStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_the_first_run_indexes_the_readme_so_ask_answers_how_to_connect_slack(tmp_path: Path):
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copy(ROOT / "config.toml", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "faq.md").write_text("# FAQ\n\nThe bot answers in threads when it is mentioned in one.\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The Makefile's own step, with this checkout's Python in place of .venv (-o setup: no install).
    make = ["make", "-s", "-f", str(ROOT / "Makefile"), "-o", "setup", "docs-index", f"NLPBOT={sys.executable} -m bot"]

    first = subprocess.run(make, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "docs: 2 added" in first.stdout
    store = ChunkStore(tmp_path / "indexes" / "docs" / "chunks.sqlite")
    assert sorted(store.sources()) == ["README.md", "docs/faq.md"]
    store.close()

    ask = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "/ask how do I connect Slack"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ask.returncode == 0, ask.stderr
    reply = json.loads(ask.stdout)
    assert reply["data"]["found"] and reply["data"]["sources"][0] == "README.md"
    assert "SLACK_APP_TOKEN" in reply["text"] and "README.md" in reply["text"]

    chat = subprocess.run([sys.executable, "-m", "bot", "chat"], input="ask how do I connect Slack\nquit\n",
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert chat.returncode == 0 and "README.md" in chat.stdout
    talk = chat.stdout + chat.stderr  # what the person sees in the terminal: replies, no library log lines
    assert not any(level in talk for level in (" DEBUG ", " INFO ")), talk[-2000:]

    again = subprocess.run(make, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == ""  # an existing docs index is left as it is
