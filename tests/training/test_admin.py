"""Admins retrain, list and roll back models from Slack; the bot swaps models without a restart."""

from __future__ import annotations

import time

import pytest

from bot.adapters.slack.files import FileDownloader, shared_files
from bot.config import load_config
from bot.core import Nlpbot
from bot.request import CollectingResponder
from tests.support.bots import BOT_TOKEN


def admin_bot(tmp_path, tiny_base, sentiment_files):
    train, evaluation = sentiment_files
    path = tmp_path / "config.toml"
    path.write_text(f"""
[bot]
admins = ["UADMIN01"]
[models]
models_dir = "models"
[plugins.sentiment]
model = "trained:sentiment"
[plugins.admin]
progress_every_s = 0
[training]
epochs = 2
batch_size = 16
max_length = 32
lr = 0.01
[training.sentiment]
data = "{train}"
eval_data = "{evaluation}"
base = "{tiny_base}"
""")
    return Nlpbot(load_config(path))


def test_an_admin_trains_from_slack_and_the_bot_serves_the_new_model(tmp_path, tiny_base, sentiment_files):
    bot = admin_bot(tmp_path, tiny_base, sentiment_files)
    before = bot.ask("/sentiment the table was great on paper")
    assert before.is_error and "nlpbot train sentiment" in before.text  # nothing trained yet

    responder = CollectingResponder()
    reply = bot.ask("/nlp-admin train sentiment", user_id="UADMIN01", responder=responder)
    assert not reply.is_error, reply.text
    assert reply.data["promoted"] is True
    assert "now serves" in reply.text
    assert "peak memory" in reply.text and "s/step" in reply.text  # what the run cost, in the report
    assert "Training *sentiment* in its own process" in responder.sent[0].text
    assert any("epoch" in sent.text.lower() for sent in responder.sent[1:])  # progress while it trained
    assert responder.uploads and responder.uploads[0][0].endswith("training.png")

    after = bot.ask("/sentiment the table was great on paper")
    assert not after.is_error and after.data["label"] in {"negative", "neutral", "positive"}
    listing = bot.ask("/nlp-admin models sentiment", user_id="UADMIN01")
    assert reply.data["version"] in listing.text and ":white_check_mark:" in listing.text

    forced = bot.ask("/nlp-admin train sentiment --epochs 1 --force", user_id="UADMIN01")
    assert forced.data["promoted"] is True
    handle = bot.plugins["sentiment"].model("pipeline", task="text-classification")
    assert handle.info["version"] == forced.data["version"]

    rolled = bot.ask("/nlp-admin rollback sentiment", user_id="UADMIN01")
    assert rolled.data["serving"] == reply.data["version"]
    assert handle.info["version"] == reply.data["version"]  # swapped back without a restart


def test_training_data_that_is_wrong_changes_nothing(tmp_path, tiny_base, sentiment_files):
    bot = admin_bot(tmp_path, tiny_base, sentiment_files)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "positive"}\n{"text": "meh", "label": "so-so"}\n')
    (tmp_path / "config.toml").write_text((tmp_path / "config.toml").read_text().replace(str(sentiment_files[0]), str(bad)))
    bot = Nlpbot(load_config(tmp_path / "config.toml"))
    reply = bot.ask("/nlp-admin train sentiment", user_id="UADMIN01")
    assert reply.is_error
    assert "nothing that serves changed" in reply.text and "so-so" in reply.text
    assert not list((tmp_path / "models" / "sentiment").glob("v*"))
    assert bot.ask("/nlp-admin train sentiment", user_id="UNOBODY1").is_error


def test_training_data_shared_in_slack_is_fetched_and_checked_before_training(tmp_path, tiny_base, sentiment_files,
                                                                               fake_slack):
    bot = admin_bot(tmp_path, tiny_base, sentiment_files)
    bad = b'{"text": "fine", "label": "positive"}\n{"text": "meh", "label": "so-so"}\n'
    url = fake_slack.share_file("F0DATA", bad, content_type="application/json", token=BOT_TOKEN)
    event_files = [{"id": "F0DATA", "name": "new data.jsonl", "mimetype": "application/json", "size": len(bad),
                    "url_private_download": url}]

    reply = bot.ask("/nlp-admin train sentiment", user_id="UADMIN01",
                    files=shared_files(event_files, FileDownloader(BOT_TOKEN)))
    assert reply.is_error and "so-so" in reply.text and "nothing that serves changed" in reply.text
    assert fake_slack.calls_to("/files/F0DATA")[-1].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    with fake_slack.expect("not_authed", on="/files/F0DATA"):
        refused = bot.ask("/nlp-admin train sentiment", user_id="UADMIN01",
                          files=shared_files(event_files, FileDownloader("xoxb-wrong")))
    assert refused.is_error and "HTTP 403" in refused.text
    assert not list((tmp_path / "models" / "sentiment").glob("v*"))


