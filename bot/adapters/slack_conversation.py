"""Channel history and threads through Slack's Web API, as clean Messages: plugins never see Slack markup."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.request import Message
from bot.text import clean_text


class SlackConversation:
    """The Conversation plugins read: people's messages (not bots', not joins), markup resolved to plain text."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    @staticmethod
    def _messages(raw: list[dict]) -> list[Message]:
        return [Message(user=m.get("user", ""), text=clean_text(m.get("text", "")), ts=m.get("ts", ""))
                for m in raw if not m.get("subtype") and not m.get("bot_id")]

    def history(self, channel_id: str, *, limit: int) -> list[Message]:
        raw: list[dict] = []
        cursor = None
        while len(raw) < limit:
            page = self.client.conversations_history(channel=channel_id, limit=min(200, limit - len(raw)), cursor=cursor)
            raw.extend(page.get("messages", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return list(reversed(self._messages(raw[:limit])))  # oldest first, as people read them

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        raw: list[dict] = []
        cursor = None
        while True:
            page = self.client.conversations_replies(channel=channel_id, ts=thread_ts, limit=200, cursor=cursor)
            raw.extend(page.get("messages", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return self._messages(raw)
