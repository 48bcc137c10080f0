"""Slack as a RecapSource (bot.recaps.source): a channel's activity since a time, its members, permalinks, posts.

A recap runs outside any request (the scheduler, or `nlpbot jobs run`), so it has its own client, one per workspace
and process: with OAuth the bot token of the team the recap belongs to (its installation), else SLACK_BOT_TOKEN.
Under the distributed history limits it reads the message log (history.py); else the Web API, where subscribers
to one channel recapped in the same minute share one read.
"""

from __future__ import annotations

import os
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.conversation import Memberships, SlackConversation
from bot.adapters.slack.errors import DEFAULT_API_URL, advice, retry_handlers
from bot.adapters.slack.history import MessageLog, Reader, every, history_tier, missing_note, oauth_configured, reader
from bot.adapters.slack.links import Permalinks
from bot.adapters.slack.messagelog import open_message_log
from bot.adapters.slack.oauth import team_token
from bot.config import Config
from bot.errors import ConfigError
from bot.format import to_slack_messages
from bot.recaps.source import Activity
from bot.reply import Reply
from bot.request import ChannelRef

_SOURCES: dict[tuple[str, str], SlackRecapSource] = {}
_LOCK = threading.Lock()


def recap_source(config: Config, team: str | None = None) -> SlackRecapSource:
    """This process's Slack for one workspace's recaps (one client, one cache): the factory `nlpbot run` and
    `nlpbot jobs run` give the scheduler (`Scheduler(..., recap_source=recap_source)`)."""
    token = team_token(config, team)  # ConfigError when the workspace has no installation (any more)
    key = (token, os.environ.get("SLACK_API_URL") or DEFAULT_API_URL)
    with _LOCK:
        if key not in _SOURCES:
            client = WebClient(token=token, base_url=key[1].rstrip("/") + "/", retry_handlers=retry_handlers(),
                               timeout=30)
            distributed = history_tier(config, oauth=oauth_configured()) == "distributed"
            _SOURCES[key] = SlackRecapSource(client, membership_ttl_s=config.slack.membership_ttl_s,
                                             bot_name=config.bot.name, team=team,
                                             log=open_message_log(config) if distributed else None,
                                             log_days=config.slack.message_log_days)
        return _SOURCES[key]


class SlackRecapSource:
    """What a recap run needs from Slack (a RecapSource), each call made once per run where it can be."""

    def __init__(self, client: WebClient, *, membership_ttl_s: float, bot_name: str = "nlpbot", team: str | None = None,
                 log: MessageLog | None = None, log_days: float = 14.0) -> None:
        self.client, self.bot_name, self.team = client, bot_name, team
        self.memberships = Memberships(client, ttl_s=membership_ttl_s)
        self.links = Permalinks(client)
        self._log, self._log_days = log, log_days
        self._reader: Reader | None = None
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
            found = self.client.auth_test()
            self._bot_user, self.team = found["user_id"], self.team or found.get("team_id")
        return self._bot_user

    @property
    def reader(self) -> Reader:
        """The Web API, or this workspace's part of the message log (its team id: the install's, or auth.test's)."""
        if self._reader is None:
            if self._log is not None and not self.team:
                self.bot_user()
            self._reader = reader(self.client, log=self._log, team=self.team, days=self._log_days)
        return self._reader

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
        """What people said after `oldest`, and the replies after `oldest` in threads started before it."""
        with self._lock:
            lock = self._locks.setdefault(channel_id, threading.Lock())
        with lock:  # a second subscriber recapped at the same moment waits, then reads the first one's copy
            recent = self._call(where, lambda: self.reader.recent(channel_id, oldest))
        threads = {ts: SlackConversation._messages(replies) for ts, replies in recent.threads.items()}
        newest = max([m["ts"] for m in recent.top] + [r["ts"] for rs in recent.threads.values() for r in rs],
                     key=float, default=None)
        return Activity(channel_id, list(reversed(SlackConversation._messages(recent.top))),
                        {ts: sorted(rs, key=lambda m: float(m.ts)) for ts, rs in threads.items() if rs}, newest,
                        parents={m.ts: m for m in SlackConversation._messages(recent.parents)},
                        missing=missing_note(where, recent.missing) if recent.missing else "")

    def link(self, channel_id: str, ts: str, label: str) -> str:
        return self.links.link(channel_id, ts, label)

    def post(self, to: str, reply: Reply) -> None:
        """Post to a channel id, or to a person (U.../W...) in their DM."""
        channel = self.client.conversations_open(users=to)["channel"]["id"] if to[:1] in {"U", "W"} else to
        for message in to_slack_messages(reply):
            self._call(f"<#{channel}>", lambda: self.client.chat_postMessage(
                channel=channel, text=message["text"], blocks=message["blocks"], unfurl_links=False))
