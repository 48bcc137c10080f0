"""What is wrong right now, as /healthz reports it: problems that several parts of the bot add and clear.

Each source names itself ("plugin sentiment", "redis") and says what is wrong in a sentence a person can act on;
the report is "ok" with no problems, "degraded" with some: the bot still serves, but not everything. Example::

    health = Health()
    health.report("plugin sentiment", "no trained sentiment model is serving yet; train one with ...")
    health.status()      # "degraded"
    health.problems()    # [{"source": "plugin sentiment", "problem": "no trained ..."}]
    health.clear("plugin sentiment")
"""

from __future__ import annotations

import threading


class Health:
    """Problems by source; thread-safe, since requests, warm-up and the scheduler report from their own threads."""

    def __init__(self) -> None:
        self._problems: dict[str, str] = {}
        self._lock = threading.Lock()

    def report(self, source: str, problem: str) -> None:
        with self._lock:
            self._problems[source] = problem

    def clear(self, source: str) -> None:
        with self._lock:
            self._problems.pop(source, None)

    def problems(self) -> list[dict[str, str]]:
        """Every current problem, sorted by source: [{"source", "problem"}]."""
        with self._lock:
            return [{"source": source, "problem": problem} for source, problem in sorted(self._problems.items())]

    def problem(self, source: str) -> str | None:
        """What is wrong with SOURCE, or None."""
        with self._lock:
            return self._problems.get(source)

    def status(self) -> str:
        return "degraded" if self.problems() else "ok"


def plugin_source(name: str) -> str:
    """How a plugin's problems are filed: "plugin NAME"."""
    return f"plugin {name}"
