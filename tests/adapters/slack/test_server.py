"""Stopping and health: SIGTERM drains work in flight (uvicorn), Socket Mode's health port answers."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.bots import BOT_TOKEN, SIGNING_SECRET, BotServer, TestBot, sentiment_config, write_config
from tests.support.signing import signed_headers, slash_command_body
from tests.support.slackhttp import FORM, post, slash


class SlowReceiver:
    """A response_url that takes `delay` seconds to accept each reply, so the bot's answer is still in flight."""

    def __init__(self, delay: float) -> None:
        self.received: list[dict] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                receiver.arrived.set()
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a reply still sleeping here must not hold up the test run's exit
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_sigterm_refuses_new_work_answers_what_is_in_flight_and_exits_0_within_the_drain_timeout(
        tmp_path, tiny_sentiment, fake_slack):
    config = write_config(tmp_path, sentiment_config(tiny_sentiment).replace("[bot]", "[bot]\ndrain_timeout_s = 6"))
    server = BotServer(config, fake_slack)
    slow, stuck = SlowReceiver(delay=2.0), SlowReceiver(delay=60.0)  # one answer takes 2 s, one longer than the drain
    try:
        for user, receiver in (("UDRAIN01", slow), ("UDRAIN02", stuck)):
            body = slash_command_body("/sentiment", f"finish me before you go {user}", user_id=user,
                                      channel_id="C0GENERAL", response_url=receiver.url)
            status, _, _ = post(server.url, body, signed_headers(SIGNING_SECRET, body, content_type=FORM))
            assert status == 200
        assert slow.arrived.wait(30) and stuck.arrived.wait(30)  # both answers are being delivered, slowly
        server.process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        time.sleep(0.5)
        status, _, _ = slash(server, fake_slack, "/sentiment", "too late", name="after-sigterm", user="UDRAIN03")
        assert status == 503
        assert post_get(server.base + "/healthz")[0] == 503  # a load balancer stops sending work here
        assert server.process.poll() is None  # still delivering
        assert server.process.wait(timeout=30) == 0
        assert 5.5 < time.monotonic() - stopped < 6 + 5  # waited for the drain timeout, not for the stuck answer
        assert "finish me before you go UDRAIN01" in slow.received[0]["text"]
        assert fake_slack.calls_to("/response/after-sigterm") == []
        log = server.log.read_text()
        assert "drain timeout: 1 request(s) still running are dropped" in log
        assert "could not deliver" not in log  # the 2 s answer went through
    finally:
        server.stop()
        for receiver in (slow, stuck):
            receiver.server.shutdown()


def post_get(url: str) -> tuple[int, str, float]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(), 0.0
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), 0.0


def test_socket_modes_health_port_answers_healthz_and_metrics(tmp_path, tiny_sentiment, fake_slack):
    from bot.adapters.slack.app import SlackAdapter
    from bot.adapters.slack.http import serve_health

    bot = TestBot(write_config(tmp_path, sentiment_config(tiny_sentiment))).bot
    adapter = SlackAdapter(bot, token=BOT_TOKEN, api_url=fake_slack.api_url, socket_mode=True)
    bound = {}
    server = serve_health(adapter, host="127.0.0.1", port=0, ready=lambda port: bound.setdefault("port", port))
    try:
        base = f"http://127.0.0.1:{bound['port']}"
        deadline = time.monotonic() + 10
        while True:
            try:
                status, text, _ = post_get(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert status == 200 and json.loads(text)["plugins"] == sorted(bot.plugins)
        status, text, _ = post_get(base + "/metrics")
        assert status == 200 and "nlpbot_queue_depth" in text
        assert post_get(base + "/slack/events")[0] == 404  # events come over the socket, never this port
    finally:
        server.should_exit = True
        adapter.close()