@pytest.fixture(scope="module")
def slack_admin(tmp_path_factory, tiny_base, sentiment_files):
    """`nlpbot run --adapter http` set up for training, and a fake Slack whose response_urls expire after 1 s."""
    from tests.support.bots import BotServer
    from tests.support.fakeslack import FakeSlack

    folder = tmp_path_factory.mktemp("slack-admin")
    fake = FakeSlack(response_url_lifetime_s=1.0).start()  # Slack's is 30 min; a real run lasts longer than that
    admin_bot(folder, tiny_base, sentiment_files)  # writes config.toml
    server = BotServer(folder / "config.toml", fake)
    yield server, fake
    server.stop()
    fake.stop()
    fake.check()


def test_a_run_that_outlives_the_response_url_still_reports_its_metrics_in_a_dm(slack_admin):
    from tests.support.slackhttp import slash, wait_until

    server, fake = slack_admin
    earlier = len(fake.posts("DADMIN01"))  # the other test on this server may have answered in this DM already
    started = time.monotonic()
    slash(server, fake, "/nlp-admin", "train sentiment --epochs 1", name="train", user="UADMIN01")
    wait_until(lambda: any("now serves" in m["text"] for m in fake.posts("DADMIN01")), timeout=180)
    assert time.monotonic() - started > fake.response_url_lifetime_s  # the report came after the url expired
    [report] = fake.posts("DADMIN01")[earlier:]  # one message, kept current: start, progress, then the report
    assert report["updates"] >= 2 and "macro_f1" in report["text"]
    [note] = fake.calls_to("/response/train")  # the response_url only said where the report would be
    assert "keep you posted in our DM" in note.body["text"]
    [plot] = fake.wait_for("/api/files.completeUploadExternal")
    assert plot.body["channel_id"] == "DADMIN01" and plot.body["thread_ts"] == report["ts"]


BAD_DATA = b'{"text": "fine", "label": "positive"}\n{"text": "meh", "label": "so-so"}\n'


def test_training_data_shared_in_a_dm_or_through_the_form_is_checked_and_answered(slack_admin):
    from tests.support.bots import BOT_TOKEN, SIGNING_SECRET
    from tests.support.signing import event_body, signed_headers, slash_command_body
    from tests.support.slackhttp import FORM, post, submit_view, wait_until

    server, fake = slack_admin
    url = fake.share_file("F0BAD", BAD_DATA, content_type="application/json", token=BOT_TOKEN)
    shared = {"id": "F0BAD", "name": "labels.jsonl", "mimetype": "application/json", "size": len(BAD_DATA),
              "url_private_download": url}
    event = {"type": "message", "subtype": "file_share", "channel_type": "im", "user": "UADMIN01",
             "text": "nlp-admin train sentiment", "ts": "1700002000.000100", "channel": "D0TRAIN1",
             "event_ts": "1700002000.000100", "files": [shared]}
    body = event_body(event, event_id="Ev0DMTRAIN")
    assert post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))[0] == 200
    wait_until(lambda: any("so-so" in m["text"] for m in fake.posts("D0TRAIN1")))

    body = slash_command_body("/nlp-admin", "train", user_id="UADMIN01", channel_id="C0GENERAL",
                              response_url=fake.response_url("train-form"), trigger_id=fake.trigger_id())
    assert post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))[0] == 200
    fake.wait_for("/api/views.open")
    view = fake.views[-1]
    [select] = [b["element"] for b in view["blocks"] if b["element"]["type"] == "static_select"]
    [chosen] = [option for option in select["options"] if option["value"] == "sentiment"]
    view["state"] = {"values": {"plugin": {"plugin": {"type": "static_select", "selected_option": chosen}},
                                "files": {"files": {"type": "file_input", "files": [shared]}}}}
    assert submit_view(server, view, user="UADMIN01") == 200
    wait_until(lambda: any("so-so" in m["text"] and "nothing that serves changed" in m["text"]
                           for m in fake.posts("DADMIN01")))
    assert fake.calls_to("/response/train-form") == []
