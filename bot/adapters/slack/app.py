"""The Slack adapter (slack-bolt): verify, ack at once, de-duplicate, hand off to a worker, answer in place.

Slash commands are acked before any model runs and answered through their response_url; mentions are
answered in their thread; direct messages in the DM; long work reports in one live message (reply.py).
Channels are read only for their members (conversation.py). The same event delivered again (Slack's
retries) and a user's double submit are answered once.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.adapters.slack import markup
from bot.adapters.slack.conversation import Memberships, SlackConversation
from bot.adapters.slack.errors import DEFAULT_API_URL, retry_handlers
from bot.adapters.slack.files import FileDownloader, shared_files
from bot.adapters.slack.interactivity import Interactivity
from bot.adapters.slack.links import Permalinks
from bot.adapters.slack.modals import CALLBACK_ID, modal, submission
from bot.adapters.slack.oauth import TeamClient, TeamFileDownloader, use_team_tokens
from bot.adapters.slack.reply import SlackResponder
from bot.core import Nlpbot
from bot.errors import NlpbotError
from bot.format import escape, to_slack_messages
from bot.reply import Reply
from bot.request import Request
from bot.state import open_state
from bot.workers import WorkerPool

log = logging.getLogger(__name__)

BUSY = "I'm busy with other requests right now; please try again in a minute."


class SlackAdapter:
    """Wires a bolt App to the bot: listeners, de-duplication, the worker pool and the replies."""

    def __init__(self, bot: Nlpbot, *, token: str, signing_secret: str = "", api_url: str | None = None,
                 socket_mode: bool = False, oauth_settings: OAuthSettings | None = None) -> None:
        self.bot = bot
        settings = bot.config.slack
        base_url = (api_url or DEFAULT_API_URL).rstrip("/") + "/"
        self.client = TeamClient(token=token or None, base_url=base_url, retry_handlers=retry_handlers(), timeout=30)
        self.app = App(
            client=self.client,
            signing_secret=signing_secret,
            process_before_response=True,  # listeners only ack and enqueue, so bolt answers Slack at once
            request_verification_enabled=not socket_mode,
            oauth_settings=oauth_settings,  # several workspaces (bot.adapters.slack.oauth); None: the one token given
            name=bot.config.bot.name,
        )
        self.pool = WorkerPool(workers=bot.config.bot.workers, queue_size=bot.config.bot.queue_size)
        self.recent = open_state(bot.config.state.redis_url, ttl=settings.dedup_ttl_s)  # shared by replicas
        self.memberships = Memberships(self.client, ttl_s=settings.membership_ttl_s)
        self.links = Permalinks(self.client)  # a summary's sources, linked under it
        self.downloader = FileDownloader(token) if oauth_settings is None else TeamFileDownloader()
        if oauth_settings is not None:
            use_team_tokens(self.app)
        self.app.command(re.compile(r"^/.+"))(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.view(CALLBACK_ID)(self._on_submit)
        self.interactivity = Interactivity(self)
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
        request = self.request(
            body.get("text", ""), source="slash", user_id=body.get("user_id", ""), slash_command=body.get("command"),
            channel_id=body.get("channel_id"), bot_user_id=context.bot_user_id,
        )
        if self._open_modal(request, body.get("trigger_id", "")):
            ack()
            return
        self._equip(request, response_url=body.get("response_url", ""))
        if self.pool.submit(self._answer, request) is None:
            ack(text=BUSY, response_type="ephemeral")
        else:
            ack()
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)

    def _open_modal(self, request: Request, trigger_id: str) -> bool:
        """A command typed as a plugin's form says (a bare `/index`) opens it; at once: a trigger_id lives 3 seconds."""
        form = self.bot.router.form(request.command, request.text, is_admin=request.is_admin)
        if form is None or not trigger_id:
            return False
        try:
            self.client.views_open(trigger_id=trigger_id, view=modal(form))
            return True
        except (SlackApiError, OSError) as exc:  # the command then runs as typed and says what it needs
            metrics.SLACK_API_ERRORS.labels(method="views.open").inc()
            log.warning("request %s: could not open the /%s form: %s", request.request_id, request.command, exc)
            return False

    def _on_submit(self, ack, body: dict, view: dict) -> None:
        ack()  # closes the modal; the work reports in a DM
        wanted = submission(view)
        user = (body.get("user") or {}).get("id", "")
        # The form as its plugin declares it now (a choice it no longer offers is refused); running the command checks
        # who may, as for a typed one.
        form = self.bot.router.form(wanted.command, wanted.opens_on, is_admin=True)
        try:
            text = form.text(wanted.values) if form else ""
        except NlpbotError as exc:
            form, text = None, str(exc)
        request = self.request(f"{wanted.command} {text}" if form else wanted.command, source="modal", user_id=user,
                               files=shared_files(wanted.files, self.downloader))
        self._equip(request, in_dm=True)
        if form is None:
            request.responder.finish(Reply.error(escape(text) or "That form is not offered any more: type the command."))
        elif self.pool.submit(self._answer, request) is None:
            request.responder.finish(Reply.error(BUSY))

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
        from bot.adapters.slack.home import home_view
        from bot.format import to_blocks

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
        request = self.request(
            event.get("text", ""), source=source, user_id=event.get("user", ""), channel_id=event.get("channel"),
            thread_ts=thread_ts, bot_user_id=bot_user_id, files=shared_files(event.get("files") or [], self.downloader),
        )
        self._equip(request)
        if self.pool.submit(self._answer, request) is None:
            self._post(request, Reply.error(BUSY))

    def request(self, raw_text: str, *, source: str, user_id: str, bot_user_id: str | None = None,
                **fields: Any) -> Request:
        """The one way a Slack payload becomes a Request: its markup made plain and its references typed (markup.py),
        the bot's own mention taken out, then routed."""
        message = markup.parse(raw_text, bot_user_id=bot_user_id, mention=source == "mention")
        return self.bot.router.parse(message.text, source=source, user_id=user_id, channel_refs=message.channel_refs,
                                     user_refs=message.user_refs, **fields)

    def _equip(self, request: Request, *, response_url: str = "", in_dm: bool = False) -> None:
        """The request's view of Slack: channels read as this person may read them, answers within Slack's rules."""
        request.conversation = SlackConversation(
            self.client, self.memberships, user_id=request.user_id, here=request.channel_id,
            names={ref.id: ref.name for ref in request.channel_refs}, bot_name=self.bot.config.bot.name)
        request.responder = SlackResponder(self.client, request, response_url=response_url, in_dm=in_dm,
                                           retry_handlers=retry_handlers())

    # -- workers: run the plugin, deliver the reply -----------------------------------------------

    def _answer(self, request: Request) -> None:
        reply = self.links.add_sources(self.bot.router.handle(request))
        extra = [] if reply.is_error else self.interactivity.feedback_blocks(reply, request.user_id)
        request.responder.finish(reply, extra_blocks=extra)  # "wrong?" buttons where the plugin declares feedback

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
