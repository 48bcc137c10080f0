"""What a recap needs from the chat it recaps: RecapSource, a small protocol an adapter implements, and its Activity.

A recap runs outside any request (the scheduler, `nlpbot jobs run`), so it cannot use a request's Conversation:
whoever builds the scheduler gives it a factory for a source (`nlpbot run` and `nlpbot jobs run` give it
Slack's, bot.adapters.slack.recaps). bot.recaps never imports an adapter.

Example::

    scheduler = Scheduler(config, bot=bot, recap_source=lambda config, team: MySource(config, team))
    source.members("C0123", where="#general")  # frozenset({"U1", "U2"}): people, the bot left out
    source.post("U1", Reply(title="Recap of #general", text="..."))  # in U1's direct messages
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.reply import Reply
from bot.request import ChannelRef, Message


@dataclass
class Activity:
    """A channel since a time, as the source read it: people's messages (no bots, no joins) and new thread replies."""

    channel_id: str
    messages: list[Message]  # top level, oldest first, plain text
    threads: dict[str, list[Message]] = field(default_factory=dict)  # parent ts -> its replies, oldest first
    newest_ts: str | None = None  # of everything read (bots included): the next recap starts after it
    parents: dict[str, Message] = field(default_factory=dict)  # ts -> the message that started a thread
    missing: str = ""  # what the source could not read yet, said under the recap ("" when it read everything)


@runtime_checkable
class RecapSource(Protocol):
    """The chat a recap reads and posts to. `where` names a channel as people know it ("#general") in errors."""

    def channel(self, target: str) -> ChannelRef:
        """The channel that "#name" or an id names, among those the bot is in (ConfigError when none)."""

    def members(self, channel_id: str, *, where: str) -> frozenset[str]:
        """The people in the channel now, the bot left out: only they may read its recap."""

    def activity(self, channel_id: str, *, oldest: float, where: str) -> Activity:
        """What people said after `oldest` (a Unix time), and the new replies in threads started before it."""

    def link(self, channel_id: str, ts: str, label: str) -> str:
        """A link to one message, in the reply's markup, labelled `label`; "" when there is none."""

    def post(self, to: str, reply: Reply) -> None:
        """Post the reply in a channel (its id) or to a person (their user id: in their direct messages)."""
