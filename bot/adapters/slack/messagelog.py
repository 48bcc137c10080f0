"""The message log: channel messages from Slack's events, kept `[slack] message_log_days`, read under the 2025 limits.

Apps installed outside the Marketplace may call conversations.history and conversations.replies once a minute,
15 messages a page (Slack, 2025). So under `[slack] history_limits = "distributed"` the bot keeps what its
channels say as Slack sends it (message.channels / message.groups: new messages, edits, deletions), and reads
channels from here. What the log knows is its Coverage: complete from `since` on, except one gap (an outage, when
events may have been lost), each filled by paced history reads (history.py). Stored per message: its ts, thread,
author, text, subtype and bot id, nothing else; dropped after message_log_days, when the bot leaves the channel,
and when the workspace uninstalls the app. SQLite for one replica, Redis (where [state] points) for several,
since each event reaches only one replica. The module is long because both stores are here, side by side.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.shared import PREFIX, says_when_unreachable, shared_redis

KEPT = ("ts", "user", "text", "thread_ts", "subtype", "bot_id")  # what a message keeps in the log


@dataclass(frozen=True)
class Coverage:
    """What the log of one channel knows: every message from `since` on (None: nothing yet), but those in `gap`."""

    since: float | None = None
    gap: tuple[float, float] | None = None  # (from, to): events in between may have been lost

    @property
    def complete_from(self) -> float | None:
        """The earliest time from which, up to now, no message can be missing."""
        return self.gap[1] if self.gap else self.since

    def filled(self, oldest_read: float | None) -> Coverage:
        """After a history page read backwards from complete_from: `oldest_read` its oldest ts, None if it was the
        last page (nothing older exists)."""
        if self.gap:
            if oldest_read is None or oldest_read <= self.gap[0]:
                return Coverage(self.since)
            return Coverage(self.since, (self.gap[0], oldest_read))
        return Coverage(0.0 if oldest_read is None else min(oldest_read, self.since or oldest_read))

    def with_gap(self, start: float, end: float) -> Coverage:
        """Events between start and end may be lost: one gap, merged with any the log already has."""
        if self.since is None or end <= self.since:
            return self
        start = max(start, self.since)
        return Coverage(self.since, (min(start, self.gap[0]), max(end, self.gap[1])) if self.gap else (start, end))


def entry(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in KEPT if message.get(key) not in (None, "")}


def is_top_level(message: dict[str, Any]) -> bool:
    """What conversations.history lists: messages outside threads, thread parents, and replies sent to the channel."""
    thread = message.get("thread_ts")
    return not thread or thread == message["ts"] or message.get("subtype") == "thread_broadcast"


def with_replies(messages: list[dict], stats: dict[str, tuple[int, str]]) -> list[dict]:
    """Thread parents marked as conversations.history marks them: reply_count and latest_reply."""
    return [{**m, "reply_count": stats[m["ts"]][0], "latest_reply": stats[m["ts"]][1]} if m["ts"] in stats else m
            for m in messages]


def open_message_log(config: Config) -> SQLiteMessageLog | RedisMessageLog:
    client = shared_redis(config)
    if client is not None:
        return RedisMessageLog(client)
    path = config.resolve_path(config.slack.message_log_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteMessageLog(path)


class SQLiteMessageLog:
    """The log of one replica, in one SQLite file (WAL: the server writes while `nlpbot jobs run` reads)."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS messages (team TEXT, channel TEXT, ts TEXT, at REAL, thread_ts TEXT, top INTEGER,
                                         body TEXT, PRIMARY KEY (team, channel, ts));
    CREATE INDEX IF NOT EXISTS messages_by_time ON messages (team, channel, top, at);
    CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (team, channel, thread_ts);
    CREATE TABLE IF NOT EXISTS coverage (team TEXT, channel TEXT, since REAL, gap_from REAL, gap_to REAL,
                                         PRIMARY KEY (team, channel));
    CREATE TABLE IF NOT EXISTS slots (team TEXT, method TEXT, at REAL, PRIMARY KEY (team, method));
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL);
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(self.SCHEMA)
        self._lock = threading.Lock()

    def _all(self, query: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(query, args).fetchall()

    def _run(self, query: str, args: tuple = ()) -> int:
        with self._lock:
            return self._db.execute(query, args).rowcount

    def put(self, team: str, channel: str, message: dict[str, Any]) -> None:
        kept = entry(message)
        self._run("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (team, channel, kept["ts"], float(kept["ts"]), kept.get("thread_ts"), int(is_top_level(kept)),
                   json.dumps(kept)))

    def delete(self, team: str, channel: str, ts: str) -> None:
        self._run("DELETE FROM messages WHERE team = ? AND channel = ? AND ts = ?", (team, channel, ts))

    def drop(self, team: str, channel: str | None = None) -> int:
        """Forget a channel (the bot left it), or every channel of a workspace; returns the messages deleted."""
        where, args = ("team = ? AND channel = ?", (team, channel)) if channel else ("team = ?", (team,))
        self._run(f"DELETE FROM coverage WHERE {where}", args)
        return self._run(f"DELETE FROM messages WHERE {where}", args)

    def expire(self, before: float) -> int:
        self._run("UPDATE coverage SET since = ? WHERE since < ?", (before, before))
        return self._run("DELETE FROM messages WHERE at < ?", (before,))

    def _reply_stats(self, team: str, channel: str, parents: list[str]) -> dict[str, tuple[int, str]]:
        if not parents:
            return {}
        marks = ",".join("?" * len(parents))
        rows = self._all(f"SELECT thread_ts, COUNT(*), MAX(at) FROM messages WHERE team = ? AND channel = ? AND "
                         f"top = 0 AND thread_ts IN ({marks}) GROUP BY thread_ts", (team, channel, *parents))
        return {thread: (count, f"{latest:.6f}") for thread, count, latest in rows}

    def top_level(self, team: str, channel: str, *, oldest: float = 0.0, limit: int = 1_000_000) -> list[dict]:
        """Messages outside threads and thread parents after `oldest`, newest first, as conversations.history."""
        rows = self._all("SELECT body FROM messages WHERE team = ? AND channel = ? AND top = 1 AND at > ? "
                         "ORDER BY at DESC LIMIT ?", (team, channel, oldest, limit))
        found = [json.loads(body) for (body,) in rows]
        return with_replies(found, self._reply_stats(team, channel, [m["ts"] for m in found]))

    def thread(self, team: str, channel: str, ts: str) -> list[dict]:
        """The parent and its replies, oldest first, as conversations.replies."""
        rows = self._all("SELECT body FROM messages WHERE team = ? AND channel = ? AND (ts = ? OR thread_ts = ?) "
                         "ORDER BY at", (team, channel, ts, ts))
        return [json.loads(body) for (body,) in rows]

    def replies_after(self, team: str, channel: str, oldest: float) -> list[dict]:
        rows = self._all("SELECT body FROM messages WHERE team = ? AND channel = ? AND top = 0 AND at > ? ORDER BY at",
                         (team, channel, oldest))
        return [json.loads(body) for (body,) in rows]

    def coverage(self, team: str, channel: str) -> Coverage:
        rows = self._all("SELECT since, gap_from, gap_to FROM coverage WHERE team = ? AND channel = ?", (team, channel))
        if not rows:
            return Coverage()
        since, start, end = rows[0]
        return Coverage(since, (start, end) if start is not None else None)

    def set_coverage(self, team: str, channel: str, coverage: Coverage) -> None:
        gap = coverage.gap or (None, None)
        self._run("INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?, ?)", (team, channel, coverage.since, *gap))

    def channels(self) -> list[tuple[str, str]]:
        return [(team, channel) for team, channel in self._all("SELECT team, channel FROM coverage")]

    def take_slot(self, team: str, method: str, every_s: float) -> float:
        """0.0 and the slot is ours (call now), else the seconds until the next one: across processes, atomically."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT at FROM slots WHERE team = ? AND method = ?", (team, method)).fetchone()
                wait = max(0.0, row[0] + every_s - now) if row else 0.0
                if not wait:
                    self._db.execute("INSERT OR REPLACE INTO slots VALUES (?, ?, ?)", (team, method, now))
            finally:
                self._db.execute("COMMIT")
        return wait

    def alive(self) -> float | None:
        rows = self._all("SELECT value FROM meta WHERE key = 'alive'")
        return rows[0][0] if rows else None

    def touch(self, when: float) -> None:
        self._run("INSERT OR REPLACE INTO meta VALUES ('alive', ?)", (when,))


@says_when_unreachable("the message log")
class RedisMessageLog:
    """The log shared by replicas: per channel a hash of messages by ts and two sorted sets (top level, replies)."""

    COVERAGE, CHANNELS, ALIVE = PREFIX + "msglog:coverage", PREFIX + "msglog:channels", PREFIX + "msglog:alive"

    def __init__(self, client: Any) -> None:
        self.client = client

    def _key(self, team: str, channel: str, part: str) -> str:
        return f"{PREFIX}msglog:{team}:{channel}:{part}"

    def put(self, team: str, channel: str, message: dict[str, Any]) -> None:
        kept = entry(message)
        pipe = self.client.pipeline()
        pipe.hset(self._key(team, channel, "body"), kept["ts"], json.dumps(kept))
        pipe.zadd(self._key(team, channel, "top" if is_top_level(kept) else "replies"), {kept["ts"]: float(kept["ts"])})
        pipe.sadd(self.CHANNELS, f"{team}:{channel}")
        pipe.execute()

    def delete(self, team: str, channel: str, ts: str) -> None:
        pipe = self.client.pipeline()
        pipe.hdel(self._key(team, channel, "body"), ts)
        pipe.zrem(self._key(team, channel, "top"), ts)
        pipe.zrem(self._key(team, channel, "replies"), ts)
        pipe.execute()

    def drop(self, team: str, channel: str | None = None) -> int:
        names = [channel] if channel else [member.decode().split(":", 1)[1] for member in
                                           self.client.smembers(self.CHANNELS) if member.decode().startswith(team + ":")]
        gone = 0
        for name in names:
            gone += self.client.hlen(self._key(team, name, "body"))
            self.client.delete(*(self._key(team, name, part) for part in ("body", "top", "replies")))
            self.client.hdel(self.COVERAGE, f"{team}:{name}")
            self.client.srem(self.CHANNELS, f"{team}:{name}")
        return gone

    def expire(self, before: float) -> int:
        gone = 0
        for member in self.client.smembers(self.CHANNELS):
            team, channel = member.decode().split(":", 1)
            old = [ts for part in ("top", "replies")
                   for ts in self.client.zrangebyscore(self._key(team, channel, part), "-inf", f"({before}")]
            if old:
                self.client.hdel(self._key(team, channel, "body"), *old)
                for part in ("top", "replies"):
                    self.client.zremrangebyscore(self._key(team, channel, part), "-inf", f"({before}")
                gone += len(old)
            coverage = self.coverage(team, channel)
            if coverage.since is not None and coverage.since < before:
                self.set_coverage(team, channel, Coverage(before, coverage.gap))
        return gone

    def _bodies(self, team: str, channel: str, ids: list[bytes]) -> list[dict]:
        if not ids:
            return []
        return [json.loads(raw) for raw in self.client.hmget(self._key(team, channel, "body"), ids) if raw]

    def top_level(self, team: str, channel: str, *, oldest: float = 0.0, limit: int = 1_000_000) -> list[dict]:
        ids = self.client.zrevrangebyscore(self._key(team, channel, "top"), "+inf", f"({oldest}", start=0, num=limit)
        found = self._bodies(team, channel, ids)
        parents = {m["ts"] for m in found}
        stats: dict[str, tuple[int, str]] = {}
        for reply in self.replies_after(team, channel, 0.0):
            if reply.get("thread_ts") in parents:
                count, latest = stats.get(reply["thread_ts"], (0, "0"))
                stats[reply["thread_ts"]] = (count + 1, max(latest, reply["ts"], key=float))
        return with_replies(found, stats)

    def thread(self, team: str, channel: str, ts: str) -> list[dict]:
        parent = self._bodies(team, channel, [ts.encode()])
        ids = self.client.zrangebyscore(self._key(team, channel, "replies"), float(ts), "+inf")
        return parent + [m for m in self._bodies(team, channel, ids) if m.get("thread_ts") == ts]

    def replies_after(self, team: str, channel: str, oldest: float) -> list[dict]:
        return self._bodies(team, channel, self.client.zrangebyscore(self._key(team, channel, "replies"),
                                                                     f"({oldest}", "+inf"))

    def coverage(self, team: str, channel: str) -> Coverage:
        raw = self.client.hget(self.COVERAGE, f"{team}:{channel}")
        if not raw:
            return Coverage()
        since, gap = json.loads(raw)
        return Coverage(since, tuple(gap) if gap else None)

    def set_coverage(self, team: str, channel: str, coverage: Coverage) -> None:
        self.client.hset(self.COVERAGE, f"{team}:{channel}", json.dumps([coverage.since, coverage.gap]))
        self.client.sadd(self.CHANNELS, f"{team}:{channel}")

    def channels(self) -> list[tuple[str, str]]:
        return [tuple(key.decode().split(":", 1)) for key in self.client.hkeys(self.COVERAGE)]

    def take_slot(self, team: str, method: str, every_s: float) -> float:
        key = f"{PREFIX}msglog:slot:{team}:{method}"
        if self.client.set(key, b"1", nx=True, px=int(every_s * 1000)):
            return 0.0
        return max(0.001, self.client.pttl(key) / 1000)

    def alive(self) -> float | None:
        raw = self.client.get(self.ALIVE)
        return float(raw) if raw else None

    def touch(self, when: float) -> None:
        self.client.set(self.ALIVE, str(when))


__all__ = ["Coverage", "RedisMessageLog", "SQLiteMessageLog", "open_message_log"]
