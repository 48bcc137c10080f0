"""The Slack adapter (slack-bolt): verify, ack at once, de-duplicate, hand off to a worker, answer in place.

Slash commands are acked before any model runs and answered through their response_url; mentions are
answered in their thread; direct messages in the DM. The same event delivered again (Slack's retries) and
a user's double submit are answered once.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.adapters.slack_conversation import SlackConversation
from bot.adapters.slack_files import FileDownloader, shared_files
from bot.core import Nlpbot
from bot.format import to_slack_messages
from bot.reply import Reply
from bot.request import Request
from bot.workers import WorkerPool

log = logging.getLogger(__name__)

BUSY = "I'm busy with other requests right now; please try again in a minute."
DEFAULT_API_URL = "https://slack.com/api/"


def retry_handlers() -> list:
    """429 honours Retry-After; 5xx and dropped connections are retried with backoff."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=3),
        ConnectionErrorRetryHandler(max_retry_count=3),
    ]


class RecentKeys:
    """Keys seen within `ttl` seconds; `seen` marks a key and says whether it was already there."""

    def __init__(self, ttl: float, *, max_size: int = 100_000) -> None:
        self.ttl, self.max_size = ttl, max_size
        self._keys: OrderedDict[Any, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: Any, *, ttl: float | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._keys and (next(iter(self._keys.values())) < now or len(self._keys) > self.max_size):
                self._keys.popitem(last=False)
            if key in self._keys and self._keys[key] >= now:
                return True
            self._keys[key] = now + (self.ttl if ttl is None else ttl)
            self._keys.move_to_end(key)
            return False


class SlackResponder:
    """Progress and files for one request: in the thread for mentions and DMs, the response_url for commands."""

    def __init__(self, adapter: SlackAdapter, request: Request, response_url: str | None = None) -> None:
        self.adapter, self.request, self.response_url = adapter, request, response_url

    def send(self, reply: Reply) -> None:
        if self.response_url:
            self.adapter.respond(self.request, reply, self.response_url, response_type="ephemeral")
        else:
            self.adapter._post(self.request, reply)

    def upload(self, path: str, *, title: str, comment: str = "") -> None:
        try:
            self.adapter.client.files_upload_v2(channel=self.request.channel_id, file=path, title=title,
                                                initial_comment=comment or None, thread_ts=self.request.thread_ts)
        except (SlackApiError, OSError) as exc:
            metrics.SLACK_API_ERRORS.labels(method="files.upload").inc()
            log.error("request %s: could not upload %s: %s", self.request.request_id, title, exc)


class SlackAdapter:
    """Wires a bolt App to the bot: listeners, de-duplication, the worker pool and the replies."""

    def __init__(self, bot: Nlpbot, *, token: str, signing_secret: str = "", api_url: str | None = None,
                 socket_mode: bool = False) -> None:
        self.bot = bot
        settings = bot.config.slack
        base_url = (api_url or DEFAULT_API_URL).rstrip("/") + "/"
        self.client = WebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(), timeout=30)
        self.app = App(
            client=self.client,
            signing_secret=signing_secret,
            process_before_response=True,  # listeners only ack and enqueue, so bolt answers Slack at once
            request_verification_enabled=not socket_mode,
            name=bot.config.bot.name,
        )
        self.pool = WorkerPool(workers=bot.config.bot.workers, queue_size=bot.config.bot.queue_size)
        self.recent = RecentKeys(settings.dedup_ttl_s)
        self.conversation = SlackConversation(self.client)
        self.downloader = FileDownloader(token)
        self.app.command(re.compile(r"^/.+"))(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.error(self._on_malformed)

    @staticmethod
    def _on_malformed(error: Exception, response: Any) -> None:
        """A signed payload bolt cannot read (missing or mistyped fields): 400, not bolt's default 500."""
        log.warning("a signed payload could not be handled: %s: %s", type(error).__name__, error)
        response.status, response.body = 400, "malformed payload"

    # -- listeners: fast, never run a model --------------------------------------------------------

    def _on_command(self, ack, body: dict, context) -> None:
        started = time.perf_counter()
        key = ("submit", body.get("user_id"), body.get("channel_id"), body.get("command"), body.get("text", "").strip())
        if self.recent.seen(key, ttl=self.bot.config.slack.double_submit_s):
            metrics.DUPLICATES.labels(kind="double_submit").inc()
            ack()
            return
        request = self.bot.router.parse(
            body.get("text", ""), source="slash", user_id=body.get("user_id", ""), slash_command=body.get("command"),
            channel_id=body.get("channel_id"), bot_user_id=context.bot_user_id, conversation=self.conversation,
        )
        response_url = body.get("response_url", "")
        request.responder = SlackResponder(self, request, response_url)
        if self.pool.submit(self._answer_command, request, response_url) is None:
            ack(text=BUSY, response_type="ephemeral")
        else:
            ack()
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)

    def _on_mention(self, body: dict, event: dict, context) -> None:
        self._accept_event(body, event, source="mention", bot_user_id=context.bot_user_id)

    def _on_message(self, body: dict, event: dict, context) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
            return  # only people's direct messages (with or without files); channel messages reach us as mentions
        self._accept_event(body, event, source="dm", bot_user_id=context.bot_user_id)

    def _on_home(self, event: dict) -> None:
        if event.get("tab", "home") == "home":
            self.pool.submit(self._publish_home, event.get("user", ""))

    def _publish_home(self, user_id: str) -> None:
        from bot.format import to_blocks
        from bot.home import home_view

        try:
            blocks = to_blocks(home_view(self.bot, user_id))[:100]  # a Home tab holds at most 100 blocks
            self.client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})
        except (SlackApiError, OSError) as exc:
            metrics.SLACK_API_ERRORS.labels(method="views.publish").inc()
            log.error("could not publish the Home tab for %s: %s", user_id, exc)

    def _accept_event(self, body: dict, event: dict, *, source: str, bot_user_id: str | None) -> None:
        keys = [("event", body.get("event_id")), ("message", event.get("channel"), event.get("ts"))]
        repeats = [self.recent.seen(key) for key in keys if all(key[1:])]  # mark every key, then decide
        if any(repeats):
            metrics.DUPLICATES.labels(kind="event_retry").inc()
            log.info("ignoring a repeat of event %s", body.get("event_id"))
            return
        thread_ts = event.get("thread_ts") or (event.get("ts") if source == "mention" else None)
        request = self.bot.router.parse(
            event.get("text", ""), source=source, user_id=event.get("user", ""), channel_id=event.get("channel"),
            thread_ts=thread_ts, bot_user_id=bot_user_id, conversation=self.conversation,
            files=shared_files(event.get("files") or [], self.downloader),
        )
        request.responder = SlackResponder(self, request)
        if self.pool.submit(self._answer_event, request) is None:
            self._post(request, Reply.error(BUSY))

    # -- workers: run the plugin, deliver the reply -----------------------------------------------

    def _answer_command(self, request: Request, response_url: str) -> None:
        reply = self.bot.router.handle(request)
        self.respond(request, reply, response_url, response_type="in_channel" if reply.in_channel else "ephemeral")

    def respond(self, request: Request, reply: Reply, response_url: str, *, response_type: str) -> None:
        webhook = WebhookClient(response_url, retry_handlers=retry_handlers(), timeout=30)
        for message in to_slack_messages(reply):
            try:
                response = webhook.send(text=message["text"], blocks=message["blocks"], response_type=response_type)
                if response.status_code >= 400:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.body}")
            except Exception as exc:  # noqa: BLE001 - a lost reply is logged with its request id
                metrics.SLACK_API_ERRORS.labels(method="response_url").inc()
                log.error("request %s: could not deliver the reply to /%s: %s", request.request_id, request.command, exc)
                return

    def _answer_event(self, request: Request) -> None:
        self._post(request, self.bot.router.handle(request))

    def _post(self, request: Request, reply: Reply) -> None:
        for message in to_slack_messages(reply):
            try:
                self.client.chat_postMessage(channel=request.channel_id, thread_ts=request.thread_ts,
                                             text=message["text"], blocks=message["blocks"])
            except (SlackApiError, OSError) as exc:
                metrics.SLACK_API_ERRORS.labels(method="chat.postMessage").inc()
                log.error("request %s: could not post the reply in %s: %s", request.request_id, request.channel_id, exc)
                return

    def close(self) -> None:
        self.pool.shutdown(wait=False)
