"""uvicorn serving the ASGI app; SIGTERM drains: new work gets 503, work in flight is answered, then exit."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from typing import Callable

import uvicorn

from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.asgi import SlackASGI
from bot.errors import NlpbotError

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose SIGTERM (or first Ctrl-C) drains before it stops; a second Ctrl-C stops at once."""

    def __init__(self, app: SlackASGI, *, wait_idle: Callable[[float], bool], drain_timeout_s: float) -> None:
        # log_config=None keeps our logging (and its secret-free format); uvicorn's access log would repeat every request
        super().__init__(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_keep_alive=30))
        self.asgi, self.wait_idle, self.drain_timeout_s = app, wait_idle, drain_timeout_s

    def handle_exit(self, sig: int, frame) -> None:  # noqa: ARG002 - signal handler signature
        if self.asgi.draining:
            if sig == signal.SIGINT:
                self.force_exit = self.should_exit = True
            return
        self.asgi.draining = True
        threading.Thread(target=self.drain, name="nlpbot-drain", daemon=True).start()

    def drain(self) -> None:
        log.info("stopping: new requests get 503; waiting up to %.0f s for the work in flight",
                 self.drain_timeout_s)
        deadline = time.monotonic() + self.drain_timeout_s
        while self.asgi.active and time.monotonic() < deadline:  # requests being acked enqueue their work first
            time.sleep(0.02)
        if self.wait_idle(max(0.0, deadline - time.monotonic())):
            log.info("all work in flight answered")
        else:
            log.warning("drain timeout: %d request(s) still running are dropped", self.asgi.pending())
        self.should_exit = True


def listen(host: str, port: int) -> socket.socket:
    """Bind before serving, so port 0 is known to the caller and early connections wait in the backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NlpbotError(f"cannot listen on {host}:{port} ({exc.strerror}): another program holds the port, or the "
                          "host is not this machine's; choose another with --port / --host ([slack] port, host)") from None
    sock.listen(2048)  # Slack sends bursts; a small backlog resets connections
    sock.set_inheritable(True)
    return sock


def serve(app: SlackASGI, *, host: str, port: int, wait_idle: Callable[[float], bool], drain_timeout_s: float,
          ready: Callable[[int], None] | None = None) -> DrainingServer:
    """Serve until SIGTERM/SIGINT (in the main thread) or `server.should_exit`; returns the stopped server."""
    sock = listen(host, port)
    server = DrainingServer(app, wait_idle=wait_idle, drain_timeout_s=drain_timeout_s)
    if ready:
        ready(sock.getsockname()[1])
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return server


def serve_http(adapter: SlackAdapter, *, host: str, port: int, path: str,
               ready: Callable[[int], None] | None = None) -> None:
    """Slack over HTTP until stopped; `ready(port)` is called once the socket listens (port 0 picks a free one)."""
    app = SlackASGI(app=adapter.app, events_path=path, plugins=sorted(adapter.bot.plugins),
                    pending=lambda: adapter.pool.pending, health=adapter.bot.health)
    log.info("serving Slack with uvicorn on http://%s:%d%s", host, port, path)
    try:
        serve(app, host=host, port=port, wait_idle=adapter.pool.wait_idle,
              drain_timeout_s=adapter.bot.config.bot.drain_timeout_s, ready=ready)
    finally:
        adapter.close()


def serve_health(adapter: SlackAdapter, *, host: str, port: int,
                 ready: Callable[[int], None] | None = None) -> DrainingServer:
    """Socket Mode's /healthz and /metrics in a background thread; the returned server stops with should_exit."""
    app = SlackASGI(app=None, events_path="", plugins=sorted(adapter.bot.plugins), pending=lambda: adapter.pool.pending,
                    health=adapter.bot.health)
    sock = listen(host, port)
    server = DrainingServer(app, wait_idle=adapter.pool.wait_idle, drain_timeout_s=0)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="nlpbot-health", daemon=True).start()
    if ready:
        ready(sock.getsockname()[1])
    return server
