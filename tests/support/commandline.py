"""`nlpbot ...` in a subprocess, as a person types it: exit code, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.bots import ROOT


def nlpbot(*args, config=None, stdin="", env=None, stdin_bytes=None) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS [--config CONFIG]` from the checkout; `stdin_bytes` feeds bytes that are not text."""
    command = [sys.executable, "-m", "bot", *args] + (["--config", str(config)] if config else [])
    environment = {**os.environ, **(env or {})}
    if stdin_bytes is not None:
        result = subprocess.run(command, cwd=ROOT, input=stdin_bytes, capture_output=True, timeout=180, env=environment)
        return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=180, env=environment)


def shown(result: subprocess.CompletedProcess) -> str:
    """What the terminal showed of a command that succeeded: its progress and summary (stderr), then its output."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stderr + result.stdout
