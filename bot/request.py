"""One Request, whatever the adapter: who asked, where, which command, and the text."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from bot.errors import NlpbotError, NotSupportedHere, UserInputError


class FetchError(NlpbotError):
    """A shared file could not be fetched; the message says why (never a secret)."""


class SharedFile(Protocol):
    """A file a person shared with the command. The adapter that built it knows how to fetch it.

    Example::

        for file in request.files:
            content = file.fetch(max_bytes=5_000_000)  # FetchError when it cannot be had
    """

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def mimetype(self) -> str:
        """As the sender declared it; "" when unknown."""

    @property
    def size(self) -> int | None:
        """In bytes, when known before fetching."""

    @property
    def source(self) -> str:
        """A stable address for it, e.g. "slack://file/F123/notes.md"."""

    def fetch(self, *, max_bytes: int) -> bytes:
        """The content; FetchError when it cannot be had or holds more than max_bytes."""


@dataclass(frozen=True)
class ChannelRef:
    """A channel the person named, as the adapter resolved it: `#general` picked in Slack is ChannelRef("C0123", "general")."""

    id: str
    name: str  # as the person saw it; the id when the adapter knows no name


@dataclass(frozen=True)
class UserRef:
    """A person the message mentioned, as the adapter resolved it: `@ana` is UserRef("U0123", "ana")."""

    id: str
    name: str  # as the person saw it; the id when the adapter knows no name


@dataclass(frozen=True)
class Message:
    """A message read from a conversation (channel history or a thread); `text` is plain, as a person reads it."""

    user: str
    text: str
    ts: str


class Conversation(Protocol):
    """What an adapter offers plugins for reading a chat on behalf of the person who asked: clean Messages,
    markup already resolved to plain text, and only from channels that person may read (else Forbidden).

    The console has no chat to read.
    """

    def history(self, channel_id: str, *, limit: int) -> list[Message]: ...

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]: ...

    def readable(self, channel_ids: list[str]) -> set[str]:
        """The channels among these whose content the person may see (e.g. indexed chunks from them)."""

    def timezone(self, user_id: str) -> str | None:
        """The person's IANA timezone as their chat profile says (None when it says none)."""


class Responder(Protocol):
    """How a long-running command talks back before it finishes: progress messages and files (plots)."""

    def send(self, reply: Any) -> None: ...

    def upload(self, path: str, *, title: str, comment: str = "") -> None: ...


class CollectingResponder:
    """Keeps what was sent, for the CLI and tests; `printer` also shows it as it happens."""

    def __init__(self, printer: Callable[[str], None] | None = None) -> None:
        self.sent: list[Any] = []
        self.uploads: list[tuple[str, str]] = []
        self.printer = printer

    def send(self, reply: Any) -> None:
        self.sent.append(reply)
        if self.printer:
            from bot.format import to_plain

            self.printer(to_plain(reply))

    def upload(self, path: str, *, title: str, comment: str = "") -> None:
        self.uploads.append((path, title))
        if self.printer:
            self.printer(f"{title}: {path}" + (f" ({comment})" if comment else ""))


class NoConversation:
    """The console and the CLI: there is no channel to read."""

    def history(self, channel_id: str, *, limit: int) -> list[Message]:
        raise NotSupportedHere("reading channel history needs Slack; paste the text instead")

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        raise NotSupportedHere("reading a thread needs Slack; paste the text instead")

    def readable(self, channel_ids: list[str]) -> set[str]:
        return set(channel_ids)  # the console and the CLI run on the server, whose operator can read the index anyway

    def timezone(self, user_id: str) -> str | None:
        raise NotSupportedHere("recaps are delivered in Slack; subscribe from Slack")


@dataclass
class Request:
    """A command with its text: `text` is plain (the adapter resolved its markup), the channels and people it
    names come typed in `channel_refs` and `user_refs`."""

    command: str
    text: str
    user_id: str
    source: str  # "slash" | "mention" | "dm" | "modal" | "console"
    channel_id: str | None = None
    thread_ts: str | None = None
    is_admin: bool = False
    team_id: str | None = None  # the workspace it came from (Slack's team id); None in the console
    request_id: str = field(default_factory=lambda: f"{random.getrandbits(48):012x}")  # no UUID object, no syscall
    conversation: Conversation = field(default_factory=NoConversation)
    responder: Responder = field(default_factory=CollectingResponder)
    files: list[SharedFile] = field(default_factory=list)  # shared with the command (Slack events; never the console)
    channel_refs: list[ChannelRef] = field(default_factory=list)  # the channels named in the text, in order
    user_refs: list[UserRef] = field(default_factory=list)  # the people mentioned in the text (not the bot), in order

    @property
    def args(self) -> list[str]:
        return self.text.split()

    def require_text(self, *, usage: str = "") -> str:
        """The text, or a clear error when there is none or it has no words in any script."""
        return require_words(self.text, usage=usage)


_REFERENCES = re.compile(r"(?:^|(?<=\s))[@#][\w.-]+|(?:https?|mailto):\S+")


def require_words(text: str, *, usage: str = "") -> str:
    text = text.strip()
    if not text:
        raise UserInputError(f"Give me some text{': `' + usage + '`' if usage else ''}.")
    words = _REFERENCES.sub(" ", text) if "@" in text or "#" in text or ":" in text else text  # most texts: no refs
    if not any(ch.isalpha() for ch in words):
        raise UserInputError("That doesn't look like text (no words in any language, only mentions, links or "
                             "symbols); send words to work on.")
    return text


def message_count(words: list[str], *, default: int, maximum: int) -> int:
    """How many channel messages to read: the first number among `words` (`/sentiment #general 50`), else `default`."""
    numbers = [word for word in words if word.isdigit()]
    count = int(numbers[0]) if numbers else default
    if not 1 <= count <= maximum:
        raise UserInputError(f"I can read between 1 and {maximum} messages.")
    return count
