"""Recap subscriptions as stored: one person's Subscription (and the job it is), and RecapStore (SQLite)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.config import JobSpec


class SubscriptionSpec(JobSpec):
    """A person's recap as the scheduler runs it: a recap job whose readers are just its subscriber."""

    subscriber: str
    channel_name: str = ""


@dataclass(frozen=True)
class Subscription:
    """`/summarize subscribe #channel daily 09:00`: one person, one channel, a local time in their timezone."""

    user: str
    channel_id: str
    channel_name: str
    frequency: str  # "daily" | "weekly"
    day: str  # "mon".."sun" for weekly, "" for daily
    at: str  # "HH:MM", local to `timezone`
    timezone: str  # IANA, from the person's Slack profile
    verbose: bool = False
    note: str = ""  # why the last run sent nothing, e.g. the person left the channel

    @property
    def id(self) -> str:
        return f"recap-{self.user}-{self.channel_id}"

    @property
    def cron(self) -> str:
        hour, minute = (int(part) for part in self.at.split(":"))
        return f"{minute} {hour} * * {self.day or '*'}"

    def when(self) -> str:
        return f"{'daily' if self.frequency == 'daily' else 'weekly on ' + self.day.capitalize()} at {self.at} " \
               f"({self.timezone})"

    def spec(self) -> SubscriptionSpec:
        """The job: its cron is read in the person's timezone, so 09:00 stays 09:00 local across daylight saving."""
        return SubscriptionSpec(id=self.id, action="recap", target=self.channel_id, cron=self.cron,
                                timezone=self.timezone, post_to="dm", verbose=self.verbose, subscriber=self.user,
                                channel_name=self.channel_name)


class RecapStore:
    """Subscriptions and the last message each recap covered, in SQLite beside the scheduler's job store."""

    def __init__(self, db: Path) -> None:
        self.db = db
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS recap_subscriptions (id TEXT PRIMARY KEY, user TEXT, channel_id "
                         "TEXT, channel_name TEXT, frequency TEXT, day TEXT, at TEXT, timezone TEXT, verbose INTEGER, "
                         "note TEXT, created REAL)")
            conn.execute("CREATE TABLE IF NOT EXISTS recap_marks (job_id TEXT PRIMARY KEY, last_ts TEXT)")

    def _rows(self, where: str = "", args: tuple = ()) -> list[Subscription]:
        with closing(sqlite3.connect(self.db)) as conn:
            rows = conn.execute("SELECT user, channel_id, channel_name, frequency, day, at, timezone, verbose, note "
                                f"FROM recap_subscriptions {where} ORDER BY created", args).fetchall()
        return [Subscription(*row[:7], verbose=bool(row[7]), note=row[8] or "") for row in rows]

    def all(self) -> list[Subscription]:
        return self._rows()

    def of(self, user: str) -> list[Subscription]:
        return self._rows("WHERE user = ?", (user,))

    def get(self, job_id: str) -> Subscription | None:
        found = self._rows("WHERE id = ?", (job_id,))
        return found[0] if found else None

    def save(self, sub: Subscription) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO recap_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (sub.id, sub.user, sub.channel_id, sub.channel_name, sub.frequency, sub.day, sub.at,
                          sub.timezone, int(sub.verbose), sub.note, time.time()))

    def remove(self, job_id: str) -> bool:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            gone = conn.execute("DELETE FROM recap_subscriptions WHERE id = ?", (job_id,)).rowcount
            conn.execute("DELETE FROM recap_marks WHERE job_id = ?", (job_id,))
        return bool(gone)

    def set_note(self, job_id: str, note: str) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("UPDATE recap_subscriptions SET note = ? WHERE id = ?", (note, job_id))

    def mark(self, job_id: str) -> str | None:
        """The ts of the newest message the last recap of this job covered."""
        with closing(sqlite3.connect(self.db)) as conn:
            row = conn.execute("SELECT last_ts FROM recap_marks WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def set_mark(self, job_id: str, last_ts: str) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO recap_marks VALUES (?, ?)", (job_id, last_ts))
