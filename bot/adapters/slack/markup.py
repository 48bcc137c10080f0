"""Slack's message text made plain: mentions, channel links, broadcasts and links resolved, references kept typed.

Slack sends `<@U123|ana>`, `<#C0123|general>`, `<!here>`, `<https://x.io|the doc>` and `&amp;`; the core sees
"@ana", "#general", "@here", "the doc" and "&", with the channels and people named as ChannelRef and UserRef.
The console reads text the same way: `nlpbot ask` takes a message as a person would type it in Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.format import unescape
from bot.request import ChannelRef, UserRef
from bot.text import printable

USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL_REF = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM_REF = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def is_channel_id(value: object) -> bool:
    """A channel, private channel or DM id as Slack writes them (C0123ABCD, G..., D...): something to answer in."""
    return isinstance(value, str) and _CHANNEL_ID.fullmatch(value) is not None


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class SlackText:
    """A message as the core takes it: plain text, and the channels and people it named, in order."""

    text: str
    channel_refs: list[ChannelRef]
    user_refs: list[UserRef]


def parse(raw: str, *, bot_user_id: str | None = None, mention: bool = False) -> SlackText:
    """The text with the bot's own mention taken out (the first mention, for a mention event whose bot id is
    unknown), then made plain.

    Example::

        parse("<@U0BOT> summarize <#C0123|general>", bot_user_id="U0BOT")
        # SlackText(text="summarize #general", channel_refs=[ChannelRef("C0123", "general")], user_refs=[])
    """
    text = raw or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    elif mention:
        text = USER_REF.sub(" ", text, count=1)
    channels = [ChannelRef(m.group(1), m.group(2) or m.group(1)) for m in CHANNEL_REF.finditer(text)] if "<#" in text else []
    users = [UserRef(m.group(1), m.group(2) or m.group(1)) for m in USER_REF.finditer(text)] if "<@" in text else []
    return SlackText(clean_text(text).strip(), channels, users)


def clean_text(text: str) -> str:
    """Slack markup to readable text, control characters dropped, whitespace kept as written."""
    if text.isprintable() and "<" not in text and "&" not in text:
        return text  # the common plain message: no markup, entities or control characters (checked in C)
    text = USER_REF.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = CHANNEL_REF.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL_REF.sub(lambda m: f"@{m.group(1)}", text)
    text = _SUBTEAM_REF.sub(lambda m: f"@{m.group(1) or 'group'}", text)
    text = _LINK.sub(lambda m: m.group(2) if m.group(2) and m.group(2) != m.group(1) else m.group(1), text)
    return printable(unescape(text))
