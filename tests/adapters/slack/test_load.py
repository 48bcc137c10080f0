"""Many people at once: every accepted command acked in time and answered exactly once; a full queue says busy."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.config import load_config
from bot.core import Nlpbot
from bot.plugin import Plugin, Reply, command
from tests.support.bots import BOT_TOKEN, SIGNING_SECRET, sentiment_config
from tests.support.slackhttp import slash


def test_200_concurrent_slash_commands_are_all_acked_in_time_and_answered_once(http_bot, module_fake_slack):
    def fire(i):
        return slash(http_bot, module_fake_slack, "/sentiment", f"load test message number {i}", name=f"load-{i}",
                     user=f"ULOAD{i:04d}")

    with ThreadPoolExecutor(max_workers=200) as pool:
        outcomes = list(pool.map(fire, range(200)))
    assert [status for status, _, _ in outcomes] == [200] * 200
    assert not [body for _, body, _ in outcomes if "busy" in body]  # 200 fit in the default queue
    assert max(seconds for _, _, seconds in outcomes) < 3.0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answered = {c.path for c in module_fake_slack.calls if c.path.startswith("/response/load-")}
        if len(answered) == 200:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    calls = [c.path for c in module_fake_slack.calls if c.path.startswith("/response/load-")]
    assert sorted(calls) == sorted(f"/response/load-{i}" for i in range(200))  # each exactly once


def test_a_double_submit_is_answered_once(http_bot, module_fake_slack):
    for _ in range(2):
        status, _, _ = slash(http_bot, module_fake_slack, "/sentiment", "clicked twice by accident", name="twice",
                             user="UTWICE01")
        assert status == 200
    module_fake_slack.wait_for("/response/twice")
    time.sleep(1.0)
    assert len(module_fake_slack.calls_to("/response/twice")) == 1


class Gate(Plugin):
    """A plugin whose command waits until the test opens the gate: the queue fills deterministically."""

    name = "gate"
    description = "waits"
    opened = threading.Event()

    @command(usage="/wait TEXT")
    def wait(self, request):
        """Wait for the gate."""
        self.opened.wait(timeout=30)
        return Reply(text=f"done {request.text}")


def test_a_full_queue_tells_the_user_the_bot_is_busy(tmp_path, tiny_sentiment, fake_slack):
    from bot.adapters.slack.app import BUSY, SlackAdapter
    from bot.adapters.slack.http import serve_http

    config_path = tmp_path / "config.toml"
    config_path.write_text(sentiment_config(tiny_sentiment).replace("[bot]", "[bot]\nworkers = 1\nqueue_size = 1"))
    bot = Nlpbot(load_config(config_path), extra_plugins={"gate": Gate})
    adapter = SlackAdapter(bot, token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake_slack.api_url)
    ready = threading.Event()
    bound = {}

    def on_ready(port):
        bound["port"] = port
        ready.set()

    threading.Thread(target=serve_http, kwargs=dict(adapter=adapter, host="127.0.0.1", port=0, path="/slack/events",
                                                    ready=on_ready), daemon=True).start()
    assert ready.wait(10)

    class Server:
        url = f"http://127.0.0.1:{bound['port']}/slack/events"

    try:
        answers = [slash(Server, fake_slack, "/wait", f"job {i}", name=f"gate-{i}", user=f"UGATE{i:03d}")
                   for i in range(3)]
        assert [status for status, _, _ in answers] == [200, 200, 200]
        assert BUSY in answers[2][1]  # the third is told at once, in the ack itself
        assert BUSY not in answers[0][1] and BUSY not in answers[1][1]
        Gate.opened.set()
        first, second = fake_slack.wait_for("/response/gate-0")[0], fake_slack.wait_for("/response/gate-1")[0]
        assert "done job 0" in first.body["text"] and "done job 1" in second.body["text"]
        assert fake_slack.calls_to("/response/gate-2") == []
    finally:
        Gate.opened.set()
        adapter.close()
