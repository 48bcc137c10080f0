"""Slack as a RecapSource (bot.recaps.source): a channel's activity since a time, its members, permalinks, posts.

A recap runs outside any request (the scheduler, or `nlpbot jobs run`), so it has its own client from
SLACK_BOT_TOKEN and SLACK_API_URL, one per process. Subscribers to one channel recapped at the same time share
one read: a channel's history is kept for `HISTORY_TTL_S` and serves any later `oldest` from it.
"""

from __future__ import annotations

import os
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.conversation import Memberships, SlackConversation, every
from bot.adapters.slack.errors import DEFAULT_API_URL, advice, retry_handlers
from bot.adapters.slack.links import Permalinks
from bot.config import Config
from bot.errors import ConfigError
from bot.format import to_slack_messages
from bot.recaps.source import Activity
from bot.reply import Reply
from bot.request import ChannelRef

HISTORY_TTL_S = 120.0  # one scheduled minute's recaps share a read; the next day's read is fresh
THREAD_LOOKBACK_S = 7 * 24 * 3600  # a thread started this long before a recap's window still shows its new replies
_SOURCES: dict[tuple[str, str], SlackRecapSource] = {}
_LOCK = threading.Lock()


def recap_source(config: Config) -> SlackRecapSource:
    """This process's Slack for recaps (one client, one cache), from the environment as `nlpbot run` reads it: the
    factory `nlpbot run` and `nlpbot jobs run` give the scheduler (`Scheduler(..., recap_source=recap_source)`)."""
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise ConfigError("recaps read Slack: SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    key = (token, os.environ.get("SLACK_API_URL") or DEFAULT_API_URL)
    with _LOCK:
        if key not in _SOURCES:
            client = WebClient(token=token, base_url=key[1].rstrip("/") + "/", retry_handlers=retry_handlers(),
                               timeout=30)
            _SOURCES[key] = SlackRecapSource(client, membership_ttl_s=config.slack.membership_ttl_s,
                                             bot_name=config.bot.name)
        return _SOURCES[key]


class SlackRecapSource:
    """What a recap run needs from Slack (a RecapSource), each call made once per run where it can be."""

    def __init__(self, client: WebClient, *, membership_ttl_s: float, bot_name: str = "nlpbot") -> None:
        self.client, self.bot_name = client, bot_name
        self.memberships = Memberships(client, ttl_s=membership_ttl_s)
        self.links = Permalinks(client)
        self._history: dict[str, tuple[float, float, list[dict]]] = {}  # channel -> (expires, oldest, raw, newest first)
        self._replies: dict[tuple[str, str], tuple[float, list[dict]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._bot_user: str | None = None

    def _call(self, where: str, call):
        try:
            return call()
        except SlackApiError as exc:
            raise advice(exc, where=where, bot_name=self.bot_name) from None

    def bot_user(self) -> str:
        if self._bot_user is None:
            self._bot_user = self.client.auth_test()["user_id"]
        return self._bot_user

    def channel(self, target: str) -> ChannelRef:
        """The channel "#name" or a channel id names (conversations.list, public and private, every page)."""
        name = target.removeprefix("#")
        for found in every(lambda cursor: self._call(target, lambda: self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor)), "channels"):
            if name in (found.get("name"), found.get("id")):
                return ChannelRef(found["id"], found["name"])
        raise ConfigError(f"recap target {target}: no such channel that I'm in (invite me with "
                          f"`/invite @{self.bot_name}`)")

    def members(self, channel_id: str, *, where: str = "that channel") -> frozenset[str]:
        """People in it (the bot left out)."""
        return self._call(where, lambda: self.memberships.members(channel_id)) - {self.bot_user()}

    def activity(self, channel_id: str, *, oldest: float, where: str) -> Activity:
        """People's messages after `oldest`, and the replies after `oldest` in threads started up to
        THREAD_LOOKBACK_S before it (history marks a parent's `latest_reply`; conversations.replies reads them)."""
        with self._lock:
            lock = self._locks.setdefault(channel_id, threading.Lock())
        with lock:  # a second subscriber recapped at the same moment waits, then reads the first one's copy
            read = self._read_history(channel_id, oldest - THREAD_LOOKBACK_S, where)
            parents = [m for m in read if m.get("reply_count") and not m.get("subtype") and not m.get("bot_id")
                       and float(m.get("latest_reply") or m["ts"]) > oldest]
            threads = {parent["ts"]: SlackConversation._messages(
                [m for m in self._read_replies(channel_id, parent["ts"], where)
                 if m.get("ts") != parent["ts"] and float(m.get("ts", 0)) > oldest]) for parent in parents}
        raw = [m for m in read if float(m.get("ts", 0)) > oldest]
        newest = max([m["ts"] for m in raw] + [r.ts for rs in threads.values() for r in rs], key=float, default=None)
        return Activity(channel_id, list(reversed(SlackConversation._messages(raw))),
                        {ts: sorted(rs, key=lambda m: float(m.ts)) for ts, rs in threads.items() if rs}, newest,
                        parents={m.ts: m for m in SlackConversation._messages(parents)})

    def _read_history(self, channel_id: str, oldest: float, where: str) -> list[dict]:
        cached = self._history.get(channel_id)
        if cached and cached[0] > time.monotonic() and cached[1] <= oldest:
            return cached[2]
        raw = list(every(lambda cursor: self._call(where, lambda: self.client.conversations_history(
            channel=channel_id, oldest=f"{oldest:.6f}", limit=200, cursor=cursor)), "messages"))
        self._history[channel_id] = (time.monotonic() + HISTORY_TTL_S, oldest, raw)
        return raw

    def _read_replies(self, channel_id: str, ts: str, where: str) -> list[dict]:
        cached = self._replies.get((channel_id, ts))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        raw = list(every(lambda cursor: self._call(where, lambda: self.client.conversations_replies(
            channel=channel_id, ts=ts, limit=200, cursor=cursor)), "messages"))
        self._replies[(channel_id, ts)] = (time.monotonic() + HISTORY_TTL_S, raw)
        return raw

    def link(self, channel_id: str, ts: str, label: str) -> str:
        return self.links.link(channel_id, ts, label)

    def post(self, to: str, reply: Reply) -> None:
        """Post to a channel id, or to a person (U.../W...) in their DM."""
        channel = self.client.conversations_open(users=to)["channel"]["id"] if to[:1] in {"U", "W"} else to
        for message in to_slack_messages(reply):
            self._call(f"<#{channel}>", lambda: self.client.chat_postMessage(
                channel=channel, text=message["text"], blocks=message["blocks"], unfurl_links=False))
