"""Message shortcuts (Summarize thread, Translate, Sentiment, Entities) and the feedback buttons on their answers.

A shortcut is acked at once and answered ephemerally in the message's thread (chat.postEphemeral; the
shortcut's response_url when the bot cannot post there). Sentiment and entity answers carry buttons that
say "wrong? -> the right label"; a click is stored by `bot.feedback` as a labelled example.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.adapters.slack.conversation import SlackConversation
from bot.feedback import NOT_AN_ENTITY, FeedbackStore
from bot.format import to_slack_messages
from bot.reply import Reply

log = logging.getLogger(__name__)

SHORTCUTS = {"summarize_thread": "summarize", "translate_message": "translate", "sentiment_message": "sentiment",
             "entities_message": "entities"}  # callback_id (slack/manifest.yml) -> command
CONLL_TYPES = ("PER", "ORG", "LOC", "MISC")
ONTONOTES_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
                   "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")
ENTITY_MENUS = 5  # one "wrong?" menu for each of the first five entities keeps the answer small
LABEL = re.compile(r"^[A-Za-z_]{1,32}$")


class Interactivity:
    """Registers the shortcut and button listeners on an adapter's bolt App."""

    def __init__(self, adapter: Any) -> None:
        self.adapter, self.bot = adapter, adapter.bot
        self.store = FeedbackStore.for_config(self.bot.config)
        adapter.app.shortcut(re.compile(f"^({'|'.join(SHORTCUTS)})$"))(self._on_shortcut)
        adapter.app.action(re.compile(r"^feedback:"))(self._on_feedback)

    # -- listeners: ack, enqueue ---------------------------------------------------------------------

    def _on_shortcut(self, ack, body: dict, client: WebClient) -> None:
        ack()
        if self.adapter.pool.submit(self._answer_shortcut, body, client) is None:
            self._respond(body.get("response_url"), Reply.error("I'm busy right now; please try again in a minute."))

    def _on_feedback(self, ack, body: dict, action: dict) -> None:
        ack()
        self.adapter.pool.submit(self._store_click, body, action)

    # -- workers ---------------------------------------------------------------------------------------

    def _answer_shortcut(self, body: dict, client: WebClient) -> None:
        command = SHORTCUTS[body["callback_id"]]
        message, channel, user = body.get("message") or {}, body["channel"]["id"], body["user"]["id"]
        thread_ts, team = message.get("thread_ts") or message.get("ts"), (body.get("team") or {}).get("id")
        request = self.adapter.request(
            "" if command == "summarize" else message.get("text", ""), source="shortcut", user_id=user,
            slash_command=f"/{command}", channel_id=channel, thread_ts=thread_ts, team_id=team,
            conversation=SlackConversation(client, self.adapter.memberships, user_id=user, here=channel,
                                           bot_name=self.bot.config.bot.name, reader=self.adapter.history_reader(team)),
        )
        request.channel_refs = []  # the shortcut is about this message, never about a channel it names
        reply = self.adapter.links.add_sources(self.adapter.with_notes(request, self.bot.router.handle(request)))
        extra = [] if reply.is_error else self.feedback_blocks(command, reply, user)
        messages = to_slack_messages(reply)
        messages[-1]["blocks"] = messages[-1]["blocks"] + extra
        try:
            for part in messages:
                client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **part)
        except SlackApiError as exc:  # not in the channel, or a DM the bot cannot post in: the shortcut's own URL
            metrics.SLACK_API_ERRORS.labels(method="chat.postEphemeral").inc()
            log.info("request %s: chat.postEphemeral failed (%s); answering at the response_url",
                     request.request_id, exc.response.get("error"))
            for part in messages:
                self._send(body.get("response_url"), part)

    def feedback_blocks(self, command: str, reply: Reply, user: str) -> list[dict]:
        """The "wrong?" buttons for a sentiment or entity answer (none for other answers)."""
        plugin = self.bot.router.commands[command][0] if command in self.bot.router.commands else None
        if plugin is None or command not in ("sentiment", "entities") or "model_version" not in reply.data:
            return []
        answer = self.store.remember(plugin=plugin.name, text=reply.data["text"], output=reply.data,
                                     model_version=reply.data["model_version"], user_id=user)
        hint = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Wrong? Tell me the right label:"}]}
        if command == "sentiment":
            buttons = [{"type": "button", "text": {"type": "plain_text", "text": f"→ {label}"},
                        "action_id": f"feedback:label:{label}", "value": answer}
                       for label in plugin.labels if label != reply.data.get("label")]
            return [hint, {"type": "actions", "block_id": "feedback", "elements": buttons}]
        entities = reply.data.get("entities") or []
        if not entities:
            return []
        found = {e["type"] for e in entities}
        types = CONLL_TYPES if found <= set(CONLL_TYPES) else ONTONOTES_TYPES
        menus = []
        for index, entity in enumerate(entities[:ENTITY_MENUS]):
            options = [(f"{t}", t) for t in (*types, *sorted(found - set(types))) if t != entity["type"]]
            options.append(("not a name", NOT_AN_ENTITY))
            menus.append({"type": "static_select", "action_id": f"feedback:entity:{index}",
                          "placeholder": {"type": "plain_text", "text": f"“{entity['text'][:60]}” is…"},
                          "options": [{"text": {"type": "plain_text", "text": text},
                                       "value": f"{answer}:{index}:{value}"} for text, value in options]})
        return [hint, {"type": "actions", "block_id": "feedback", "elements": menus}]

    def _store_click(self, body: dict, action: dict) -> None:
        user = body.get("user", {}).get("id", "")
        if action.get("type") == "static_select":
            answer, index, label = (action.get("selected_option") or {}).get("value", "::").split(":", 2)
            entity = int(index) if index.isdigit() else None
        else:
            answer, label, entity = action.get("value", ""), action.get("action_id", "").rsplit(":", 1)[-1], None
        stored = self.store.record(answer, label=label, user_id=user, entity=entity) if LABEL.match(label) else None
        if stored is None:
            log.warning("ignoring feedback for an unknown answer or label from %s", user)
            return
        metrics.FEEDBACK.labels(plugin=stored["plugin"]).inc()
        what = "not a name" if label == NOT_AN_ENTITY else f"*{label}*"
        self._respond(body.get("response_url"), Reply(text=f"Thanks! Noted as {what}: it will help the next training run.",
                                                      in_channel=False))

    def _respond(self, response_url: str | None, reply: Reply) -> None:
        for part in to_slack_messages(reply):
            self._send(response_url, part)

    @staticmethod
    def _send(response_url: str | None, part: dict) -> None:
        if not response_url:
            return
        try:
            WebhookClient(response_url, timeout=30).send(text=part["text"], blocks=part["blocks"],
                                                         response_type="ephemeral", replace_original=False)
        except Exception as exc:  # noqa: BLE001 - a lost note is logged, never raised into the worker
            metrics.SLACK_API_ERRORS.labels(method="response_url").inc()
            log.error("could not answer at a response_url: %s", exc)
