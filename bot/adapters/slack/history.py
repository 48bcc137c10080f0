"""Reading a channel within Slack's history limits: the Web API as is (internal apps), or the message log with paced
reads that fill its gaps (apps distributed outside the Marketplace: one call a minute per method, 15 messages a page).

Both readers answer in Slack's own shapes (message dicts, newest first for history, oldest first for a thread), so
conversation.py and recaps.py read the same way under either limit. `Read.missing` says, for the person, what
a read under the distributed limits could not have yet; it is "" when the read is complete.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from slack_sdk import WebClient

from bot.adapters.slack.messagelog import RedisMessageLog, SQLiteMessageLog
from bot.config import Config

PAGE = 15  # messages a page under the distributed limits (Slack, 2025)
EVERY_S = 60.0  # conversations.history and conversations.replies: one call a minute each, per workspace
CACHE_S = 120.0  # live reads since a time are shared for this long: one scheduled minute's recaps, one read
THREAD_LOOKBACK_S = 7 * 24 * 3600  # a thread started this long before a recap's window still shows its new replies
MessageLog = SQLiteMessageLog | RedisMessageLog


def every(fetch: Callable[[str | None], Any], key: str) -> Iterator[Any]:
    """The `key` items of a cursor-paginated Web API method, page by page as they are needed (`fetch(cursor)`)."""
    cursor = None
    while True:
        page = fetch(cursor)
        yield from page.get(key, [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def history_tier(config: Config, *, oauth: bool) -> str:
    """[slack] history_limits, or its default: "distributed" for the OAuth install (outside the Marketplace)."""
    return config.slack.history_limits or ("distributed" if oauth else "internal")


def oauth_configured() -> bool:
    """SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: several workspaces install the app (bot.adapters.slack.oauth)."""
    return bool(os.environ.get("SLACK_CLIENT_ID") and os.environ.get("SLACK_CLIENT_SECRET"))


@dataclass
class Read:
    messages: list[dict]
    missing: str = ""  # "" when complete, else since when the log is complete ("since 05 Dec 10:00 UTC")


def missing_note(where: str, missing: str) -> str:
    """What a person is told when a read under the distributed limits is not complete yet."""
    return (f"I have {where}'s messages only {missing}: Slack lets this app read older history 15 messages a minute, "
            "so ask again in a minute for more.")


@dataclass
class Recent:
    """A channel after a time: top-level messages (newest first), new replies by thread, the threads' parents."""

    top: list[dict]
    threads: dict[str, list[dict]] = field(default_factory=dict)
    parents: list[dict] = field(default_factory=list)
    missing: str = ""


def _people(message: dict) -> bool:
    return not message.get("subtype") and not message.get("bot_id")


class LiveHistory:
    """Slack's Web API as is, 200 messages a page; reads since a time are kept CACHE_S for the recaps of one minute."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._since: dict[str, tuple[float, float, list[dict]]] = {}  # channel -> (expires, oldest, newest first)
        self._threads: dict[tuple[str, str], tuple[float, list[dict]]] = {}
        self._lock = threading.Lock()

    def history(self, channel: str, *, limit: int) -> Read:
        raw: list[dict] = []
        for message in every(lambda cursor: self.client.conversations_history(
                channel=channel, limit=min(200, limit - len(raw)), cursor=cursor), "messages"):
            raw.append(message)
            if len(raw) >= limit:
                break
        return Read(raw)

    def replies(self, channel: str, ts: str) -> Read:
        return Read(list(every(lambda cursor: self.client.conversations_replies(
            channel=channel, ts=ts, limit=200, cursor=cursor), "messages")))

    def _history_since(self, channel: str, oldest: float) -> list[dict]:
        with self._lock:
            cached = self._since.get(channel)
        if cached and cached[0] > time.monotonic() and cached[1] <= oldest:
            return [m for m in cached[2] if float(m["ts"]) > oldest]
        raw = list(every(lambda cursor: self.client.conversations_history(
            channel=channel, oldest=f"{oldest:.6f}", limit=200, cursor=cursor), "messages"))
        with self._lock:
            self._since[channel] = (time.monotonic() + CACHE_S, oldest, raw)
        return raw

    def _thread(self, channel: str, ts: str) -> list[dict]:
        with self._lock:
            cached = self._threads.get((channel, ts))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        raw = self.replies(channel, ts).messages
        with self._lock:
            self._threads[(channel, ts)] = (time.monotonic() + CACHE_S, raw)
        return raw

    def recent(self, channel: str, oldest: float) -> Recent:
        """History marks a parent's `latest_reply`; conversations.replies reads the threads with new replies."""
        read = self._history_since(channel, oldest - THREAD_LOOKBACK_S)
        parents = [m for m in read if m.get("reply_count") and _people(m)
                   and float(m.get("latest_reply") or m["ts"]) > oldest]
        threads = {p["ts"]: [m for m in self._thread(channel, p["ts"]) if m.get("ts") != p["ts"]
                             and float(m.get("ts", 0)) > oldest] for p in parents}
        return Recent([m for m in read if float(m.get("ts", 0)) > oldest], threads, parents)


