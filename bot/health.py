"""What runs degraded right now: problems any part of the bot reports and clears, shown on /healthz and /metrics.

A problem is keyed by its source ("state" for Redis, say), so a source reports once per outage however often it
fails, and `report` says whether the problem is new: the caller logs it then, once. Example::

    if health.report("state", "Redis at redis://cache:6379/0 is unreachable: Connection refused"):
        log.warning(...)
    ...
    health.clear("state")
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot import metrics


@dataclass(frozen=True)
class Problem:
    source: str  # what is degraded: "state" (the shared state store), ...
    detail: str  # what an operator reads: what failed, and what the bot does meanwhile
    since: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        since = dt.datetime.fromtimestamp(self.since, dt.timezone.utc).isoformat(timespec="seconds")
        return {"source": self.source, "detail": self.detail, "since": since,
                "for_s": round(time.time() - self.since, 1)}


_problems: dict[str, Problem] = {}
_lock = threading.Lock()


def report(source: str, detail: str) -> bool:
    """Mark `source` degraded; True when it was not already (the caller then logs it, once)."""
    with _lock:
        if source in _problems:
            return False
        _problems[source] = Problem(source, detail)
    metrics.DEGRADED.labels(source=source).set(1)
    return True


def clear(source: str) -> Problem | None:
    """`source` works again; returns the problem it had (None if it had none)."""
    with _lock:
        problem = _problems.pop(source, None)
    if problem is not None:
        metrics.DEGRADED.labels(source=source).set(0)
    return problem


def problems() -> list[Problem]:
    with _lock:
        return sorted(_problems.values(), key=lambda problem: problem.since)


__all__ = ["Problem", "report", "clear", "problems"]
