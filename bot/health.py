"""What runs degraded right now: problems several parts of the bot report and clear, shown on /healthz and /metrics.

A problem is keyed by its source ("state" for Redis, "plugin sentiment" for a plugin without its model), so a source
reports once per outage however often it fails, and `report` says whether the problem is new: the caller logs it
then, once. The process's own report (the module functions) holds what every bot in the process shares (Redis);
a bot's `Health` holds its plugins' problems, and /healthz shows both. Example::

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
    source: str  # what is degraded: "state" (the shared state store), "plugin NAME", ...
    detail: str  # what an operator reads: what failed, and what to do or what the bot does meanwhile
    since: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        since = dt.datetime.fromtimestamp(self.since, dt.timezone.utc).isoformat(timespec="seconds")
        return {"source": self.source, "detail": self.detail, "since": since,
                "for_s": round(time.time() - self.since, 1)}


class Health:
    """Problems by source; thread-safe, since requests, warm-up and the scheduler report from their own threads."""

    def __init__(self) -> None:
        self._problems: dict[str, Problem] = {}
        self._lock = threading.Lock()

    def report(self, source: str, detail: str) -> bool:
        """Mark `source` degraded; True when it was not already (the caller then logs it, once)."""
        with self._lock:
            if source in self._problems:
                return False
            self._problems[source] = Problem(source, detail)
        metrics.DEGRADED.labels(source=source).set(1)
        return True

    def clear(self, source: str) -> Problem | None:
        """`source` works again; returns the problem it had (None if it had none)."""
        with self._lock:
            problem = self._problems.pop(source, None)
        if problem is not None:
            metrics.DEGRADED.labels(source=source).set(0)
        return problem

    def problems(self) -> list[Problem]:
        with self._lock:
            return sorted(self._problems.values(), key=lambda problem: (problem.since, problem.source))

    def problem(self, source: str) -> str | None:
        """What is wrong with `source`, or None."""
        with self._lock:
            known = self._problems.get(source)
        return known.detail if known else None


PROCESS = Health()  # what every bot in this process shares: the state store, the installation store
report, clear, problems = PROCESS.report, PROCESS.clear, PROCESS.problems


def plugin_source(name: str) -> str:
    """How a plugin's problems are filed: "plugin NAME"."""
    return f"plugin {name}"


__all__ = ["Problem", "Health", "PROCESS", "report", "clear", "problems", "plugin_source"]
