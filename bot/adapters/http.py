"""The HTTP server: POST /slack/events into bolt, GET /healthz, GET /metrics (Prometheus)."""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.request import BoltRequest

from bot.adapters.slack import SlackAdapter

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything larger before reading it


def make_handler(adapter: SlackAdapter, *, events_path: str) -> type[BaseHTTPRequestHandler]:
    started = time.time()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nlpbot"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            if path == "/healthz":
                body = json.dumps({"status": "ok", "plugins": sorted(adapter.bot.plugins),
                                   "uptime_s": round(time.time() - started, 1)}).encode()
                self._send(200, body, "application/json")
            elif path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            split = urlsplit(self.path)
            if split.path != events_path:
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"payload too large", "text/plain")
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            headers = {key.lower(): [value] for key, value in self.headers.items()}
            try:
                request = BoltRequest(body=body, query=split.query, headers=headers)
            except ValueError:  # bolt parses the body before verifying it: malformed JSON raises here
                self._send(400, b"malformed payload", "text/plain")
                return
            response = adapter.app.dispatch(request)
            content_type = (response.headers.get("content-type") or ["text/plain"])[0]
            self._send(response.status, (response.body or "").encode("utf-8"), content_type)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
            log.debug("http %s", format % args)

    return Handler


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 resets connections when Slack sends a burst


def serve_http(adapter: SlackAdapter, *, host: str, port: int, path: str, ready=None) -> None:
    """Serve until interrupted; `ready(port)` is called once the socket listens (port 0 picks a free one)."""
    server = SlackHTTPServer((host, port), make_handler(adapter, events_path=path))
    bound = server.server_address[1]
    log.info("listening on http://%s:%d%s", host, bound, path)
    if ready:
        ready(bound)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        adapter.close()
