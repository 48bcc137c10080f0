"""What a fit cost where it ran: peak memory (resident set, this process and its workers) and time per step.

On Linux the process's peak is reset when the fit starts (/proc/self/clear_refs), so the peak is the fit's own,
not that of whatever ran in the process before (a bot that trains in process, a test session); elsewhere it is
the process's peak so far. Worker processes (--nproc) count with the largest of them.
"""

from __future__ import annotations

import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_STATUS, _CLEAR = Path("/proc/self/status"), Path("/proc/self/clear_refs")


@dataclass
class Usage:
    """Filled in when the `measured()` block ends."""

    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    steps: int = 0
    train_seconds: float = 0.0  # the training steps alone, without evaluations and checkpoints

    @property
    def seconds_per_step(self) -> float | None:
        return round(self.seconds / self.steps, 3) if self.steps else None

    @classmethod
    def from_dict(cls, data: dict) -> Usage:
        """What `to_dict` wrote into a version's metadata.json."""
        steps = int(data.get("steps") or 0)
        return cls(float(data.get("peak_rss_mb") or 0), float(data.get("fit_seconds") or 0), steps,
                   float(data.get("train_seconds_per_step") or 0) * steps)

    def to_dict(self) -> dict[str, float | int | None]:
        return {"peak_rss_mb": round(self.peak_rss_mb), "fit_seconds": round(self.seconds, 1), "steps": self.steps,
                "seconds_per_step": self.seconds_per_step,
                "train_seconds_per_step": round(self.train_seconds / self.steps, 3) if self.steps else None}

    def summary(self) -> str:
        """"peak memory 1.8 GB, 0.42 s/step", for the training report."""
        per_step = f", {self.seconds_per_step:.2f} s/step" if self.steps else ""
        return f"peak memory {self.peak_rss_mb / 1024:.1f} GB{per_step}"


@contextmanager
def measured() -> Iterator[Usage]:
    """Measure the block: `with measured() as usage: fit()`; set usage.steps inside it for the time per step."""
    usage = Usage()
    try:
        _CLEAR.write_text("5")  # "5": reset the peak resident set size to the current one
    except OSError:
        pass
    started = time.perf_counter()
    try:
        yield usage
    finally:
        usage.seconds = time.perf_counter() - started
        usage.peak_rss_mb = max(_own_peak_mb(), _kb_or_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))


def _own_peak_mb() -> float:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _kb_or_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _kb_or_bytes(maxrss: int) -> float:
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024  # macOS counts bytes, Linux KiB
