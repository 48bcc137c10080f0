"""Recap subscriptions as stored: a Subscription (the job it is), in SQLite (one replica) or Redis (several)."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.config import Config, JobSpec
from bot.shared import PREFIX, says_when_unreachable, shared_redis


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
    team: str = ""  # the workspace it was made in (Slack's team id): its installation reads and posts the recap

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
                                channel_name=self.channel_name, team=self.team or None)


class RecapStore(Protocol):
    """Subscriptions and the last message each recap covered; every replica of a bot must see the same ones."""

    def all(self) -> list[Subscription]: ...

    def of(self, user: str) -> list[Subscription]: ...

    def get(self, job_id: str) -> Subscription | None: ...

    def save(self, sub: Subscription) -> None: ...

    def remove(self, job_id: str) -> bool: ...

    def remove_team(self, team: str) -> list[Subscription]:
        """Every subscription made in that workspace, removed (it uninstalled the app); returns them."""

    def set_note(self, job_id: str, note: str) -> None: ...

    def mark(self, job_id: str) -> str | None:
        """The ts of the newest message the last recap of this job covered."""

    def set_mark(self, job_id: str, last_ts: str) -> None: ...


def open_recap_store(config: Config) -> RecapStore:
    """Redis where [state] points (shared by every replica), else SQLite beside the scheduler's job store."""
    client = shared_redis(config)
    if client is not None:
        return RedisRecapStore(client)
    db = config.resolve_path(config.schedule.state_db)
    db.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteRecapStore(db)


class SQLiteRecapStore:
    """The RecapStore of one replica: two tables in the scheduler's SQLite file."""

    def __init__(self, db: Path) -> None:
        self.db = db
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS recap_subscriptions (id TEXT PRIMARY KEY, user TEXT, channel_id "
                         "TEXT, channel_name TEXT, frequency TEXT, day TEXT, at TEXT, timezone TEXT, verbose INTEGER, "
                         "note TEXT, created REAL, team TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS recap_marks (job_id TEXT PRIMARY KEY, last_ts TEXT)")
            columns = {row[1] for row in conn.execute("PRAGMA table_info(recap_subscriptions)")}
            if "team" not in columns:  # a store written before subscriptions named their workspace
                conn.execute("ALTER TABLE recap_subscriptions ADD COLUMN team TEXT")

    def _rows(self, where: str = "", args: tuple = ()) -> list[Subscription]:
        with closing(sqlite3.connect(self.db)) as conn:
            rows = conn.execute("SELECT user, channel_id, channel_name, frequency, day, at, timezone, verbose, note, "
                                f"team FROM recap_subscriptions {where} ORDER BY created", args).fetchall()
        return [Subscription(*row[:7], verbose=bool(row[7]), note=row[8] or "", team=row[9] or "") for row in rows]

    def all(self) -> list[Subscription]:
        return self._rows()

    def of(self, user: str) -> list[Subscription]:
        return self._rows("WHERE user = ?", (user,))

    def get(self, job_id: str) -> Subscription | None:
        found = self._rows("WHERE id = ?", (job_id,))
        return found[0] if found else None

    def save(self, sub: Subscription) -> None:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO recap_subscriptions (id, user, channel_id, channel_name, frequency, "
                         "day, at, timezone, verbose, note, created, team) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (sub.id, sub.user, sub.channel_id, sub.channel_name, sub.frequency, sub.day, sub.at,
                          sub.timezone, int(sub.verbose), sub.note, time.time(), sub.team))

    def remove(self, job_id: str) -> bool:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            gone = conn.execute("DELETE FROM recap_subscriptions WHERE id = ?", (job_id,)).rowcount
            conn.execute("DELETE FROM recap_marks WHERE job_id = ?", (job_id,))
        return bool(gone)

    def remove_team(self, team: str) -> list[Subscription]:
        gone = self._rows("WHERE team = ?", (team,))
        for sub in gone:
            self.remove(sub.id)
        return gone

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


@says_when_unreachable("recap subscriptions")
class RedisRecapStore:
    """The RecapStore of several replicas: two Redis hashes (subscriptions as JSON, and marks) by job id."""

    SUBSCRIPTIONS, MARKS = PREFIX + "recaps:subscriptions", PREFIX + "recaps:marks"

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def _load(raw: bytes) -> tuple[float, Subscription]:
        fields = json.loads(raw)
        return fields.pop("created", 0.0), Subscription(**fields)

    def all(self) -> list[Subscription]:
        found = [self._load(raw) for raw in self.client.hvals(self.SUBSCRIPTIONS)]
        return [sub for _, sub in sorted(found, key=lambda pair: pair[0])]

    def of(self, user: str) -> list[Subscription]:
        return [sub for sub in self.all() if sub.user == user]

    def get(self, job_id: str) -> Subscription | None:
        raw = self.client.hget(self.SUBSCRIPTIONS, job_id)
        return self._load(raw)[1] if raw else None

    def save(self, sub: Subscription) -> None:
        self.client.hset(self.SUBSCRIPTIONS, sub.id, json.dumps({**asdict(sub), "created": time.time()}))

    def remove(self, job_id: str) -> bool:
        gone = self.client.hdel(self.SUBSCRIPTIONS, job_id)
        self.client.hdel(self.MARKS, job_id)
        return bool(gone)

    def remove_team(self, team: str) -> list[Subscription]:
        gone = [sub for sub in self.all() if sub.team == team]
        for sub in gone:
            self.remove(sub.id)
        return gone

    def set_note(self, job_id: str, note: str) -> None:
        raw = self.client.hget(self.SUBSCRIPTIONS, job_id)
        if raw:
            fields = json.loads(raw)
            self.client.hset(self.SUBSCRIPTIONS, job_id, json.dumps({**fields, "note": note}))

    def mark(self, job_id: str) -> str | None:
        raw = self.client.hget(self.MARKS, job_id)
        return raw.decode() if raw else None

    def set_mark(self, job_id: str, last_ts: str) -> None:
        self.client.hset(self.MARKS, job_id, last_ts)