class LoggedHistory:
    """The message log of one workspace, with a paced history read to fill what it lacks (one call, when the
    minute's slot is free; the log's slots are shared by every process and replica)."""

    def __init__(self, client: WebClient, log: MessageLog, team: str, *, days: float) -> None:
        self.client, self.log, self.team, self.days = client, log, team, days

    def _floor(self) -> float:
        return time.time() - self.days * 86400

    def _complete(self, channel: str, wanted_from: float, messages: list[dict], limit: int | None) -> bool:
        start = self.log.coverage(self.team, channel).complete_from
        if start is None:
            return False
        return start <= wanted_from or (limit is not None and sum(float(m["ts"]) >= start for m in messages) >= limit)

    def _fill(self, channel: str) -> bool:
        """One page of history, backwards from where the log is complete, if the minute's slot is ours."""
        if self.log.take_slot(self.team, "conversations.history", EVERY_S):
            return False
        coverage = self.log.coverage(self.team, channel)
        latest = coverage.complete_from
        page = self.client.conversations_history(channel=channel, limit=PAGE,
                                                 **({"latest": f"{latest:.6f}"} if latest else {}))
        messages = page.get("messages") or []
        for message in messages:
            self.log.put(self.team, channel, message)
        oldest = min((float(m["ts"]) for m in messages), default=None) if page.get("has_more") else None
        self.log.set_coverage(self.team, channel, coverage.filled(oldest))
        return True

    def _missing(self, channel: str) -> str:
        start = self.log.coverage(self.team, channel).complete_from
        return f"since {time.strftime('%d %b %H:%M UTC', time.gmtime(start))}" if start else "for its latest messages"

    def history(self, channel: str, *, limit: int) -> Read:
        floor = self._floor()
        messages = self.log.top_level(self.team, channel, oldest=floor, limit=limit)
        if self._complete(channel, floor, messages, limit):
            return Read(messages)
        if self._fill(channel):
            messages = self.log.top_level(self.team, channel, oldest=floor, limit=limit)
            if self._complete(channel, floor, messages, limit):
                return Read(messages)
        return Read(messages, self._missing(channel))

    def replies(self, channel: str, ts: str) -> Read:
        start = self.log.coverage(self.team, channel).complete_from
        if start is not None and start <= float(ts):
            return Read(self.log.thread(self.team, channel, ts))
        if not self.log.take_slot(self.team, "conversations.replies", EVERY_S):
            page = self.client.conversations_replies(channel=channel, ts=ts, limit=PAGE)
            for message in page.get("messages") or []:
                self.log.put(self.team, channel, message)
            if not page.get("has_more"):
                return Read(self.log.thread(self.team, channel, ts))
        return Read(self.log.thread(self.team, channel, ts), self._missing(channel))

    def recent(self, channel: str, oldest: float) -> Recent:
        wanted_from = max(oldest, self._floor())
        complete = self._complete(channel, wanted_from, [], None) or (
            self._fill(channel) and self._complete(channel, wanted_from, [], None))
        threads: dict[str, list[dict]] = defaultdict(list)
        for reply in self.log.replies_after(self.team, channel, oldest):
            threads[reply["thread_ts"]].append(reply)
        parents = [found[0] for ts in threads if (found := self.log.thread(self.team, channel, ts))
                   and found[0]["ts"] == ts]
        started_by_bots = {p["ts"] for p in parents if not _people(p)}
        return Recent(self.log.top_level(self.team, channel, oldest=oldest),
                      {ts: replies for ts, replies in threads.items() if ts not in started_by_bots},
                      [p for p in parents if _people(p)], "" if complete else self._missing(channel))


def reader(client: WebClient, *, log: MessageLog | None, team: str | None, days: float) -> LiveHistory | LoggedHistory:
    """The reader for a workspace: the log's when there is one (distributed limits), else the Web API's."""
    return LoggedHistory(client, log, team or "", days=days) if log is not None else LiveHistory(client)


Reader = LiveHistory | LoggedHistory
__all__ = ["EVERY_S", "PAGE", "every", "LiveHistory", "LoggedHistory", "Read", "Reader", "Recent", "history_tier",
           "missing_note", "oauth_configured", "reader"]
