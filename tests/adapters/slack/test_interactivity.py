"""Message shortcuts and feedback buttons through the real HTTP server, signed as Slack signs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.parse import urlencode

from bot.feedback import Feedback, FeedbackStore
from bot.training.kinds import get_kind
from bot.training.kinds.tokens import read_entities
from bot.training.data import Problems
from tests.support.bots import ROOT, SIGNING_SECRET
from tests.support.signing import signed_headers
from tests.support.slackhttp import FORM, post, slash

CHANNEL = "C0GENERAL"


def interaction(server, payload: dict) -> int:
    """POST an interactivity payload as Slack does: a form with one `payload` field of JSON, signed."""
    body = urlencode({"payload": json.dumps(payload)})
    status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))
    return status


def shortcut(server, fake, callback_id: str, text: str, *, user: str, ts: str, name: str) -> int:
    return interaction(server, {
        "type": "message_action", "callback_id": callback_id, "trigger_id": "1337.42.abcd", "token": "unused",
        "team": {"id": "T0001", "domain": "example"}, "user": {"id": user, "team_id": "T0001"},
        "channel": {"id": CHANNEL, "name": "general"}, "message_ts": ts, "response_url": fake.response_url(name),
        "message": {"type": "message", "user": "UAUTHOR1", "ts": ts, "text": text},
    })


def click(server, fake, action: dict, *, user: str, name: str) -> int:
    return interaction(server, {
        "type": "block_actions", "trigger_id": "1337.43.abcd", "token": "unused", "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "example"}, "user": {"id": user, "team_id": "T0001"},
        "channel": {"id": CHANNEL}, "container": {"type": "message", "is_ephemeral": True},
        "response_url": fake.response_url(name), "actions": [{**action, "block_id": "feedback", "action_ts": "1.2"}],
    })


def answer_to(fake, user: str, ts: str):
    [answer] = fake.wait_for("/api/chat.postEphemeral", timeout=60,
                             where=lambda c: c.body.get("user") == user and c.body.get("thread_ts") == ts)
    return answer


def actions_of(answer) -> list[dict]:
    return [element for block in answer.body["blocks"] if block["type"] == "actions" for element in block["elements"]]


def test_the_sentiment_shortcut_answers_privately_in_the_thread_and_a_click_becomes_training_data(
        http_bot, module_fake_slack):
    fake, ts = module_fake_slack, "1700001000.000100"
    store = FeedbackStore(http_bot.log.parent / "state" / "feedback.sqlite")
    before = store.examples("sentiment")  # other tests' clicks on this module's bot, in whatever order they ran
    assert shortcut(http_bot, fake, "sentiment_message", "I love how fast the new build is", user="UFEED001", ts=ts,
                    name="shortcut-sentiment") == 200
    answer = answer_to(fake, "UFEED001", ts)
    assert answer.body["channel"] == CHANNEL and "I love how fast the new build is" in answer.body["text"]
    buttons = actions_of(answer)
    predicted = {"negative", "neutral", "positive"} - {b["text"]["text"].removeprefix("→ ") for b in buttons}
    assert len(buttons) == 2 and len(predicted) == 1  # "wrong? -> " each label but the one given
    button = buttons[0]
    right = button["text"]["text"].removeprefix("→ ")

    assert click(http_bot, fake, {"type": "button", "action_id": button["action_id"], "value": button["value"]},
                 user="UFEED002", name="clicked") == 200
    [thanks] = fake.wait_for("/response/clicked")
    assert f"Noted as *{right}*" in thanks.body["text"] and thanks.body["response_type"] == "ephemeral"

    after = store.examples("sentiment")
    assert after == [*before, {"text": "I love how fast the new build is", "label": right}]
    row = store._db.execute("SELECT user_id, model_version, at FROM feedback ORDER BY id DESC").fetchone()  # the last click
    assert row[0] == "UFEED002" and row[1] and abs(row[2] - time.time()) < 60
    store.close()

    out = http_bot.log.parent / "feedback-sentiment.jsonl"
    exported = subprocess.run([sys.executable, "-m", "bot", "--config", str(http_bot.log.parent / "config.toml"),
                               "data", "feedback", "sentiment", "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert f"{len(after)} example{'s' if len(after) != 1 else ''} from feedback" in exported.stdout
    records = get_kind("sequence-classification").read(out, labels=["negative", "neutral", "positive"])
    assert records == after

    slash(http_bot, fake, "/nlp-admin", "models sentiment", name="admin-models", user="UADMIN01")
    [models] = fake.wait_for("/response/admin-models", timeout=60)
    assert f"Feedback clicks: sentiment {len(after)}" in models.body["text"]


def test_a_forged_or_unknown_click_stores_nothing(http_bot, module_fake_slack):
    before = FeedbackStore(http_bot.log.parent / "state" / "feedback.sqlite")
    count = sum(before.counts().values())
    assert click(http_bot, module_fake_slack, {"type": "button", "action_id": "feedback:label:positive",
                                               "value": "no-such-answer"}, user="UFORGE01", name="forged") == 200
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})
    status, _, _ = post(http_bot.url, body, signed_headers("not-the-secret", body, content_type=FORM))
    assert status == 401
    time.sleep(1.0)
    assert sum(before.counts().values()) == count and module_fake_slack.calls_to("/response/forged") == []
    before.close()


def test_the_entities_shortcut_offers_a_menu_per_entity_and_a_correction_exports_as_ner_data(
        http_bot, module_fake_slack, tmp_path):
    fake, ts = module_fake_slack, "1700001100.000100"
    text = "Ada Lovelace visited Paris with Google last May."
    assert shortcut(http_bot, fake, "entities_message", text, user="UFEED003", ts=ts, name="shortcut-ner") == 200
    answer = answer_to(fake, "UFEED003", ts)
    menus = actions_of(answer)
    assert menus and all(menu["type"] == "static_select" for menu in menus)
    option = next(o for o in menus[0]["options"] if o["value"].endswith(":O"))  # "not a name"
    assert click(http_bot, fake, {"type": "static_select", "action_id": menus[0]["action_id"],
                                  "selected_option": option}, user="UFEED003", name="ner-click") == 200
    fake.wait_for("/response/ner-click")
    store = FeedbackStore(http_bot.log.parent / "state" / "feedback.sqlite")
    out = tmp_path / "ner.jsonl"
    assert store.export("ner", out, Feedback(labels=(), spans="entities")) == 1  # the ner plugin's record shape
    store.close()
    problems = Problems()
    [record] = read_entities(out, problems)
    assert not problems.items and record["text"] == text
    removed = menus[0]["placeholder"]["text"].split("“", 1)[1].rsplit("”", 1)[0]
    assert removed and all(text[e["start"]:e["end"]] != removed for e in record["entities"])


def test_summarize_thread_reads_the_messages_thread(http_bot, module_fake_slack):
    fake, ts = module_fake_slack, "1700001200.000100"
    fake.replies[(CHANNEL, ts)] = [
        {"type": "message", "user": "U1", "ts": ts, "text": "The release moves to Thursday because QA found a bug."},
        {"type": "message", "user": "U2", "ts": "1700001201.000100", "text": "Then the launch email goes out Friday."},
    ]
    assert shortcut(http_bot, fake, "summarize_thread", "The release moves to Thursday because QA found a bug.",
                    user="UFEED004", ts=ts, name="shortcut-summary") == 200
    answer = answer_to(fake, "UFEED004", ts)
    assert fake.calls_to("/api/conversations.replies")[-1].body["ts"] == ts
    assert "Summary of this thread" in answer.body["text"] and "launch email" in answer.body["text"]
    assert not actions_of(answer)  # no feedback buttons on summaries


def test_a_slash_sentiment_answer_carries_the_buttons_and_a_click_is_stored(http_bot, module_fake_slack):
    fake = module_fake_slack
    slash(http_bot, fake, "/sentiment", "The rollout went badly and everyone is upset", name="slash-buttons",
          user="UFEED003")
    [answer] = fake.wait_for("/response/slash-buttons", timeout=60)
    buttons = [element for block in answer.body["blocks"] if block["type"] == "actions"
               for element in block["elements"]]
    assert len(buttons) == 2 and all(b["action_id"].startswith("feedback:label:") for b in buttons)
    button = buttons[-1]
    assert click(http_bot, fake, {"type": "button", "action_id": button["action_id"], "value": button["value"]},
                 user="UFEED004", name="slash-clicked") == 200
    [thanks] = fake.wait_for("/response/slash-clicked")
    right = button["text"]["text"].removeprefix("→ ")
    assert f"Noted as *{right}*" in thanks.body["text"]
    store = FeedbackStore(http_bot.log.parent / "state" / "feedback.sqlite")
    assert {"text": "The rollout went badly and everyone is upset", "label": right} in store.examples("sentiment")
    store.close()
