"""The job list as people see it (`nlpbot jobs list`, `/nlp-admin jobs`, the Home tab) and each job's last run.

A run happens on one replica only (the scheduler claims its slot), so where [state] points to Redis the last runs
are kept there and every replica lists the same; with one replica they stay in the scheduler's SQLite file.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.shared import PREFIX, says_when_unreachable, shared_redis

LastRun = tuple[float, str, str]  # (finished, "ok" | "failed", the line it showed)


def open_job_runs(config: Config, db: Path) -> SQLiteJobRuns | RedisJobRuns:
    """Redis where [state] points (shared by every replica), else the job_runs table in the scheduler's SQLite file."""
    client = shared_redis(config)
    return RedisJobRuns(client) if client is not None else SQLiteJobRuns(db)


class SQLiteJobRuns:
    """Every run of this replica, one row each (job_runs)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS job_runs (job_id TEXT, started REAL, finished REAL, "
                         "status TEXT, message TEXT)")

    def record(self, job_id: str, started: float, finished: float, status: str, message: str) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("INSERT INTO job_runs VALUES (?, ?, ?, ?, ?)", (job_id, started, finished, status, message))

    def last(self) -> dict[str, LastRun]:
        with closing(sqlite3.connect(self.db)) as conn:
            rows = conn.execute("SELECT job_id, finished, status, message FROM job_runs ORDER BY finished").fetchall()
        return {job_id: (finished, status, message) for job_id, finished, status, message in rows}

    def forget(self, job_ids: list[str]) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.executemany("DELETE FROM job_runs WHERE job_id = ?", [(job_id,) for job_id in job_ids])


@says_when_unreachable("the jobs' last runs")
class RedisJobRuns:
    """The last run of each job, in one Redis hash every replica reads."""

    KEY = PREFIX + "jobs:last-runs"

    def __init__(self, client: Any) -> None:
        self.client = client

    def record(self, job_id: str, started: float, finished: float, status: str, message: str) -> None:
        self.client.hset(self.KEY, job_id, json.dumps([finished, status, message]))

    def last(self) -> dict[str, LastRun]:
        return {key.decode(): tuple(json.loads(value)) for key, value in self.client.hgetall(self.KEY).items()}

    def forget(self, job_ids: list[str]) -> None:
        if job_ids:
            self.client.hdel(self.KEY, *job_ids)


@dataclass(frozen=True)
class JobStatus:
    """One configured job as people see it: what, when next, and how its last run went."""

    id: str
    action: str
    target: str
    cron: str
    timezone: str
    next_run: dt.datetime | None
    last_finished: dt.datetime | None
    last_status: str  # "ok", "failed" or "never"
    last_message: str

    def to_dict(self) -> dict[str, Any]:
        """The shape of `nlpbot jobs list --json`: times as ISO 8601 strings or null."""
        return {"id": self.id, "action": self.action, "target": self.target, "cron": self.cron, "timezone": self.timezone,
                "next_run": _iso(self.next_run), "last_run": _iso(self.last_finished),
                "last_status": self.last_status, "last_message": self.last_message}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z").strip() if value else "-"


def jobs_table(jobs: list[JobStatus]) -> str:
    """The one rendering of the jobs list (`nlpbot jobs list`, `/nlp-admin jobs`, the App Home tab)."""
    if not jobs:
        return "No jobs configured: add [[schedule.jobs]] tables to config.toml."
    width, target = max(20, *(len(j.id) for j in jobs)), max(14, *(len(j.target) for j in jobs))  # recap ids are long
    lines = [f"{'ID':<{width}} {'ACTION':<8} {'TARGET':<{target}} {'CRON':<16} {'NEXT RUN':<22} LAST RUN"]
    for job in jobs:
        last = (f"{_when(job.last_finished)} {job.last_status}: {job.last_message[:60]}" if job.last_finished
                else "never")
        lines.append(f"{job.id:<{width}} {job.action:<8} {job.target:<{target}} {job.cron:<16} "
                     f"{_when(job.next_run):<22} {last}")
    return "\n".join(lines)


__all__ = ["JobStatus", "RedisJobRuns", "SQLiteJobRuns", "jobs_table", "open_job_runs"]
