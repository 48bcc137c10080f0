"""A local fake of Slack's Web API and of response_url endpoints, recording every call it gets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

BOT_USER_ID = "UBOT0001"


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """Answers Web API methods under /api/ and records posts to /response/*; can answer 429 or 5xx on purpose."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.history: dict[str, list[dict]] = {}
        self.replies: dict[tuple[str, str], list[dict]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (content, content type), served under /files/
        self.file_token = ""  # the bearer token a file download must carry
        self.oauth_codes: dict[str, dict[str, Any]] = {}  # an OAuth code -> what oauth.v2.access grants for it
        self._failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._lock = threading.Lock()
        self._ts = 1700000000
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def share_file(self, name: str, content: bytes, *, content_type: str = "application/octet-stream",
                   token: str) -> str:
        """Serve `content` as Slack serves url_private_download (only with `Authorization: Bearer token`)."""
        self.files[name], self.file_token = (content, content_type), token
        return f"{self.url}/files/{name}"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path: str, *, status: int = 429, times: int = 1, retry_after: int | None = 1) -> None:
        """The next `times` calls to `path` get `status` (429 carries Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.setdefault(path, []).extend([(status, headers)] * times)

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.path == path]

    def wait_for(self, path: str, *, count: int = 1, timeout: float = 30.0, where: Callable[[Call], bool] | None = None) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls_to(path) if where is None or where(c)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {path} within {timeout}s, got {len(self.calls_to(path))}")

    def _answer(self, call: Call) -> dict[str, Any]:
        method = call.path.removeprefix("/api/")
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": "B0001", "team_id": "T0001", "user": "nlpbot",
                    "url": "https://example.slack.com/"}
        if method == "chat.postMessage":
            with self._lock:
                self._ts += 1
                return {"ok": True, "channel": call.body.get("channel"), "ts": f"{self._ts}.000100"}
        if method == "oauth.v2.access":  # a code is good once, as Slack's are
            grant = self.oauth_codes.pop(call.body.get("code", ""), None)
            return {"ok": True, **grant} if grant else {"ok": False, "error": "invalid_code"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{self._ts}.000900"}
        if method == "conversations.history":
            return {"ok": True, "messages": self.history.get(call.body.get("channel"), []), "has_more": False}
        if method == "conversations.replies":
            key = (call.body.get("channel"), call.body.get("ts"))
            return {"ok": True, "messages": self.replies.get(key, []), "has_more": False}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1"}}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F0UPLOAD1", "file_id": "F0UPLOAD1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F0UPLOAD1", "title": call.body.get("files")}]}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                raw = data.decode("utf-8", errors="replace")
                content_type = self.headers.get("Content-Type", "")
                if self.path.startswith("/upload/"):
                    body = {"bytes": data}
                elif "json" in content_type:
                    body = json.loads(raw or "{}")
                else:
                    body = {key: values[0] for key, values in parse_qs(raw).items()}
                    for key in ("blocks", "attachments"):
                        if isinstance(body.get(key), str):
                            body[key] = json.loads(body[key])
                path = urlsplit(self.path).path
                call = Call("POST", path, dict(self.headers.items()), body)
                with fake._lock:
                    fake.calls.append(call)
                    failures = fake._failures.get(path)
                    failure = failures.pop(0) if failures else None
                if failure:
                    status, headers = failure
                    self._send(status, {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}, headers)
                elif path.startswith(("/response/", "/upload/")):
                    self._send(200, None)
                else:
                    self._send(200, fake._answer(call))

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                with fake._lock:
                    fake.calls.append(Call("GET", path, dict(self.headers.items()), {}))
                found = fake.files.get(path.removeprefix("/files/")) if path.startswith("/files/") else None
                if found is None:
                    self._send(404, {"ok": False, "error": "file_not_found"})
                elif self.headers.get("Authorization") != f"Bearer {fake.file_token}":
                    self._send(403, {"ok": False, "error": "not_authed"})
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", found[1])
                    self.send_header("Content-Length", str(len(found[0])))
                    self.end_headers()
                    self.wfile.write(found[0])

            def _send(self, status: int, payload: dict | None, headers: dict[str, str] | None = None) -> None:
                data = b"ok" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if payload is None else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
