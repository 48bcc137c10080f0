"""Message shortcuts and the feedback buttons on answers, from what each plugin declares (`shortcuts`, `feedback()`).

A shortcut is acked at once and answered ephemerally in the message's thread (chat.postEphemeral; the
shortcut's response_url when the bot cannot post there). An answer from a plugin that declares feedback carries
"wrong? -> the right label" buttons (a menu past a few labels or for a set of labels, a menu per span); a click is
checked against the plugin's declaration and stored by `bot.feedback` as a labelled example.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.adapters.slack.conversation import SlackConversation
from bot.feedback import OUTSIDE, Feedback, FeedbackStore
from bot.format import escape, to_slack_messages
from bot.reply import Reply

log = logging.getLogger(__name__)

MAX_BUTTONS = 5  # more labels to choose from: one menu instead of a row of buttons
MAX_SPANS = 5  # one "wrong?" menu for each of the first five spans keeps the answer small
OPTIONS = 100  # a static_select's options (Block Kit)
TEXT_CHARS = 75  # a button's or an option's text
VALUE_CHARS = 150  # an option's value: "ANSWER:SPAN:LABEL"


def _plain(text: str, limit: int = TEXT_CHARS) -> dict[str, str]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[:limit - 1] + "…"}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


class Interactivity:
    """Registers the shortcut and button listeners on an adapter's bolt App."""

    def __init__(self, adapter: Any) -> None:
        self.adapter, self.bot = adapter, adapter.bot
        self.store = FeedbackStore.for_config(self.bot.config)
        shortcuts = self.bot.router.shortcuts
        if shortcuts:
            adapter.app.shortcut(re.compile(f"^({'|'.join(map(re.escape, shortcuts))})$"))(self._on_shortcut)
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
        shortcut = self.bot.router.shortcuts[body["callback_id"]][1]
        message, channel, user = body.get("message") or {}, body["channel"]["id"], body["user"]["id"]
        thread_ts = message.get("thread_ts") or message.get("ts")
        request = self.adapter.request(
            message.get("text", "") if shortcut.passes == "message" else "", source="shortcut", user_id=user,
            slash_command=f"/{shortcut.command}", channel_id=channel, thread_ts=thread_ts,
            conversation=SlackConversation(client, self.adapter.memberships, user_id=user, here=channel,
                                           bot_name=self.bot.config.bot.name),
        )
        request.channel_refs = []  # the shortcut is about this message, never about a channel it names
        reply = self.adapter.links.add_sources(self.bot.router.handle(request))
        extra = [] if reply.is_error else self.feedback_blocks(reply, user)
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

    def feedback_blocks(self, reply: Reply, user: str) -> list[dict]:
        """The "wrong?" buttons under an answer whose plugin declares feedback (none for other answers)."""
        plugin = self.bot.plugins.get(reply.plugin)
        declared = plugin.feedback() if plugin is not None else None
        data = reply.data
        if declared is None or not isinstance(data.get("text"), str) or "model_version" not in data:
            return []
        if declared.multiple:
            if not isinstance(data.get("labels"), list) or not declared.labels:
                return []
            answer = self._remember(reply, user)
            return self._hint() + [{"type": "actions", "block_id": "feedback", "elements": [
                self._labels_menu(answer, declared.labels, data["labels"])]}]
        if declared.spans is None:
            if "label" not in data:
                return []
            top = [guess.get("label") for guess in data.get("top") or [] if isinstance(guess, dict)]
            choices = [label for label in dict.fromkeys([*top, *declared.labels])
                       if label in declared.labels and label != data["label"]]
            if not choices:
                return []
            answer = self._remember(reply, user)
            return self._hint() + [{"type": "actions", "block_id": "feedback", "elements": self._label_elements(
                answer, choices)}]
        spans = [span for span in data.get(declared.spans) or [] if isinstance(span, dict)][:MAX_SPANS]
        if not spans:
            return []
        answer = self._remember(reply, user)
        return self._hint() + [{"type": "actions", "block_id": "feedback", "elements": [
            self._span_menu(answer, index, span, declared, spans) for index, span in enumerate(spans)]}]

    def _remember(self, reply: Reply, user: str) -> str:
        return self.store.remember(plugin=reply.plugin, text=reply.data["text"], output=reply.data,
                                   model_version=str(reply.data["model_version"]), user_id=user)

    @staticmethod
    def _hint() -> list[dict]:
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Wrong? Tell me the right label:"}]}]

    @staticmethod
    def _label_elements(answer: str, choices: list[str]) -> list[dict]:
        choices = [label for label in choices if len(f"{answer}::{label}") <= VALUE_CHARS]
        if len(choices) <= MAX_BUTTONS:
            return [{"type": "button", "text": _plain(f"→ {label}"), "action_id": f"feedback:label:{index}",
                     "value": f"{answer}::{label}"} for index, label in enumerate(choices)]
        return [{"type": "static_select", "action_id": "feedback:label", "placeholder": _plain("The right label is…"),
                 "options": [_option(label, f"{answer}::{label}") for label in choices[:OPTIONS]]}]

    @staticmethod
    def _labels_menu(answer: str, labels: tuple[str, ...], given: list) -> dict:
        """Every label, those the answer gave selected; a change sends the whole selection (the answer is in the
        action_id, since a selection may be empty)."""
        options = [_option(label, label) for label in labels[:OPTIONS] if len(label) <= VALUE_CHARS]
        chosen = [option for option in options if option["value"] in given]
        return {"type": "multi_static_select", "action_id": f"feedback:labels:{answer}",
                "placeholder": _plain("The right labels are…"), "options": options,
                **({"initial_options": chosen} if chosen else {})}

    @staticmethod
    def _span_menu(answer: str, index: int, span: dict, declared: Feedback, spans: list[dict]) -> dict:
        found = [str(item.get("type")) for item in spans]
        types = [t for t in dict.fromkeys([*declared.labels, *found]) if t != span.get("type")]
        options = [_option(t, f"{answer}:{index}:{t}") for t in types if len(f"{answer}:{index}:{t}") <= VALUE_CHARS]
        options = options[:OPTIONS - 1] + [_option(declared.remove, f"{answer}:{index}:{OUTSIDE}")]
        return {"type": "static_select", "action_id": f"feedback:span:{index}",
                "placeholder": _plain(f"“{str(span.get('text', ''))[:60]}” is…", 150), "options": options}

    def _store_click(self, body: dict, action: dict) -> None:
        user = body.get("user", {}).get("id", "")
        answer, span, label = self._parse_click(action)
        found = self.store.answer(answer) if answer else None
        plugin = self.bot.plugins.get(found[0]) if found else None
        declared = plugin.feedback() if plugin is not None else None
        if declared is None or not declared.accepts(label, found[1], span):
            log.warning("ignoring feedback for an unknown answer or label from %s", user)
            return
        stored = self.store.record(answer, label=label, user_id=user, entity=span)
        if stored is None:
            return
        metrics.FEEDBACK.labels(plugin=stored["plugin"]).inc()
        if declared.multiple:
            what = ", ".join(f"*{escape(chosen)}*" for chosen in json.loads(label)) or "no label at all"
        else:
            what = declared.remove if label == OUTSIDE else f"*{escape(label)}*"
        self._respond(body.get("response_url"), Reply(text=f"Thanks! Noted as {what}: it will help the next training run.",
                                                      in_channel=False))

    @staticmethod
    def _parse_click(action: dict) -> tuple[str, int | None, str]:
        """(answer id, span index or None, label) from a button's value or a menu's selected option(s); a
        multi-select's labels as a JSON list."""
        if action.get("type") == "multi_static_select":
            chosen = [str(option.get("value") or "") for option in action.get("selected_options") or []
                      if isinstance(option, dict)]
            return str(action.get("action_id", "")).rsplit(":", 1)[-1], None, json.dumps(chosen)
        if action.get("type") == "static_select":
            value = str((action.get("selected_option") or {}).get("value") or "")
        else:
            value = str(action.get("value") or "")
            if ":" not in value:  # a button posted before labels moved into the value: feedback:label:LABEL
                return value, None, str(action.get("action_id", "")).rsplit(":", 1)[-1]
        answer, _, rest = value.partition(":")
        span, _, label = rest.partition(":")
        return answer, int(span) if span.isdigit() else None, label

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
