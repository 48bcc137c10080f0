"""The one progress protocol between a training process and the process that started it.

A child (a torchrun worker, or `nlpbot train --progress-lines` started for an admin) writes each line a
person should see as ``nlpbot-progress: LINE``; the parent runs it with `run_reporting`, which hands
LINE to its own `progress` and keeps the child's other output (warnings, the error) for the report.

Example::

    child = run_reporting([sys.executable, "-m", "bot", "train", "sentiment", "--progress-lines"], progress=print)
    child.code, child.reported, child.tail[-5:]
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

Progress = Callable[[str], None]
PREFIX = "nlpbot-progress: "


def emit(line: str, stream: TextIO | None = None) -> None:
    """Write one progress line for the parent process (stdout unless told)."""
    print(PREFIX + line, file=stream or sys.stdout, flush=True)


def child_env(**extra: str) -> dict[str, str]:
    """This environment, with the `bot` package in use first on the path: a child runs the same code as its parent
    (also from a checkout that is not the installed one, and from any working directory)."""
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])), **extra}


@dataclass(frozen=True)
class ChildRun:
    code: int
    reported: bool  # whether the child wrote any progress line (it got as far as training)
    tail: list[str]  # its last lines that were not progress


def run_reporting(command: Sequence[str], *, progress: Progress | None, env: Mapping[str, str] | None = None,
                  cwd: str | None = None, timeout_s: float | None = None, keep: int = 200) -> ChildRun:
    """Run `command`, relaying its progress lines to `progress`; stopped with SIGTERM after `timeout_s`."""
    tail: collections.deque[str] = collections.deque(maxlen=keep)
    reported = stopped = False
    deadline = time.monotonic() + timeout_s if timeout_s else None
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(env) if env is not None else None, cwd=cwd)
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            # Another worker's unfinished output (a progress bar's "\r...") can share the line: look inside it.
            at = line.find(PREFIX)
            if at >= 0:
                reported = True
                if progress is not None and not stopped:
                    progress(line[at + len(PREFIX):].rstrip("\n"))
            elif line.strip():
                tail.append(line.rstrip())
            if deadline and not stopped and time.monotonic() > deadline:
                # The trainer stops cleanly on SIGTERM; keep reading so that its last words cannot block on a full pipe.
                process.terminate()
                stopped = True
                tail.append(f"stopped after {timeout_s:.0f} s")
        code = process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
    return ChildRun(code, reported, list(tail))
