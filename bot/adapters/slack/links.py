"""Provenance in Slack: the messages a reply used (Reply.data["message_refs"]) as permalinks under the answer."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.reply import Reply

log = logging.getLogger(__name__)


class Permalinks:
    """chat.getPermalink, remembered: a message's permalink never changes, so each is asked for once."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def url(self, channel_id: str, ts: str) -> str | None:
        key = (channel_id, ts)
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            url = self.client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
        except (SlackApiError, OSError, KeyError) as exc:  # a source we cannot link is left unlinked
            metrics.SLACK_API_ERRORS.labels(method="chat.getPermalink").inc()
            log.warning("no permalink for %s/%s: %s", channel_id, ts, exc)
            return None
        with self._lock:
            self._known[key] = url
        return url

    def link(self, channel_id: str, ts: str, label: str) -> str:
        """`<permalink|label>` in mrkdwn, or nothing when Slack would not give one."""
        url = self.url(channel_id, ts)
        return f"<{url}|{label}>" if url else ""

    def add_sources(self, reply: Reply) -> Reply:
        """Append "Sources: 1 · 2 · 3", each a link to a message the reply used, in the order the reply used them."""
        sources = [s for s in reply.data.get("message_refs") or [] if isinstance(s, dict) and s.get("channel") and s.get("ts")]
        links = [self.link(s["channel"], s["ts"], str(number)) for number, s in enumerate(sources, 1)]
        links = [link for link in links if link]
        if links and not reply.is_error:
            reply.text = f"{reply.text}\n_Sources:_ {' · '.join(links)}"
        return reply
