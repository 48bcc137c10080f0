"""The ASGI app uvicorn serves: Slack's requests into bolt, OAuth pages, /healthz, /metrics, 503 while draining."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot import health as process
from bot.health import Health, plugin_source

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything larger before reading it
TEXT = "text/plain; charset=utf-8"


class SlackASGI:
    """Routes one server's requests; `app=None` serves only /healthz and /metrics (Socket Mode's health port).

    bolt's dispatch is synchronous (signature check, authorize, ack): it runs on a small thread pool so the
    event loop keeps accepting while a burst of 200 commands is verified and enqueued.
    """

    def __init__(self, *, app: App | None, events_path: str, plugins: list[str], pending: Callable[[], int],
                 health: Health | None = None) -> None:
        self.app, self.events_path, self.plugins, self.pending = app, events_path, plugins, pending
        self.health = health or Health()  # problems several parts file: a plugin without its model, Redis, ...
        self.started = time.time()
        self.draining = False
        self._active = 0
        self._lock = threading.Lock()
        self._dispatcher = ThreadPoolExecutor(max_workers=32, thread_name_prefix="nlpbot-dispatch")

    @property
    def active(self) -> int:
        """Slack requests being verified and acked right now."""
        return self._active

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":  # startup (answered), then shutdown
                await send({"type": "lifespan.startup.complete"})
            self._dispatcher.shutdown(wait=False)
            await send({"type": "lifespan.shutdown.complete"})
            return
        method, path = scope["method"], scope["path"]
        if method == "GET" and path == "/healthz":
            await self._health(send)
        elif method == "GET" and path == "/metrics":
            await _send(send, 200, generate_latest(), CONTENT_TYPE_LATEST)
        elif self.app is not None and (method, path) in self._slack_routes():
            await self._slack(scope, receive, send, path)
        else:
            await _send(send, 404, b"not found", TEXT)

    def _slack_routes(self) -> set[tuple[str, str]]:
        routes = {("POST", self.events_path)}
        if self.app.oauth_flow is not None:
            routes |= {("GET", self.app.oauth_flow.install_path), ("GET", self.app.oauth_flow.redirect_uri_path)}
        return routes

    async def _health(self, send: Callable) -> None:
        """{"status": "ok" | "degraded" | "draining", "plugins": the ones that serve, "problems": [{"source", "detail",
        "since", "for_s"}], "uptime_s", "in_flight"}; degraded still answers 200: the bot serves, not everything.
        The problems are the process's (Redis) and this bot's (a plugin without its model)."""
        problems = [problem.to_dict() for problem in sorted(
            {*process.problems(), *self.health.problems()}, key=lambda problem: (problem.since, problem.source))]
        status = "draining" if self.draining else "degraded" if problems else "ok"
        report = {"status": status, "problems": problems,
                  "plugins": [name for name in self.plugins if self.health.problem(plugin_source(name)) is None],
                  "uptime_s": round(time.time() - self.started, 1), "in_flight": self.pending()}
        # 503 while draining tells a load balancer to send new work to another replica; degraded still answers
        await _send(send, 503 if self.draining else 200, json.dumps(report).encode(), "application/json")

    async def _slack(self, scope: dict, receive: Callable, send: Callable, path: str) -> None:
        if self.draining:
            await _send(send, 503, b"shutting down", TEXT, [(b"retry-after", b"5")])
            return
        headers: dict[str, list[str]] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        if int((headers.get("content-length") or ["0"])[0] or 0) > MAX_BODY:
            await _send(send, 413, b"payload too large", TEXT)
            return
        body = await _read_body(receive)
        if body is None:
            await _send(send, 413, b"payload too large", TEXT)
            return
        try:
            request = BoltRequest(body=body.decode("utf-8", errors="replace"),
                                  query=scope.get("query_string", b"").decode("latin-1"), headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError):  # bolt parses the body before verifying it:
            # JSON that is not JSON, or fields of the wrong type ("channel": true), raise here
            await _send(send, 400, b"malformed payload", TEXT)
            return
        with self._lock:
            self._active += 1
        try:
            response = await asyncio.get_running_loop().run_in_executor(self._dispatcher, self._route, path, request)
        finally:
            with self._lock:
                self._active -= 1
        if response.status == 401:  # bolt logs the refused body only at DEBUG (bot.adapters.slack.app.bolt_logger)
            log.info("refused a request to %s: its Slack signature or timestamp is missing, wrong or too old", path)
        content_type = (response.headers.get("content-type") or [TEXT])[0]
        extra = [(key.encode(), value.encode()) for key, values in response.headers.items()
                 if key.lower() not in ("content-type", "content-length") for value in values]
        await _send(send, response.status, (response.body or "").encode("utf-8"), content_type, extra)

    def _route(self, path: str, request: BoltRequest) -> BoltResponse:
        flow = self.app.oauth_flow
        if flow is not None and path == flow.install_path:
            return flow.handle_installation(request)
        if flow is not None and path == flow.redirect_uri_path:
            return flow.handle_callback(request)
        try:
            return contextvars.copy_context().run(self.app.dispatch, request)  # a request's team token stays its own
        except Exception as exc:  # noqa: BLE001 - bolt itself failed on the payload's shape ("actions": null):
            # a signed request it cannot read is the sender's error (400), never the server's (500)
            log.warning("a signed payload could not be handled: %s: %s", type(exc).__name__, exc)
            return BoltResponse(status=400, body="malformed payload")


async def _read_body(receive: Callable) -> bytes | None:
    """The whole body, or None as soon as it grows past MAX_BODY (a chunked upload has no Content-Length)."""
    chunks, size = [], 0
    while True:
        message: dict[str, Any] = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Callable, status: int, body: bytes, content_type: str,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
