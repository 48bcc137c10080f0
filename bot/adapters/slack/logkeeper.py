"""Keeping the message log (distributed history limits) from Slack's events: channel messages, their edits and
deletions, the bot joining a channel (its log starts) and leaving it (its log is dropped).

Writes happen in the listener (a local SQLite insert, or one Redis round trip): a store that fails is not waited on
again for RETRY_S, and the time it lost becomes a gap in every channel's coverage, which paced history reads fill
later. A process that was silent longer than OUTAGE_S may have missed events too: it opens that gap when it starts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from bot.adapters.slack.messagelog import Coverage, RedisMessageLog, SQLiteMessageLog

log = logging.getLogger(__name__)

OUTAGE_S = 90.0  # Slack retries an event delivery for a few minutes; a longer silence may have lost some
TOUCH_S = 20.0  # how often a busy log notes that it is alive
EXPIRE_EVERY_S = 3600.0
RETRY_S = 30.0  # after a failed write, later events are not written (nor waited on) for this long
LOGGED = (None, "thread_broadcast", "file_share", "me_message", "bot_message")  # subtypes that are messages people see


class MessageKeeper:
    """Applies one workspace event at a time to the log; `days` is how long a message is kept."""

    def __init__(self, store: SQLiteMessageLog | RedisMessageLog, *, days: float) -> None:
        self.store, self.days = store, days
        self._covered: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._lost_from: float | None = None
        self._failed_at = self._touched = self._expired = 0.0
        self._guard(time.time(), self._after_silence)

    def _after_silence(self) -> None:
        alive, now = self.store.alive(), time.time()
        if alive is not None and now - alive > OUTAGE_S:
            self._open_gaps(alive, now)

    def _open_gaps(self, start: float, end: float) -> None:
        for team, channel in self.store.channels():
            self.store.set_coverage(team, channel, self.store.coverage(team, channel).with_gap(start, end))
        log.info("message log: events between %s and %s may be missing; paced history reads fill them when read",
                 time.strftime("%H:%M:%S", time.gmtime(start)), time.strftime("%H:%M:%S", time.gmtime(end)))

    def _guard(self, when: float, work: Callable[[], Any]) -> None:
        now = time.time()
        with self._lock:
            if self._lost_from is not None and now - self._failed_at < RETRY_S:
                return  # the store failed a moment ago: the loss is recorded, the ack is not held up
            lost = self._lost_from
        try:
            if lost is not None:
                self._open_gaps(lost, now)
                log.warning("message log: writing again; what came since %s is a gap to fill",
                            time.strftime("%H:%M:%S", time.gmtime(lost)))
            work()
            self._housekeeping(now)
            with self._lock:
                self._lost_from = None
        except Exception as exc:  # noqa: BLE001 - a log that cannot be written must not stop the answers
            with self._lock:
                if self._lost_from is None:
                    log.warning("message log: could not write (%s: %s); channel reads fill the gap from Slack later",
                                type(exc).__name__, exc)
                self._lost_from = min(self._lost_from or when, when)
                self._failed_at = now

    def _housekeeping(self, now: float) -> None:
        if now - self._touched > TOUCH_S:
            self._touched = now
            self.store.touch(now)
        if now - self._expired > EXPIRE_EVERY_S:
            self._expired = now
            gone = self.store.expire(now - self.days * 86400)
            if gone:
                log.info("message log: %d message(s) older than %g days deleted", gone, self.days)

    def _start(self, team: str, channel: str, ts: float) -> None:
        """A channel's log is complete from its first event on (or from the bot's join)."""
        if (team, channel) in self._covered:
            return
        if self.store.coverage(team, channel).since is None:
            self.store.set_coverage(team, channel, Coverage(ts))
        self._covered.add((team, channel))

    def message(self, team: str, event: dict[str, Any]) -> None:
        """A message.channels / message.groups event: new, edited (message_changed) or deleted (message_deleted)."""
        channel, subtype = event.get("channel") or "", event.get("subtype")
        when = float(event.get("event_ts") or event.get("ts") or time.time())

        def apply() -> None:
            self._start(team, channel, when)
            if subtype == "message_deleted":
                self.store.delete(team, channel, str(event.get("deleted_ts")))
            elif subtype == "message_changed" and (event.get("message") or {}).get("ts"):
                self.store.put(team, channel, event["message"])
            elif event.get("ts") and (subtype in LOGGED or subtype.startswith(("channel_", "group_"))):
                self.store.put(team, channel, event)

        if channel and team:
            self._guard(when, apply)

    def joined(self, team: str, channel: str, when: float) -> None:
        self._guard(when, lambda: self._start(team, channel, when))

    def left(self, team: str, channel: str) -> None:
        def drop() -> None:
            self._covered.discard((team, channel))
            gone = self.store.drop(team, channel)
            log.info("message log: left %s, its %d logged message(s) deleted", channel, gone)

        self._guard(time.time(), drop)

    def forget(self, team: str) -> int:
        """Every channel of a workspace that uninstalled the app; returns the messages deleted."""
        self._covered = {key for key in self._covered if key[0] != team}
        return self.store.drop(team)


def listen_for_the_log(app: Any, keeper: MessageKeeper | None) -> None:
    """The bolt listeners for the bot joining a channel (its log starts) and leaving it (its log goes); registered
    whatever the limits, since the manifest subscribes to the events (`keeper` None: the internal limits, no log)."""

    def team_of(body: dict, context: Any) -> str:
        return context.team_id or body.get("team_id") or ""

    def on_joined(body: dict, event: dict, context: Any) -> None:
        if keeper is not None and event.get("user") == context.bot_user_id:
            keeper.joined(team_of(body, context), event.get("channel", ""), float(event.get("event_ts") or time.time()))

    def on_left(body: dict, event: dict, context: Any) -> None:
        if keeper is not None:  # channel_left / group_left: the bot left or was removed
            keeper.left(team_of(body, context), event.get("channel", ""))

    app.event("member_joined_channel")(on_joined)
    app.event("channel_left")(on_left)
    app.event("group_left")(on_left)


__all__ = ["MessageKeeper", "OUTAGE_S", "listen_for_the_log"]
