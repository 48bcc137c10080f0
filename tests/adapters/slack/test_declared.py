"""Any plugin's declarations reach Slack with no adapter code for it: plugins written in this test get their message
shortcut, their feedback (a menu past five labels, a multi-select for a set of labels; checked on click), a form
with files and their subcommands' help, over signed HTTP against the fake Slack, and their place in the manifest."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.feedback import FeedbackStore
from bot.plugin import Feedback, Form, Input, Option, Plugin, Reply, Request, Shortcut, command, subcommand
from tests.support.bots import BOT_TOKEN, SIGNING_SECRET, write_config
from tests.support.signing import signed_headers, slash_command_body
from tests.support.slackhttp import FORM, post, slash, submit_view, wait_until

TEAMS = ("bug", "question", "billing", "feature", "security", "access", "outage")
TOPICS = Feedback(labels=("api", "docs", "pricing"), multiple=True)


class Triage(Plugin):
    """A plugin the adapter has never heard of."""

    name = "triage"
    description = "Which team should handle this request?"
    shortcuts = (Shortcut("triage_message", "Triage", command="triage", description="Which team handles this message?"),)

    def feedback(self) -> Feedback:
        return Feedback(labels=TEAMS)

    def forms(self) -> tuple[Form, ...]:
        return (Form("triage", title="Triage files", submit="Triage", runs="files for {team}", inputs=(
            Input("team", "Team", kind="choice", choices=("web", "mobile"), initial="mobile"),
            Input("files", "Files", kind="files"))),)

    @command(usage="/triage TEXT | /triage explain LABEL")
    def triage(self, request: Request) -> Reply:
        """Route a request to the team that should handle it."""
        if request.files:
            return Reply(text=f"{len(request.files)} file(s) {request.text}", in_channel=False)
        text = request.require_text()
        label = "billing" if "invoice" in text.lower() else "question"
        top = [{"label": label, "score": 0.6}, {"label": "security", "score": 0.3}]
        return Reply(text=f"*{label}*", data={"text": text, "label": label, "score": 0.6, "top": top,
                                               "model_version": "rules-1"})

    @subcommand("explain", of="triage", usage="/triage explain LABEL [--examples N] [--verbose]",
                options=(Option("examples", type=int, metavar="N", help="how many examples to show"),
                         Option("verbose", type=bool, help="say more")))
    def explain(self, request: Request, args: list[str], examples: int = 1, verbose: bool = False) -> Reply:
        """What a label means."""
        return Reply(text=f"{' '.join(args)}: {examples} example(s){' (verbose)' if verbose else ''}")


class Tags(Plugin):
    """A multi-label classifier: a set of labels per text."""

    name = "tags"
    description = "Which topics does a text touch?"

    def feedback(self) -> Feedback:
        return TOPICS

    @command(usage="/tags TEXT")
    def tags(self, request: Request) -> Reply:
        """Tag a text with its topics."""
        text = request.require_text()
        return Reply(text="api, docs", data={"text": text, "labels": ["api", "docs"], "model_version": "rules-1"})


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_sentiment, module_fake_slack):
    """The bot with the triage plugin, served in this process by the real HTTP adapter (uvicorn)."""
    from bot.adapters.slack.app import SlackAdapter
    from bot.adapters.slack.http import serve_http

    folder = tmp_path_factory.mktemp("declared")
    config = write_config(folder, f'[bot]\nadmins = ["UADMIN01"]\n[plugins.sentiment]\nmodel = "{tiny_sentiment}"\n')
    bot = Nlpbot(load_config(config), extra_plugins={"triage": Triage, "tags": Tags})
    adapter = SlackAdapter(bot, token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=module_fake_slack.api_url)
    ready, bound = threading.Event(), {}
    threading.Thread(target=serve_http, kwargs=dict(adapter=adapter, host="127.0.0.1", port=0, path="/slack/events",
                                                    ready=lambda port: (bound.update(port=port), ready.set())),
                     daemon=True).start()
    assert ready.wait(10)

    class Server:
        url = f"http://127.0.0.1:{bound['port']}/slack/events"
        store = FeedbackStore.for_config(bot.config)
        config_path = config

    yield Server
    Server.store.close()
    adapter.close()


def interaction(server, payload: dict[str, Any]) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    return post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))[0]


def pick(server, fake, menu: dict, option: dict, *, user: str, name: str) -> int:
    return interaction(server, {
        "type": "block_actions", "trigger_id": "1.2.x", "token": "unused", "api_app_id": "A0001",
        "team": {"id": "T0001"}, "user": {"id": user}, "channel": {"id": "C0GENERAL"},
        "container": {"type": "message", "is_ephemeral": True}, "response_url": fake.response_url(name),
        "actions": [{"type": "static_select", "action_id": menu["action_id"], "block_id": "feedback",
                     "selected_option": option, "action_ts": "1.3"}]})


def test_its_shortcut_answers_with_a_menu_of_the_other_labels_and_a_pick_is_stored(served, module_fake_slack):
    fake, ts = module_fake_slack, "1700003000.000100"
    assert interaction(served, {
        "type": "message_action", "callback_id": "triage_message", "trigger_id": "1.2.y", "token": "unused",
        "team": {"id": "T0001"}, "user": {"id": "UTRIAGE1"}, "channel": {"id": "C0GENERAL", "name": "general"},
        "message_ts": ts, "response_url": fake.response_url("triage-shortcut"),
        "message": {"type": "message", "user": "UAUTHOR1", "ts": ts, "text": "The invoice for March is wrong"}}) == 200
    [answer] = fake.wait_for("/api/chat.postEphemeral", timeout=60, where=lambda c: c.body.get("user") == "UTRIAGE1")
    assert "billing" in answer.body["text"] and answer.body["thread_ts"] == ts
    [menu] = [e for block in answer.body["blocks"] if block["type"] == "actions" for e in block["elements"]]
    offered = [option["text"]["text"] for option in menu["options"]]
    assert menu["type"] == "static_select" and offered[0] == "security"  # the model's next guess first
    assert sorted(offered) == sorted(set(TEAMS) - {"billing"})

    before = served.store.examples("triage")
    option = next(o for o in menu["options"] if o["text"]["text"] == "outage")
    assert pick(served, fake, menu, option, user="UTRIAGE2", name="triage-pick") == 200
    [thanks] = fake.wait_for("/response/triage-pick")
    assert "Noted as *outage*" in thanks.body["text"]
    assert served.store.examples("triage") == [*before, {"text": "The invoice for March is wrong", "label": "outage"}]

    forged = {**option, "value": option["value"].rsplit(":", 1)[0] + ":root-cause"}  # a label it never offered
    assert pick(served, fake, menu, forged, user="UTRIAGE3", name="triage-forged") == 200
    time.sleep(1.0)
    assert fake.calls_to("/response/triage-forged") == [] and served.store.examples("triage")[-1]["label"] == "outage"


def test_a_set_of_labels_is_corrected_in_one_menu_and_exported_as_labels(served, module_fake_slack):
    fake = module_fake_slack
    slash(served, fake, "/tags", "The API reference lacks the rate limits", name="tags", user="UTAGS001")
    [answer] = fake.wait_for("/response/tags")
    [menu] = [e for block in answer.body["blocks"] if block["type"] == "actions" for e in block["elements"]]
    assert menu["type"] == "multi_static_select" and [o["value"] for o in menu["initial_options"]] == ["api", "docs"]

    def choose(values: list[str], name: str) -> None:
        assert interaction(served, {
            "type": "block_actions", "trigger_id": "1.2.z", "token": "unused", "api_app_id": "A0001",
            "team": {"id": "T0001"}, "user": {"id": "UTAGS002"}, "channel": {"id": "C0GENERAL"},
            "container": {"type": "message"}, "response_url": fake.response_url(name),
            "actions": [{"type": "multi_static_select", "action_id": menu["action_id"], "block_id": "feedback",
                         "selected_options": [o for o in menu["options"] if o["value"] in values]
                         + [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values
                            if v not in {o["value"] for o in menu["options"]}], "action_ts": "1.4"}]}) == 200

    choose(["api", "pricing"], "tags-chosen")
    assert "Noted as *api*, *pricing*" in fake.wait_for("/response/tags-chosen")[0].body["text"]
    assert served.store.examples("tags", TOPICS)[-1] == {"text": "The API reference lacks the rate limits",
                                                         "labels": ["api", "pricing"]}
    choose(["api", "security"], "tags-forged")  # a label the plugin never offered: nothing is stored
    choose([], "tags-none")
    assert "no label at all" in fake.wait_for("/response/tags-none")[0].body["text"]
    assert fake.calls_to("/response/tags-forged") == []
    assert served.store.examples("tags", TOPICS)[-1]["labels"] == []  # the latest correction wins


def test_a_bare_command_opens_its_form_and_the_submission_runs_it_with_the_files(served, module_fake_slack):
    fake = module_fake_slack
    body = slash_command_body("/triage", "", user_id="UTRIAGE4", channel_id="C0GENERAL",
                              response_url=fake.response_url("triage-form"), trigger_id=fake.trigger_id())
    assert post(served.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))[0] == 200
    fake.wait_for("/api/views.open")
    view = fake.views[-1]
    [select] = [b["element"] for b in view["blocks"] if b["element"]["type"] == "static_select"]
    assert select["initial_option"]["value"] == "mobile" and view["title"]["text"] == "Triage files"
    url = fake.share_file("F0TRIAGE", b"crash log", content_type="text/plain", token=BOT_TOKEN)
    shared = {"id": "F0TRIAGE", "name": "crash.log", "mimetype": "text/plain", "size": 9, "url_private_download": url}
    chosen = {"text": {"type": "plain_text", "text": "web"}, "value": "web"}
    view["state"] = {"values": {"team": {"team": {"type": "static_select", "selected_option": chosen}},
                                "files": {"files": {"type": "file_input", "files": [shared]}}}}
    assert submit_view(served, view, user="UTRIAGE4") == 200
    wait_until(lambda: any(m["text"] == "1 file(s) files for web" for m in fake.posts("DTRIAGE4")))
    assert fake.calls_to("/response/triage-form") == []  # the form was the answer to the command

    view["state"]["values"]["team"]["team"]["selected_option"] = {"text": {"type": "plain_text", "text": "x"},
                                                                  "value": "everyone"}
    assert submit_view(served, view, user="UTRIAGE4") == 200  # a choice the form never offered runs nothing
    wait_until(lambda: any("not one of the choices" in m["text"] for m in fake.posts("DTRIAGE4")))


def test_its_subcommands_parse_their_flags_and_have_help_of_their_own(served, module_fake_slack):
    fake = module_fake_slack
    slash(served, fake, "/triage", "help explain", name="triage-help", user="UTRIAGE5")
    [help_] = fake.wait_for("/response/triage-help")
    assert "What a label means." in help_.body["text"] and "--examples N" in help_.body["text"]
    slash(served, fake, "/triage", "explain bug \u2014examples 3 --verbose", name="triage-explain", user="UTRIAGE5")
    [explained] = fake.wait_for("/response/triage-explain")
    assert explained.body["text"] == "bug: 3 example(s) (verbose)"  # Slack's em dash for a typed "--" works too
    slash(served, fake, "/triage", "explain bug --examples many", name="triage-bad", user="UTRIAGE5")
    [refused] = fake.wait_for("/response/triage-bad")
    assert "--examples needs a whole number, not 'many'" in refused.body["text"]


def test_its_command_and_shortcut_are_in_the_manifest(served):
    from bot.adapters.slack.manifest import manifest

    bot = Nlpbot(load_config(served.config_path), extra_plugins={"triage": Triage})
    written = manifest(bot)
    [entry] = [c for c in written["features"]["slash_commands"] if c["command"] == "/triage"]
    assert entry["description"] == "Route a request to the team that should handle it."
    assert entry["usage_hint"] == "TEXT | explain LABEL"
    assert {"callback_id": "triage_message", "name": "Triage", "type": "message",
            "description": "Which team handles this message?"} in written["features"]["shortcuts"]
