"""A classifier defined only in config.toml, trained and evaluated with the CLI, then over Slack's signed HTTP against
the strict fake Slack: /triage answers with feedback buttons whose click lands in the feedback store (and exports as
training data), help lists it, a mention reaches it, and a channel's label mix is read only for its members."""

from __future__ import annotations

import json

import pytest

from bot.config import load_config
from bot.feedback import FeedbackStore
from tests.support.bots import BotServer
from tests.support.classifiers import LABELS, copy_trained, nlpbot
from tests.support.slackhttp import click, mention, slash

SUPPORT = [  # newest first, as conversations.history sends them
    {"type": "message", "user": "UMEMBER1", "ts": "1700003003.000100", "text": "the invoice was charged twice"},
    {"type": "message", "user": "UMEMBER1", "ts": "1700003002.000100", "text": "the app crash on tuesday again"},
    {"type": "message", "user": "UMEMBER1", "ts": "1700003001.000100", "text": "how do I explain the window setting"},
    {"type": "message", "user": "UMEMBER1", "ts": "1700003000.000100", "text": "\U0001F389 \U0001F44D"},
]


@pytest.fixture(scope="module")
def triage_bot(trained_triage, tmp_path_factory, tiny_sentiment, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0SUPPORT", "support", members=["UMEMBER1"], private=True)
    fake.history["C0SUPPORT"] = SUPPORT
    config = copy_trained(trained_triage, tmp_path_factory.mktemp("triage-http"), tiny_sentiment)
    server = BotServer(config, fake)
    yield server
    server.stop()


def answer(server, fake, command: str, text: str, *, name: str, user: str = "UUSER001") -> dict:
    status, _, seconds = slash(server, fake, command, text, name=name, user=user)
    assert status == 200 and seconds < 3.0  # acknowledged at once, answered at the response_url
    [reply] = fake.wait_for(f"/response/{name}", timeout=90)
    return reply.body


def test_the_slash_command_answers_with_a_label_or_not_sure(triage_bot, module_fake_slack):
    body = answer(triage_bot, module_fake_slack, "/triage", "the paper refund on tuesday", name="triage-text")
    assert body["response_type"] == "in_channel"
    assert "the paper refund on tuesday" in body["text"]
    said = [label for label in LABELS if f"*{label}*" in body["text"]]
    assert ("sure)" in body["text"] and len(said) == 1) or "Not sure" in body["text"]


def test_the_answer_carries_feedback_buttons_and_a_click_lands_in_the_store_and_the_export(triage_bot,
                                                                                          module_fake_slack):
    fake, text = module_fake_slack, "please look at the invoice from tuesday"
    body = answer(triage_bot, fake, "/triage", text, name="triage-buttons", user="UFEED101")
    buttons = [element for block in body["blocks"] if block["type"] == "actions" for element in block["elements"]]
    offered = [button["text"]["text"].removeprefix("→ ") for button in buttons]
    said = next((label for label in LABELS if f"*{label}*" in body["text"]), None)  # None: "not sure"
    assert sorted(offered) == sorted(label for label in LABELS if label != said)  # every other label, no "oos"
    button = buttons[0]
    assert click(triage_bot, fake, {"type": "button", "action_id": button["action_id"], "value": button["value"]},
                 user="UFEED102", name="triage-clicked") == 200
    [thanks] = fake.wait_for("/response/triage-clicked")
    assert f"Noted as *{offered[0]}*" in thanks.body["text"]
    config = triage_bot.log.parent / "config.toml"
    store = FeedbackStore.for_config(load_config(config))
    assert {"text": text, "label": offered[0]} in store.examples("triage")
    store.close()
    out = config.parent / "feedback-triage.jsonl"
    exported = nlpbot("data", "feedback", "triage", "--out", str(out), config=config)
    assert exported.returncode == 0, exported.stderr
    assert {"text": text, "label": offered[0]} in [json.loads(line) for line in out.read_text().splitlines()]


def test_it_was_evaluated_on_held_out_data_label_by_label(triage_bot):
    config = triage_bot.log.parent / "config.toml"
    report = nlpbot("eval", "triage", "--data", "data/test.jsonl", "--json", config=config)
    assert report.returncode == 0, report.stderr
    metrics = json.loads(report.stdout)["metrics"]
    assert set(metrics["per_label"]) == {*LABELS, "oos"} and "oos_recall" in metrics  # the test data has chatter
    assert metrics["macro_f1"] > 0.5  # the tiny model learnt the word that decides each team


def test_help_lists_the_classifier_with_its_description(triage_bot, module_fake_slack):
    body = answer(triage_bot, module_fake_slack, "/nlp", "help", name="triage-help")
    assert "Which team should handle this request?" in body["text"] and "/triage TEXT" in body["text"]


def test_a_mention_reaches_the_classifier_in_its_thread(triage_bot, module_fake_slack):
    event = mention(triage_bot, "Ev0TRIAGE01", "triage my invoice is wrong", user="UUSER001", ts="1700003100.000100")
    [posted] = module_fake_slack.wait_for("/api/chat.postMessage",
                                          where=lambda call: call.body.get("thread_ts") == event["ts"])
    assert "my invoice is wrong" in posted.body["text"]


def test_a_channels_label_mix_is_shown_to_its_members_only(triage_bot, module_fake_slack):
    fake = module_fake_slack
    refused = answer(triage_bot, fake, "/triage", "<#C0SUPPORT|support>", name="triage-outsider")
    assert refused["response_type"] == "ephemeral" and "not a member of #support" in refused["text"]
    assert "invoice" not in json.dumps(refused)
    assert not [call for call in fake.calls_to("/api/conversations.history") if call.body.get("channel") == "C0SUPPORT"]

    mix = answer(triage_bot, fake, "/triage", "<#C0SUPPORT|support> 10", name="triage-member", user="UMEMBER1")
    text = json.dumps(mix)
    assert "/triage in support" in text
    assert "across the last 3 messages" in text or "any of the last 3 messages" in text  # the emoji-only one skipped
