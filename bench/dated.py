"""Where a benchmark run writes: bench/results/DATE-NAME.md, never over an earlier run or a hand-written page."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def dated_results(name: str) -> Path:
    """bench/results/DATE-NAME.md, or DATE-NAME-2.md (-3, ...) when a run of that day is there already."""
    stem = f"{time.strftime('%Y-%m-%d')}-{name}"
    return next(path for n in itertools.count(1)
                if not (path := RESULTS / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")).exists())
