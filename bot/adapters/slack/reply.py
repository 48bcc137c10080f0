"""Delivering one request's answers within Slack's rules: a live message for long work, response_url for quick ones.

A response_url takes at most 5 posts, within 30 minutes of the command. So a slash command's quick answer goes
there (one post, or a few for a long reply), while anything that reports progress gets ONE message to the
requester (a DM for slash commands, the thread for mentions and DMs) posted with chat.postMessage and kept
current with chat.update: progress, then the final report. chat.update has no time limit, so the final report
arrives however long the run took.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.format import BLOCKS_PER_MESSAGE, to_slack_messages
from bot.reply import Reply
from bot.request import Request

log = logging.getLogger(__name__)

RESPONSE_URL_POSTS = 5
RESPONSE_URL_SAFE_S = 25 * 60  # Slack expires a response_url after 30 min; past this the answer goes by DM


class SlackResponder:
    """Progress, files and the final answer of one request (`send`, `upload`, then the adapter's `finish`)."""

    def __init__(self, client: WebClient, request: Request, *, response_url: str = "", in_dm: bool = False,
                 retry_handlers: list | None = None) -> None:
        self.client, self.request, self.response_url = client, request, response_url
        self.in_dm = in_dm or bool(response_url)  # slash commands and modals report in the asker's DM
        self.retry_handlers = retry_handlers or []
        self.started = time.monotonic()
        self.posts = 0  # to the response_url
        self.live: tuple[str, str] | None = None  # (channel, ts) of the message kept current
        self._lock = threading.Lock()

    # -- where things go ----------------------------------------------------------------------------
    def _home(self) -> tuple[str, str | None]:
        """(channel, thread) for the live message: the asker's DM for slash commands, else where they asked."""
        if self.in_dm:
            opened = self.client.conversations_open(users=self.request.user_id)
            return opened["channel"]["id"], None
        return self.request.channel_id or "", self.request.thread_ts

    def _thread(self) -> str | None:
        if not self.in_dm and self.request.thread_ts:
            return self.request.thread_ts
        return self.live[1] if self.live else None

    def _response_url_open(self, wanted: int) -> bool:
        return (bool(self.response_url) and self.posts + wanted <= RESPONSE_URL_POSTS
                and time.monotonic() - self.started < RESPONSE_URL_SAFE_S)

    # -- the Responder protocol plugins use -----------------------------------------------------------
    def send(self, reply: Reply) -> None:
        """Progress: the first posts the live message, the next ones replace its text."""
        with self._lock:
            self._deliver(reply, final=False)

    def upload(self, path: str, *, title: str, comment: str = "") -> None:
        with self._lock:
            try:
                channel = self.live[0] if self.live else self._home()[0]
                self.client.files_upload_v2(channel=channel, file=path, title=title,
                                            initial_comment=comment or None, thread_ts=self._thread())
            except (SlackApiError, OSError, KeyError) as exc:
                metrics.SLACK_API_ERRORS.labels(method="files.upload").inc()
                log.error("request %s: could not upload %s: %s", self.request.request_id, title, exc)

    def finish(self, reply: Reply, *, extra_blocks: list[dict[str, Any]] | None = None) -> None:
        """The final answer: in the live message when there is one, else at the response_url or in the thread.

        `extra_blocks` (e.g. feedback buttons) go under the last message, where Slack's 50-block limit allows.
        """
        with self._lock:
            self._deliver(reply, final=True, extra_blocks=extra_blocks or [])

    # -- delivery -------------------------------------------------------------------------------------
    def _deliver(self, reply: Reply, *, final: bool, extra_blocks: list[dict[str, Any]] = ()) -> None:
        messages = to_slack_messages(reply)
        if extra_blocks and len(messages[-1]["blocks"]) + len(extra_blocks) <= BLOCKS_PER_MESSAGE:
            messages[-1]["blocks"] = messages[-1]["blocks"] + list(extra_blocks)
        try:
            if final and not self.live and self._response_url_open(len(messages)):
                in_channel = reply.in_channel and not reply.is_error
                self._to_response_url(messages, "in_channel" if in_channel else "ephemeral")
            elif self.live:
                channel, ts = self.live
                self.client.chat_update(channel=channel, ts=ts, text=messages[0]["text"], blocks=messages[0]["blocks"])
                self._post_more(channel, messages[1:])
            else:
                self._post_live(messages, final=final)
        except (SlackApiError, OSError, RuntimeError, KeyError, ValueError) as exc:  # ValueError: a malformed url
            metrics.SLACK_API_ERRORS.labels(method="deliver").inc()
            log.error("request %s: could not deliver the %s to /%s: %s", self.request.request_id,
                      "reply" if final else "progress", self.request.command, exc)

    def _post_live(self, messages: list[dict[str, Any]], *, final: bool) -> None:
        channel, thread = self._home()
        posted = self.client.chat_postMessage(channel=channel, thread_ts=thread, text=messages[0]["text"],
                                              blocks=messages[0]["blocks"])
        if not final:
            self.live = (channel, posted["ts"])
        self._post_more(channel, messages[1:], thread=thread or posted["ts"])
        if self.response_url and not final and self._response_url_open(1):
            where = "in our DM" if not self.request.channel_id or not self.request.channel_id.startswith("D") else "below"
            self._to_response_url([{"text": f"On it: I'll keep you posted {where}.", "blocks": []}], "ephemeral")

    def _post_more(self, channel: str, messages: list[dict[str, Any]], *, thread: str | None = None) -> None:
        for message in messages:
            self.client.chat_postMessage(channel=channel, thread_ts=thread or self._thread(), text=message["text"],
                                         blocks=message["blocks"])

    def _to_response_url(self, messages: list[dict[str, Any]], response_type: str) -> None:
        webhook = WebhookClient(self.response_url, retry_handlers=self.retry_handlers, timeout=30)
        for message in messages:
            self.posts += 1
            response = webhook.send(text=message["text"], blocks=message["blocks"] or None,
                                    response_type=response_type)
            if response.status_code >= 400:
                raise RuntimeError(f"HTTP {response.status_code}: {response.body}")
