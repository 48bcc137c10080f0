"""Channel history and threads as clean Messages, read only for the channel's members, within Slack's history limits."""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.errors import advice
from bot.adapters.slack.history import LiveHistory, Reader, every, missing_note
from bot.adapters.slack.markup import clean_text
from bot.errors import Forbidden
from bot.request import Message

T = TypeVar("T")


class Memberships:
    """Who is in a channel (conversations.members, every page), cached for `ttl_s` so a burst costs one call."""

    def __init__(self, client: WebClient, *, ttl_s: float) -> None:
        self.client, self.ttl_s = client, ttl_s
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, channel_id: str) -> frozenset[str]:
        with self._lock:
            cached = self._cache.get(channel_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = frozenset(every(lambda cursor: self.client.conversations_members(
            channel=channel_id, limit=200, cursor=cursor), "members"))
        with self._lock:
            self._cache[channel_id] = (time.monotonic() + self.ttl_s, found)
        return found


class SlackConversation:
    """The Conversation plugins read on behalf of one person: a channel is read only if they are in it.

    The conversation they asked from is theirs already; any other channel is checked against its members
    before a single message is read. Slack's refusals become advice (SlackProblem), never a stack trace.
    Messages come through a history reader (history.py): the Web API, or under the distributed limits the
    message log; what such a read could not have yet is said in `notes`, which the adapter adds to the reply.
    """

    def __init__(self, client: WebClient, memberships: Memberships, *, user_id: str, here: str | None = None,
                 names: dict[str, str] | None = None, bot_name: str = "nlpbot", reader: Reader | None = None) -> None:
        self.client, self.memberships = client, memberships
        self.user_id, self.here, self.bot_name = user_id, here, bot_name
        self.names = dict(names or {})  # channel id -> the name the person wrote, for replies
        self.reader = reader or LiveHistory(client)
        self.notes: list[str] = []

    def _where(self, channel_id: str) -> str:
        return f"#{self.names[channel_id]}" if channel_id in self.names else f"<#{channel_id}>"

    def _call(self, channel_id: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except SlackApiError as exc:
            raise advice(exc, where=self._where(channel_id), bot_name=self.bot_name) from None

    def can_read(self, channel_id: str) -> bool:
        """Whether the person may see this channel's content: they are in it (or asked from inside it)."""
        if channel_id == self.here:
            return True
        return self.user_id in self._call(channel_id, lambda: self.memberships.members(channel_id))

    def readable(self, channel_ids: list[str]) -> set[str]:
        """The channels among these whose content the person may see; one Slack refusal hides that channel."""
        allowed = set()
        for channel_id in channel_ids:
            try:
                if self.can_read(channel_id):
                    allowed.add(channel_id)
            except Exception:  # noqa: BLE001 - a channel we cannot check is a channel we do not show
                continue
        return allowed

    def timezone(self, user_id: str) -> str | None:
        """users.info `tz` (IANA, e.g. "America/New_York"): a person's recaps come at their local time."""
        user = self._call(self.here or "", lambda: self.client.users_info(user=user_id)).get("user") or {}
        return user.get("tz") or None

    def _require_member(self, channel_id: str) -> None:
        if not self.can_read(channel_id):
            raise Forbidden(f"You're not a member of {self._where(channel_id)}, so I won't read it for you: "
                            "I only show a channel's messages to the people in it.")

    @staticmethod
    def _messages(raw: list[dict]) -> list[Message]:
        return [Message(user=m.get("user", ""), text=clean_text(m.get("text", "")), ts=m.get("ts", ""))
                for m in raw if not m.get("subtype") and not m.get("bot_id")]

    def _noted(self, channel_id: str, missing: str) -> None:
        if missing:
            self.notes.append(missing_note(self._where(channel_id), missing))

    def history(self, channel_id: str, *, limit: int) -> list[Message]:
        self._require_member(channel_id)
        read = self._call(channel_id, lambda: self.reader.history(channel_id, limit=limit))
        self._noted(channel_id, read.missing)
        return list(reversed(self._messages(read.messages)))  # oldest first, as people read them

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        self._require_member(channel_id)
        read = self._call(channel_id, lambda: self.reader.replies(channel_id, thread_ts))
        self._noted(channel_id, read.missing)
        return self._messages(read.messages)
