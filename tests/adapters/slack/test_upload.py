"""Files the bot shares in Slack (training plots) go through files_upload_v2 into the asker's channel and thread."""

from __future__ import annotations

from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.reply import SlackResponder
from bot.reply import Reply
from tests.support.bots import BOT_TOKEN, SIGNING_SECRET


def test_progress_and_a_plot_reach_the_thread(testbot, fake_slack, tmp_path):
    fake_slack.add_channel("C0ADMINS", "admins", members=["UADMIN01"])
    adapter = SlackAdapter(testbot.bot, token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake_slack.api_url)
    try:
        request = testbot.bot.router.parse("nlp-admin models", source="mention", user_id="UADMIN01",
                                            channel_id="C0ADMINS", thread_ts="1700000700.000100")
        responder = SlackResponder(adapter.client, request)
        plot = tmp_path / "training.png"
        plot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))

        responder.send(Reply(text="epoch 1, eval macro_f1 0.61"))
        responder.upload(str(plot), title="sentiment v0004: loss and metric per epoch")

        [progress] = fake_slack.wait_for("/api/chat.postMessage")  # the live message, in the thread
        assert progress.body["thread_ts"] == "1700000700.000100" and "macro_f1 0.61" in progress.body["text"]
        [uploaded] = fake_slack.wait_for("/upload/F0UPLOAD1")
        assert plot.read_bytes() in uploaded.body["bytes"]
        [completed] = fake_slack.wait_for("/api/files.completeUploadExternal")
        assert completed.body["channel_id"] == "C0ADMINS"
        assert completed.body["thread_ts"] == "1700000700.000100"
        assert "sentiment v0004" in str(completed.body["files"])
    finally:
        adapter.close()
