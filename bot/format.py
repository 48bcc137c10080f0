"""The one reply formatter: Reply -> Slack Block Kit messages (split under Slack's limits), terminal text or JSON."""

from __future__ import annotations

import re
from typing import Any

from rich.emoji import Emoji
from rich.text import Text

from bot.reply import Reply

SECTION_CHARS = 3000  # Slack: a section block's text
FIELD_CHARS = 2000  # Slack: one section field
FIELDS_PER_SECTION = 10
HEADER_CHARS = 150
BLOCKS_PER_MESSAGE = 50
MESSAGE_CHARS = 4000  # what Slack shows of a message's text; each message we send stays under it


def escape(text: str) -> str:
    """Escape user text for mrkdwn, so `<`, `>` and `&` cannot become links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def channel_link(channel_id: str, name: str | None = None) -> str:
    """A channel in a reply: a link in Slack (`<#C0123|general>`), "#general" on the console (`to_text`)."""
    return f"<#{channel_id}|{escape(name)}>" if name and name != channel_id else f"<#{channel_id}>"


def link(url: str, label: str) -> str:
    """A web link in a reply: the label linked in Slack (`<https://x.io|label>`), "label (url)" on the console."""
    return f"<{url}|{escape(label)}>"


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then word boundaries, so every piece fits in `limit` characters.

    A code block cut in two is closed at the end of one piece and reopened at the start of the next.
    """
    if len(text) <= limit:
        return [text] if text else []
    room = limit - 4  # space to close a code block
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, 0, room + 1)
        if cut > room // 4:
            head, rest = text[:cut], text[cut + len(separator):]
            break
    else:
        head, rest = text[:room], text[room:]
    if head.count("```") % 2:
        head, rest = head + "\n```", "```\n" + rest
    return [head, *split_text(rest, limit)]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _block_text(block: dict[str, Any]) -> str:
    if block["type"] == "context":
        return " ".join(element["text"] for element in block["elements"])
    if "fields" in block:
        return "\n".join(f["text"] for f in block["fields"])
    return block.get("text", {}).get("text", "")


def to_blocks(reply: Reply) -> list[dict[str, Any]]:
    """Every block of the reply, each within Slack's per-block limits."""
    blocks: list[dict[str, Any]] = []
    if reply.title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": _truncate(reply.title, HEADER_CHARS)}})
    for piece in split_text(reply.text, SECTION_CHARS):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    fields = [{"type": "mrkdwn", "text": _truncate(f"*{name}*\n{value}", FIELD_CHARS)} for name, value in reply.fields]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
    if reply.footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _truncate(reply.footer, SECTION_CHARS)}]})
    return blocks


def to_slack_messages(reply: Reply) -> list[dict[str, Any]]:
    """One or more messages `{"text", "blocks"}`, each under 50 blocks and about 4,000 characters.

    `text` is the plain fallback that notifications and screen readers show.
    """
    messages: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for block in to_blocks(reply):
        length = len(_block_text(block))
        if current and (len(current) >= BLOCKS_PER_MESSAGE or size + length > MESSAGE_CHARS):
            messages.append(current)
            current, size = [], 0
        current.append(block)
        size += length
    if current:
        messages.append(current)
    return [{"text": _truncate("\n".join(_block_text(b) for b in blocks), MESSAGE_CHARS), "blocks": blocks}
            for blocks in messages] or [{"text": " ", "blocks": []}]


def to_plain(reply: Reply) -> str:
    """The reply as plain text without Slack markup (`--json`'s "text", progress printed by the CLI): what `to_text`
    shows on a terminal, without the styles, and the footer in parentheses."""
    parts = []
    if reply.title:
        parts.append(reply.title)
    if reply.text:
        parts.append(mrkdwn_to_text(reply.text).plain)
    parts.extend(f"{name}: {mrkdwn_to_text(value).plain}" for name, value in reply.fields)
    if reply.footer:
        parts.append(f"({mrkdwn_to_text(reply.footer).plain})")
    return "\n".join(parts)


def to_json(reply: Reply) -> dict[str, Any]:
    """The shape `nlpbot ask --json` prints: {"plugin", "text", "blocks", "data"}."""
    return {"plugin": reply.plugin, "text": to_plain(reply), "blocks": to_blocks(reply), "data": reply.data}


# -- the terminal: mrkdwn -> rich Text (styles on a terminal; `.plain` is readable text without markup) --------

_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.S)
_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|<(?P<target>[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>"
    r"|(?<![\w*])\*(?P<bold>[^*\s](?:[^*\n]*[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>[^_\s](?:[^_\n]*[^_\s])?)_(?![\w_])"
    r"|~(?P<strike>[^~\s](?:[^~\n]*[^~\s])?)~"
    r"|:(?P<emoji>[a-z0-9_+-]+):"
)
_EMOJI_ALIASES = {"large_green_circle": "green_circle", "large_blue_circle": "blue_circle"}  # Slack's older names


def _emoji(name: str) -> str | None:
    name = _EMOJI_ALIASES.get(name, name)
    character = Emoji.replace(f":{name}:")
    return None if character == f":{name}:" else character


def _inline(out: Text, text: str, style: str = "") -> None:
    """Append one line of mrkdwn to `out`: bold, italics, code, links, mentions and emoji become styles or text."""
    position = 0
    for match in _INLINE.finditer(text):
        out.append(unescape(text[position:match.start()]), style)
        position = match.end()
        kind = "target" if match["target"] else match.lastgroup  # lastgroup would name the label
        if kind == "code":
            out.append(unescape(match["code"]), f"{style} bold cyan".strip())
        elif kind == "target":
            target, label = match["target"], unescape(match["label"] or "")
            if target[0] in "@!":  # <@U123>, <!here>
                out.append("@" + (label or target[1:]), f"{style} bold".strip())
            elif target[0] == "#":  # <#C123|general>
                out.append("#" + (label or target[1:]), f"{style} bold".strip())
            else:
                url = unescape(target)
                out.append(label or url, f"{style} link {url}".strip())
                if label and label != url:
                    out.append(f" ({url})", f"{style} dim".strip())
        elif kind == "emoji":
            character = _emoji(match["emoji"])
            out.append(character or match.group(), style)
        else:
            _inline(out, match[kind], f"{style} {kind}".strip())
    out.append(unescape(text[position:]), style)


def mrkdwn_to_text(mrkdwn: str, style: str = "") -> Text:
    """Slack mrkdwn for a terminal: `*bold*`, `_italics_`, `<url|text>`, `:emoji:` and `>quotes` rendered."""
    out = Text()
    position = 0
    for block in [*_CODE_BLOCK.finditer(mrkdwn), None]:
        prose = mrkdwn[position:block.start() if block else len(mrkdwn)]
        for number, line in enumerate(prose.split("\n")):
            if number:
                out.append("\n")
            if line.startswith(">"):
                out.append("│ ", "dim")
                line = line[1:]
            _inline(out, line, style)
        if block:
            out.append(unescape(block[1]), "cyan")
            position = block.end()
    return out


def to_text(reply: Reply) -> Text:
    """The console's rendering: the reply as styled text; `str(to_text(reply))` has no markup characters."""
    parts = []
    if reply.title:
        parts.append(Text(reply.title, "bold underline"))
    if reply.text:
        parts.append(mrkdwn_to_text(reply.text))
    for name, value in reply.fields:
        parts.append(Text.assemble((f"{name}: ", "bold"), mrkdwn_to_text(value)))
    if reply.footer:
        parts.append(mrkdwn_to_text(reply.footer, "dim"))
    return Text("\n").join(parts)
