"""examples/nlpbot-urgency, a plugin in a package of its own, used like a built-in: its help, its manifest entry, its
shortcut with feedback buttons over signed HTTP, the corrections exported, `nlpbot train`, then its trained model
answering the slash command, `nlpbot predict` and `nlpbot eval` (nothing in bot/ names it)."""

from __future__ import annotations

import json
import random

import pytest
import yaml

from bot.plugin_manager import discover
from tests.adapters.slack.test_interactivity import actions_of, answer_to, click, shortcut
from tests.support.bots import BotServer, write_config
from tests.support.commandline import nlpbot
from tests.support.slackhttp import slash

SAYINGS = {
    "urgent": ["the production database is down", "nobody can log in since the deploy", "checkout fails for everyone",
               "the site returns errors on every page", "payments are failing right now", "the build server crashed"],
    "soon": ["please review my pull request today", "the report is due on Friday", "can we plan the release this week",
             "the certificate expires next week", "update the roadmap before Thursday", "book the room for Monday"],
    "later": ["someday we could rename the wiki pages", "a dark mode would be nice to have",
              "no rush, just an idea for the offsite", "when you have time, tidy the old branches",
              "maybe one day a new logo", "a thought for next year: a team newsletter"],
}


def examples(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    openers = ["", "hey team, ", "fyi ", "quick one: ", "heads up, "]
    return [{"text": rng.choice(openers) + rng.choice(SAYINGS[label]), "label": label}
            for label in (rng.choice(list(SAYINGS)) for _ in range(count))]


@pytest.fixture(scope="module")
def urgency_bot(tmp_path_factory, tiny_sentiment, module_fake_slack):
    assert "urgency" in discover(), "examples/nlpbot-urgency is not installed: `make setup` installs it"
    folder = tmp_path_factory.mktemp("urgency")
    (folder / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in examples(90, seed=1)))
    (folder / "eval.jsonl").write_text("".join(json.dumps(row) + "\n" for row in examples(30, seed=2)))
    config = write_config(folder, f"""
        [bot]
        admins = ["UADMIN01"]
        [models]
        models_dir = "models"
        [plugins.sentiment]
        model = "{tiny_sentiment}"
        [plugins.urgency]
        enabled = true
        [training.urgency]
        base = "{tiny_sentiment}"
        max_steps = 12
        batch_size = 8
    """)
    server = BotServer(config, module_fake_slack)
    yield server, config
    server.stop()


def test_the_example_plugin_is_a_command_with_help_and_a_shortcut_in_the_manifest(urgency_bot, module_fake_slack):
    server, config = urgency_bot
    slash(server, module_fake_slack, "/nlp", "help urgency", name="urgency-help")
    [help_] = module_fake_slack.wait_for("/response/urgency-help")
    assert help_.body["text"].startswith("/urgency\nHow urgent is a message") and "Usage: `/urgency TEXT`" in help_.body["text"]
    written = nlpbot("slack", "manifest", config=config)
    assert written.returncode == 0, written.stderr
    manifest = yaml.safe_load(written.stdout)
    assert {"command": "/urgency", "url": "https://nlpbot.example.com/slack/events", "should_escape": True,
            "description": "How urgent is a message: urgent, soon or later?", "usage_hint": "TEXT"} in (
        manifest["features"]["slash_commands"])
    assert "urgency_message" in {s["callback_id"] for s in manifest["features"]["shortcuts"]}


def test_from_a_shortcut_and_a_correction_to_a_trained_model_that_answers(urgency_bot, module_fake_slack, tmp_path):
    server, config = urgency_bot
    fake, ts, text = module_fake_slack, "1700004000.000100", "the payment page is down for every customer"
    assert shortcut(server, fake, "urgency_message", text, user="UURGENT1", ts=ts, name="urgency-shortcut") == 200
    answer = answer_to(fake, "UURGENT1", ts)
    assert text in answer.body["text"] and "similarity" in answer.body["text"]  # untrained: by similarity
    buttons = actions_of(answer)
    offered = {button["text"]["text"].removeprefix("→ ") for button in buttons}
    assert len(buttons) == 2 and offered < {"urgent", "soon", "later"}
    button = next(b for b in buttons if b["text"]["text"] == "→ urgent") if "urgent" in offered else buttons[0]
    assert click(server, fake, {"type": "button", "action_id": button["action_id"], "value": button["value"]},
                 user="UURGENT2", name="urgency-click") == 200
    right = button["text"]["text"].removeprefix("→ ")
    [thanks] = fake.wait_for("/response/urgency-click")
    assert f"Noted as *{right}*" in thanks.body["text"]

    corrections = tmp_path / "corrections.jsonl"
    exported = nlpbot("data", "feedback", "urgency", "--out", str(corrections), config=config)
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(line) for line in corrections.read_text().splitlines()] == [{"text": text, "label": right}]

    data = tmp_path / "train.jsonl"
    data.write_text((config.parent / "train.jsonl").read_text() + corrections.read_text())
    trained = nlpbot("train", "urgency", "--data", str(data), "--quiet", config=config)
    assert trained.returncode == 0, trained.stderr
    version = trained.stdout.split()[1].rstrip(":")
    assert f"{version} serves urgency" in trained.stdout

    slash(server, fake, "/urgency", "the login page is broken for everyone", name="urgency-trained")
    [answered] = fake.wait_for("/response/urgency-trained", timeout=60)
    assert "sure)" in answered.body["text"]  # the trained classifier's own confidence now
    assert any(block["type"] == "actions" for block in answered.body["blocks"])  # and its buttons

    predicted = nlpbot("predict", "urgency", config=config, stdin="checkout is down\nmaybe a new logo someday\n")
    assert predicted.returncode == 0, predicted.stderr
    rows = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert [row["text"] for row in rows] == ["checkout is down", "maybe a new logo someday"]
    assert all(row["label"] in {"urgent", "soon", "later"} and 0 <= row["score"] <= 1 for row in rows)
    scored = nlpbot("eval", "urgency", "--data", str(config.parent / "eval.jsonl"), "--json", config=config)
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert report["plugin"] == "urgency" and report["version"] == version and report["examples"] == 30
    assert 0 <= report["metrics"]["accuracy"] <= 1
