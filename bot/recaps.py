"""Channel recaps: people's subscriptions, their schedule in the subscriber's own timezone, and what each has seen."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import JobSpec
from bot.errors import UserInputError
from bot.request import Message

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIOD_S = {"daily": 24 * 3600, "weekly": 7 * 24 * 3600}  # what a first recap covers: one period back
USAGE = ("/summarize subscribe #channel daily 09:00  |  /summarize subscribe #channel weekly mon 09:00 [--verbose]  |  "
         "/summarize unsubscribe #channel  |  /summarize list")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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


@dataclass
class Activity:
    """A channel since a time, as the adapter read it: people's messages (no bots, no joins) and new thread replies."""

    channel_id: str
    messages: list[Message]  # top level, oldest first
    threads: dict[str, list[Message]] = field(default_factory=dict)  # parent ts -> its replies, oldest first
    newest_ts: str | None = None  # of everything read (bots included): the next recap starts after it
    parents: dict[str, Message] = field(default_factory=dict)  # ts -> the message that started a thread


def parse_schedule(words: list[str]) -> tuple[str, str, str, bool]:
    """`daily 09:00` or `weekly mon 09:00`, optionally `--verbose`: (frequency, day, "HH:MM", verbose)."""
    verbose = "--verbose" in words
    words = [word.lower() for word in words if word not in {"--verbose", "--quiet"}]
    if words[:1] == ["daily"] and len(words) == 2:
        frequency, day, at = "daily", "", words[1]
    elif words[:1] == ["weekly"] and len(words) == 3 and words[1][:3] in DAYS:
        frequency, day, at = "weekly", words[1][:3], words[2]
    else:
        raise UserInputError(f"When should the recap come? `{USAGE}`")
    match = _TIME.match(at)
    if not match:
        raise UserInputError(f"{at!r} is not a time of day: use 24-hour HH:MM, like 09:00 or 17:30.")
    return frequency, day, f"{int(match.group(1)):02d}:{match.group(2)}", verbose


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


def subscribe(scheduler: Any, sub: Subscription) -> str:
    """Store the subscription and schedule it (at once in a running scheduler, else at its next start)."""
    RecapStore(scheduler.db).save(sub)
    scheduler.add(sub.spec())
    next_run = scheduler.next_runs().get(sub.id)
    nxt = f" The next one: {next_run.astimezone(ZoneInfo(sub.timezone)):%a %d %b %H:%M %Z}." if next_run else ""
    return (f"Subscribed: a recap of #{sub.channel_name} {sub.when()}, in a direct message, covering what is new "
            f"since the last one.{nxt} Stop with `/summarize unsubscribe #{sub.channel_name}`.")


def unsubscribe(scheduler: Any, user: str, channel_id: str, channel_name: str) -> str:
    job_id = Subscription(user, channel_id, channel_name, "daily", "", "00:00", "UTC").id
    if not RecapStore(scheduler.db).remove(job_id):
        return f"You have no recap of #{channel_name}."
    scheduler.remove(job_id)
    return f"Unsubscribed: no more recaps of #{channel_name}."


def listing(scheduler: Any, user: str) -> str:
    subs = RecapStore(scheduler.db).of(user)
    if not subs:
        return f"You have no recaps. Subscribe with `{USAGE.split('  |  ')[0]}`."
    next_runs = scheduler.next_runs()
    lines = []
    for sub in subs:
        run = next_runs.get(sub.id)
        nxt = f"{run.astimezone(ZoneInfo(sub.timezone)):%a %d %b %H:%M %Z}" if run else "at the bot's next start"
        lines.append(f"• #{sub.channel_name}: {sub.when()}; next {nxt}" + (f". _{sub.note}_" if sub.note else ""))
    return "\n".join(lines)


__all__ = ["Activity", "Subscription", "SubscriptionSpec", "RecapStore", "parse_schedule", "subscribe", "unsubscribe", "listing"]
