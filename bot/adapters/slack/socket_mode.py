"""Socket Mode with a health port (/healthz, /metrics); SIGTERM closes the socket, answers what is in flight, exits."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.http import serve_health

log = logging.getLogger(__name__)


def serve_socket_mode(adapter: SlackAdapter, *, app_token: str, host: str, health_port: int,
                      ready: Callable[[int], None] | None = None, url: str | None = None) -> None:
    """Connect to Slack and serve until SIGTERM/SIGINT; the health port answers from before the connection.

    `url`: a connection URL issued moments ago (bot.adapters.slack.startup.socket_url, which checked the app token);
    without one the handler asks for its own."""
    stop = threading.Event()
    handler = SocketModeHandler(adapter.app, app_token)
    handler.client.wss_uri = url
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    health = serve_health(adapter, host=host, port=health_port, ready=ready)
    try:
        handler.connect()
        stop.wait()
        health.asgi.draining = True
        handler.close()  # Slack delivers new events to another connection (or retries them later)
        drain = adapter.bot.config.bot.drain_timeout_s
        log.info("stopping: waiting up to %.0f s for the work in flight", drain)
        if not adapter.pool.wait_idle(drain):
            log.warning("drain timeout: %d request(s) still running are dropped", adapter.pool.pending)
    finally:
        health.should_exit = True
        time.sleep(0.2)  # let the health server's loop see it before the process ends
        adapter.close()
