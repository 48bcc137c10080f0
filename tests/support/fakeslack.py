"""A local fake of Slack's Web API and of response_url endpoints, as strict as Slack's documented rules.

Long because it is one service: Slack's methods, its refusals and the bookkeeping that turns a refusal into a
failed test live together so that a rule and its accounting cannot drift apart (Block Kit limits: blockkit.py).

Like Slack it knows workspaces and their bot tokens (`not_authed`, `invalid_auth`, `token_revoked` after `revoke`)
and the app-level token that alone opens Socket Mode (`apps.connections.open`; any other token there, or that one
elsewhere, is `not_allowed_token_type`), channels and who is in them (`not_in_channel`, `channel_not_found`,
`is_archived`, `missing_scope` with `needed`, `user_not_in_channel` for an ephemeral), pages
`conversations.members`, `.history` (with `oldest`/`latest`) and `.list`, gives permalinks (`chat.getPermalink`) and
people's timezones (`users.info` tz), accepts at most 5 posts to a response_url and only within its lifetime (404
`used_url` / `expired_url`), wants a fresh trigger_id for `views.open` (`expired_trigger_id`,
`exchanged_trigger_id`), updates only messages the bot posted (`cant_update_message`), and refuses what breaks Block
Kit's limits (`invalid_blocks`, `msg_too_long`, `invalid_arguments` for views). Any path can answer 429 with
Retry-After (`fail`); a retry sooner is a violation.

Every refusal (`ok: false`, or a non-2xx from a response_url or a file) is a violation unless the test declared
it, with `fail(...)` or `with fake.expect("not_in_channel"): ...`; the fixtures assert there are none after each
test, and `wait_for` returns only calls Slack accepted, so no test passes on a call Slack refused.

`distributed_limits()` makes it answer history as Slack does for apps outside the Marketplace since 2025 (one
call a minute per method and token, a sooner one a violation; 15 messages a page); `say`, `edit`, `delete`,
`join` (with no one named: the bot) and `leave` change a channel as people do and return the event Slack would
send (tests deliver it with tests/support/slackhttp.py's `deliver`).
"""

from __future__ import annotations

import json
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.support import blockkit

BOT_USER_ID = "UBOT0001"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"  # the default workspace's (T0001) bot token
TEAM_ID = "T0001"
APP_TOKEN = "xapp-1-A0001-17653672481-8f742231b10e8888abcd99yyyzzz"  # the app-level token (Socket Mode)
NO_TOKEN = frozenset({"oauth.v2.access"})  # the app's client id and secret authenticate it, not a token
RESPONSE_URL_POSTS = 5  # https://api.slack.com/interactivity/handling#message_responses
RESPONSE_URL_LIFETIME_S = 30 * 60
TRIGGER_LIFETIME_S = 3.0
HISTORY_METHODS = ("/api/conversations.history", "/api/conversations.replies")
DISTRIBUTED_PAGE, DISTRIBUTED_EVERY_S = 15, 60.0  # Slack's 2025 limits for apps distributed outside the Marketplace
MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"
# The fake grants what an install of our manifest grants: a scope the manifest forgets is `missing_scope` here too.
SCOPES = frozenset(yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"])


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024


@dataclass
class Call:
    """One request to the fake and, once answered, Slack's answer: `status`, `answer` (JSON or text), `error`."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # None until the fake has answered
    answer: dict[str, Any] | str | None = None
    team: str | None = None  # the workspace whose token the call carried

    @property
    def error(self) -> str | None:
        """Slack's refusal (`not_in_channel`, `used_url`, `ratelimited`...), or None for an accepted call."""
        if self.status is None:
            return None
        if isinstance(self.answer, dict) and self.answer.get("ok") is False:
            return str(self.answer.get("error") or f"HTTP {self.status}")
        if not 200 <= self.status < 300:
            return str(self.answer or "") if isinstance(self.answer, str) and self.answer else f"HTTP {self.status}"
        return None

    @property
    def accepted(self) -> bool:
        return self.status is not None and self.error is None


@dataclass
class Expectation:
    """Refusals a test declared (`fake.expect(...)`); `calls` are the refused calls it matched."""

    errors: frozenset[str]
    on: str | None  # a Web API method ("chat.postEphemeral") or a path ("/response/x"); None: any
    calls: list[Call] = field(default_factory=list)

    def matches(self, call: Call) -> bool:
        where = self.on is None or call.path == self.on or call.path == "/api/" + self.on
        return where and call.error in self.errors


@dataclass
class Team:
    """A workspace the app is installed in: its id, its bot user and the bot tokens that act for it."""

    id: str
    bot_user_id: str = BOT_USER_ID
    tokens: set[str] = field(default_factory=set)


@dataclass
class Channel:
    id: str
    name: str
    members: set[str]
    private: bool = False
    archived: bool = False


class FakeSlack:
    """Answers Web API methods under /api/ and records posts to /response/*; can answer 429 or 5xx on purpose.

    #general (C0GENERAL) exists from the start with the bot, UUSER001 and UADMIN01 in it; `add_channel` makes more.
    Workspace T0001 is installed with BOT_TOKEN; `add_team` installs more (an OAuth exchange does it too).
    """

    def __init__(self, *, response_url_lifetime_s: float = RESPONSE_URL_LIFETIME_S) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []  # broken rules and undeclared refusals, each once
        self.refusals: list[Call] = []  # every refused call, declared or not
        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.revoked: set[str] = set()
        self.home: dict[str, dict[str, Any]] = {}  # user -> the Home tab views.publish last set
        self._expectations: list[Expectation] = []
        self._retry_at: dict[tuple[str, str], tuple[float, int]] = {}  # (path, token) -> (429 until, Retry-After)
        self._reported = 0  # violations already raised by check()
        self._used_triggers: set[str] = set()
        self.channels: dict[str, Channel] = {}
        self.scopes = set(SCOPES)
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> the message as last posted
        self.views: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []  # chat.postEphemeral: only `user` sees these
        self.response_url_lifetime_s = response_url_lifetime_s
        self._response_urls: dict[str, list[float]] = {}  # name -> [created at, accepted posts]
        self._triggers: dict[str, float] = {}  # trigger_id -> issued at (a used one is removed)
        self.add_channel("C0GENERAL", "general", members=["UUSER001", "UADMIN01"])
        self.history: dict[str, list[dict]] = {}
        self.replies: dict[tuple[str, str], list[dict]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (content, content type), served under /files/
        self.file_token = ""  # the bearer token a file download must carry
        self.file_tokens: dict[str, str] = {}  # name -> the token of the workspace it was shared in
        self.history_tier = "internal"  # "distributed": distributed_limits()
        self._history_calls: dict[tuple[str, str], float] = {}  # (token, method path) -> when it was last served
        self.oauth_codes: dict[str, dict[str, Any]] = {}  # an OAuth code -> what oauth.v2.access grants for it
        self.app_tokens = {APP_TOKEN}  # app-level tokens it issued (Socket Mode)
        self._failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._lock = threading.Lock()
        self._ts = 1700000000
        self.add_team(TEAM_ID, BOT_TOKEN)
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
        """A fresh response_url, as a command's payload carries it: its lifetime starts now."""
        with self._lock:
            self._response_urls.setdefault(name, [time.monotonic(), 0])
        return f"{self.url}/response/{name}"

    def trigger_id(self) -> str:
        """A trigger_id as an interaction carries it: views.open accepts it once, within 3 seconds."""
        with self._lock:
            trigger = f"{len(self._triggers) + 1}.{time.time_ns()}.fake"
            self._triggers[trigger] = time.monotonic()
        return trigger

    def add_channel(self, channel_id: str, name: str, *, members: list[str] = (), bot: bool = True,
                    private: bool = False, archived: bool = False) -> Channel:
        channel = Channel(channel_id, name, set(members) | ({BOT_USER_ID} if bot else set()), private, archived)
        self.channels[channel_id] = channel
        for user in members:
            self.users.setdefault(user, {"id": user, "name": user.lower(), "real_name": user, "is_bot": False})
        return channel

    def add_team(self, team_id: str, token: str, *, bot_user_id: str = BOT_USER_ID) -> Team:
        """A workspace the app is installed in, and a bot token that acts for it (a team may have several)."""
        with self._lock:
            team = self.teams.setdefault(team_id, Team(team_id, bot_user_id))
            team.tokens.add(token)
            self.tokens[token] = team_id
            self.revoked.discard(token)
            return team

    def revoke(self, token: str) -> None:
        """From now on every call with `token` gets `token_revoked`, as after an uninstall or a revoked token."""
        with self._lock:
            self.revoked.add(token)

    @contextmanager
    def expect(self, *errors: str, on: str | None = None, timeout: float = 60.0) -> Iterator[Expectation]:
        """Declare refusals the test means to cause: inside the block, a refusal with one of `errors` (on the method
        or path `on`, if given) is expected, not a violation. On leaving, it waits up to `timeout` for at least one
        and fails if none came: a declared refusal that never happens tests nothing.

            with fake.expect("user_not_in_channel", on="chat.postEphemeral") as refused:
                ...
            assert refused.calls[0].body["user"] == "UOUTSIDE"
        """
        expectation = Expectation(frozenset(errors), on)
        with self._lock:
            self._expectations.append(expectation)
        try:
            yield expectation
            deadline = time.monotonic() + timeout
            while not expectation.calls and time.monotonic() < deadline:
                time.sleep(0.02)
            assert expectation.calls, f"expected Slack to refuse a call{f' to {on}' if on else ''} with " \
                                      f"{' or '.join(sorted(errors))} within {timeout}s; it refused none"
        finally:
            with self._lock:
                self._expectations.remove(expectation)

    def check(self) -> None:
        """Fail with the violations not reported yet (the fixtures call it after each test)."""
        with self._lock:
            new, self._reported = self.violations[self._reported:], len(self.violations)
        assert not new, "the bot broke Slack's rules or Slack refused it: " + "; ".join(new)

    def join(self, channel_id: str, *users: str) -> dict[str, Any]:
        """People join a channel (an ephemeral message reaches only members); no one named: the bot joins. Returns
        the member_joined_channel event Slack sends (for the first who joined)."""
        users = users or (BOT_USER_ID,)
        with self._lock:
            channel = self.channels[channel_id]
            channel.members.update(users)
            for user in users:
                if user != BOT_USER_ID:
                    self.users.setdefault(user, {"id": user, "name": user.lower(), "real_name": user, "is_bot": False})
        return {"type": "member_joined_channel", "user": users[0], "channel": channel_id, "event_ts": self._now_ts(),
                "channel_type": "G" if channel.private else "C", "team": TEAM_ID}

    def set_timezone(self, user: str, tz: str) -> None:
        """The person's profile timezone, as users.info returns it (tz, tz_label, tz_offset in seconds, now)."""
        import datetime as dt
        from zoneinfo import ZoneInfo

        now = dt.datetime.now(ZoneInfo(tz))
        self.users.setdefault(user, {"id": user, "name": user.lower(), "real_name": user, "is_bot": False})
        self.users[user].update(tz=tz, tz_label=now.tzname(), tz_offset=int(now.utcoffset().total_seconds()))

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """The messages in a channel or DM as people see them now (chat.update applied), oldest first."""
        with self._lock:
            return [message for (where, _), message in sorted(self.messages.items()) if where == channel]

    def share_file(self, name: str, content: bytes, *, content_type: str = "application/octet-stream",
                   token: str) -> str:
        """Serve `content` as Slack serves url_private_download (only with `Authorization: Bearer token`)."""
        self.files[name], self.file_token = (content, content_type), token
        self.file_tokens[name] = token
        return f"{self.url}/files/{name}"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def revoke(self, token: str) -> None:
        """Uninstalling the app (or an admin) revokes a token: Slack answers `token_revoked` from then on."""
        with self._lock:
            self.revoked.add(token)

    def fail(self, path: str, *, status: int = 429, times: int = 1, retry_after: int | None = 1) -> None:
        """The next `times` calls to `path` get `status` (429 carries Retry-After): refusals the test declares, so
        they are no violation; a retry sooner than Retry-After is one."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.setdefault(path, []).extend([(status, headers)] * times)

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.path == path]

    def wait_for(self, path: str, *, count: int = 1, timeout: float = 90.0, where: Callable[[Call], bool] | None = None) -> list[Call]:
        """The calls to `path` Slack accepted (and `where` picks), once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls_to(path) if c.accepted and (where is None or where(c))]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        calls = self.calls_to(path)
        refused = [f"{c.error}" for c in calls if c.error]
        raise AssertionError(f"expected {count} accepted call(s) to {path} within {timeout}s; got {len(calls)} call(s)"
                             + (f", refused: {', '.join(refused)}" if refused else ""))

    # -- the Web API ------------------------------------------------------------------------------
    NEEDED = {"chat.postMessage": "chat:write", "chat.update": "chat:write", "users.info": "users:read",
              "conversations.open": "im:write"}

    def _answer(self, call: Call) -> dict[str, Any]:
        """A Web API call's answer (the caller holds the lock)."""
        method = call.path.removeprefix("/api/")
        if method not in NO_TOKEN:
            token = _token(call)
            if not token:
                return {"ok": False, "error": "not_authed"}
            app_level = token.startswith("xapp-")
            if token not in (self.app_tokens if app_level else self.tokens):
                return {"ok": False, "error": "invalid_auth"}
            if token in self.revoked:
                return {"ok": False, "error": "token_revoked"}
            if app_level != (method == "apps.connections.open"):  # Socket Mode's token opens connections, only it
                return {"ok": False, "error": "not_allowed_token_type"}
            call.team = self.tokens.get(token, TEAM_ID)
        needed = self.NEEDED.get(method)
        if needed and needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            refused = _message_problems(call.body, update=method == "chat.update")
            if refused:
                return refused
        return handler(call.body, team=call.team) if method == "auth.test" else handler(call.body)

    def _record(self, call: Call, status: int, answer: dict[str, Any] | str | None, *, declared: bool = False) -> None:
        """Keep Slack's answer on the call; a refusal nobody declared is a violation (the caller holds the lock)."""
        call.status, call.answer = status, answer
        if call.error is None:
            return
        self.refusals.append(call)
        if declared:
            return
        for expectation in self._expectations:
            if expectation.matches(call):
                expectation.calls.append(call)
                return
        details = (answer.get("errors") or answer.get("needed") or "") if isinstance(answer, dict) else ""
        self.violations.append(f"{call.path.removeprefix('/api/')} refused with {call.error}"
                               + (f" {details}" if details else "") + f" (body {_short(call.body)})")

    def _rate_limited(self, call: Call) -> tuple[int, dict[str, str]] | None:
        """A call sooner than the Retry-After of its last 429: a violation, answered with 429 again."""
        until, asked = self._retry_at.get((call.path, _token(call)), (0.0, 0))
        early = until - time.monotonic()
        if early <= 0:
            return None
        self.violations.append(f"{call.path} called again {asked - early:.2f} s after a 429 that said Retry-After: {asked}")
        return 429, {"Retry-After": str(math.ceil(early))}

    def _channel(self, channel_id: str, *, read: str | None = None) -> tuple[Channel | None, dict | None]:
        """The channel as the bot may use it, or Slack's error for it (`read` = history or read scope)."""
        channel = self.channels.get(channel_id)
        if channel is None or (channel.private and BOT_USER_ID not in channel.members):
            return None, {"ok": False, "error": "channel_not_found"}  # a private channel hides itself from outsiders
        if read:
            scope = ("groups:" if channel.private else "channels:") + read
            if scope not in self.scopes:
                return None, {"ok": False, "error": "missing_scope", "needed": scope}
        return channel, None

    def _is_dm(self, channel_id: str) -> bool:
        return channel_id.startswith("D")

    def _api_auth_test(self, body: dict, *, team: str | None = None) -> dict:
        team = self.teams[team or TEAM_ID]
        return {"ok": True, "user_id": team.bot_user_id, "bot_id": "B0001", "team_id": team.id, "user": "nlpbot",
                "url": "https://example.slack.com/"}

    def _api_chat_postMessage(self, body: dict) -> dict:
        where = str(body.get("channel") or "")
        if not self._is_dm(where):
            channel, error = self._channel(where)
            if error:
                return error
            if channel.archived:
                return {"ok": False, "error": "is_archived"}
            if BOT_USER_ID not in channel.members:
                return {"ok": False, "error": "not_in_channel"}
        self._ts += 1
        ts = f"{self._ts}.000100"
        self.messages[(where, ts)] = {"ts": ts, "text": body.get("text", ""), "blocks": body.get("blocks"),
                                      "thread_ts": body.get("thread_ts"), "updates": 0, "user": BOT_USER_ID}
        return {"ok": True, "channel": where, "ts": ts}

    def _api_chat_update(self, body: dict) -> dict:
        where, ts = str(body.get("channel")), str(body.get("ts"))
        message = self.messages.get((where, ts))
        if message is None:  # a person's message (history, a thread) is there but not the bot's to edit
            others = [*self.history.get(where, []), *(m for (c, _), t in self.replies.items() if c == where for m in t)]
            return {"ok": False, "error": "cant_update_message" if any(m.get("ts") == ts for m in others)
                    else "message_not_found"}
        message.update(text=body.get("text", ""), blocks=body.get("blocks"), updates=message["updates"] + 1)
        return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": message["text"]}

    def _api_conversations_open(self, body: dict) -> dict:
        users = str(body.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied" if not users else "not_implemented"}
        return {"ok": True, "channel": {"id": "D" + users.removeprefix("U").removeprefix("W")}}

    def _readable(self, body: dict) -> tuple[Channel | None, dict | None]:
        where = str(body.get("channel") or "")
        if self._is_dm(where):
            return None, ({"ok": False, "error": "missing_scope", "needed": "im:history"}
                          if "im:history" not in self.scopes else None)
        channel, error = self._channel(where, read="history")
        if not error and BOT_USER_ID not in channel.members:
            return None, {"ok": False, "error": "not_in_channel"}
        return channel, error

    def _api_conversations_history(self, body: dict) -> dict:
        """Newest first, `oldest` < ts < `latest` (bounds included with `inclusive`), `limit` a page (default 100)."""
        _, error = self._readable(body)
        if error:
            return error
        inclusive = str(body.get("inclusive", "")).lower() in {"1", "true"}
        oldest, latest = float(body.get("oldest") or 0), float(body.get("latest") or "inf")
        found = [m for m in self.history.get(body.get("channel"), [])
                 if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
        start, limit = int(body.get("cursor") or 0), max(1, min(int(body.get("limit") or 100), 999))
        limit = min(limit, DISTRIBUTED_PAGE) if self.history_tier == "distributed" else limit
        more = start + limit < len(found)
        return {"ok": True, "messages": found[start:start + limit], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _api_conversations_list(self, body: dict) -> dict:
        types = str(body.get("types") or "public_channel").split(",")
        for kind, scope in (("public_channel", "channels:read"), ("private_channel", "groups:read")):
            if kind in types and scope not in self.scopes:
                return {"ok": False, "error": "missing_scope", "needed": scope}
        visible = [c for c in self.channels.values() if ("private_channel" if c.private else "public_channel") in types
                   and (not c.private or BOT_USER_ID in c.members)
                   and not (c.archived and str(body.get("exclude_archived", "")).lower() in {"1", "true"})]
        start, limit = int(body.get("cursor") or 0), max(1, min(int(body.get("limit") or 100), 1000))
        page = [{"id": c.id, "name": c.name, "is_channel": True, "is_private": c.private, "is_archived": c.archived,
                 "is_member": BOT_USER_ID in c.members} for c in visible[start:start + limit]]
        following = str(start + limit) if start + limit < len(visible) else ""
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": following}}

    def _api_chat_getPermalink(self, body: dict) -> dict:  # noqa: N802 - Slack's method name; it needs no scope
        where, ts = str(body.get("channel") or ""), str(body.get("message_ts") or "")
        if not self._is_dm(where):
            _, error = self._channel(where)
            if error:
                return error
        url = f"https://example.slack.com/archives/{where}/p{ts.replace('.', '')}"
        if any(m.get("ts") == ts for m in self.history.get(where, [])) or (where, ts) in self.messages:
            return {"ok": True, "channel": where, "permalink": url}
        for (channel, parent), thread in self.replies.items():
            if channel == where and any(m.get("ts") == ts for m in thread):
                return {"ok": True, "channel": where, "permalink": f"{url}?thread_ts={parent}&cid={where}"}
        return {"ok": False, "error": "message_not_found"}

    def _api_conversations_replies(self, body: dict) -> dict:
        _, error = self._readable(body)
        key = (body.get("channel"), body.get("ts"))
        thread = self.replies.get(key, [])
        if error or self.history_tier != "distributed":
            return error or {"ok": True, "messages": thread, "has_more": False}
        start, limit = int(body.get("cursor") or 0), min(int(body.get("limit") or 1000), DISTRIBUTED_PAGE)
        more = start + limit < len(thread)
        return {"ok": True, "messages": thread[start:start + limit], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _api_conversations_members(self, body: dict) -> dict:
        channel, error = self._channel(str(body.get("channel") or ""), read="read")
        if error:
            return error
        members = sorted(channel.members)
        start = int(body.get("cursor") or 0)
        limit = max(1, min(int(body.get("limit") or 100), 1000))
        page = members[start:start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}

    def _api_users_info(self, body: dict) -> dict:
        user = self.users.get(str(body.get("user") or ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _api_views_open(self, body: dict) -> dict:
        trigger = str(body.get("trigger_id") or "")
        if trigger in self._used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}  # a trigger opens one view, once
        issued = self._triggers.get(trigger)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - issued > TRIGGER_LIFETIME_S:
            return {"ok": False, "error": "expired_trigger_id", "waited_s": round(time.monotonic() - issued, 1)}
        view = _view(body)
        refused = _view_problems(view, "modal")
        if refused:
            return refused
        del self._triggers[trigger]
        self._used_triggers.add(trigger)
        self.views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views):04d}", **view}}

    def _api_views_publish(self, body: dict) -> dict:
        view = _view(body)
        refused = _view_problems(view, "home")
        if refused:
            return refused
        if not str(body.get("user_id") or ""):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["user_id required"]}}
        self.home[str(body["user_id"])] = view
        return {"ok": True, "view": {"id": "V1", **view}}

    def _api_files_getUploadURLExternal(self, body: dict) -> dict:  # noqa: N802 - Slack's method name
        return {"ok": True, "upload_url": f"{self.url}/upload/F0UPLOAD1", "file_id": "F0UPLOAD1"}

    def _api_files_completeUploadExternal(self, body: dict) -> dict:  # noqa: N802
        where = str(body.get("channel_id") or "")
        if where and not self._is_dm(where):
            channel, error = self._channel(where)
            if error:
                return error
            if BOT_USER_ID not in channel.members:
                return {"ok": False, "error": "not_in_channel"}
        return {"ok": True, "files": [{"id": "F0UPLOAD1", "title": body.get("files")}]}

    def _api_oauth_v2_access(self, body: dict) -> dict:
        grant = self.oauth_codes.pop(body.get("code", ""), None)  # a code is good once, as Slack's are
        if not grant:
            return {"ok": False, "error": "invalid_code"}
        team = self.teams.setdefault(grant["team"]["id"], Team(grant["team"]["id"], grant.get("bot_user_id") or BOT_USER_ID))
        team.tokens.add(grant["access_token"])  # the installed workspace's token works from now on
        self.tokens[grant["access_token"]] = team.id
        self.revoked.discard(grant["access_token"])
        return {"ok": True, **grant}

    def _api_apps_connections_open(self, body: dict) -> dict:
        """A Socket Mode URL; nothing serves WebSockets here, so a connection to it fails (tests check refusals)."""
        return {"ok": True, "url": f"ws://127.0.0.1:{self.server.server_address[1]}/socket"}

    def _api_chat_postEphemeral(self, body: dict) -> dict:  # noqa: N802 - Slack's method name
        where, user = str(body.get("channel") or ""), str(body.get("user") or "")
        if not self._is_dm(where):
            channel, error = self._channel(where)
            if error:
                return error
            if BOT_USER_ID not in channel.members:
                return {"ok": False, "error": "not_in_channel"}
            if user not in channel.members:
                return {"ok": False, "error": "user_not_in_channel"}
        elif where[1:] != user[1:]:  # a DM with someone else (conversations.open gives D + the user's id)
            return {"ok": False, "error": "user_not_in_channel"}
        self._ts += 1
        self.ephemeral.append({"channel": where, "user": user, "text": body.get("text", ""),
                               "blocks": body.get("blocks"), "thread_ts": body.get("thread_ts")})
        return {"ok": True, "message_ts": f"{self._ts}.000900"}

    # -- Slack's 2025 history limits for apps distributed outside the Marketplace -------------------------
    def distributed_limits(self) -> FakeSlack:
        """conversations.history and conversations.replies as a non-Marketplace app gets them (2025): one call a
        minute per method and token (a sooner one is a violation, answered 429 with Retry-After), 15 messages a page."""
        self.history_tier = "distributed"
        return self

    def _paced(self, call: Call) -> tuple[int, dict[str, str]] | None:
        """Under the distributed limits, a history read sooner than a minute after the last one of its method and
        token: a violation, answered 429 with Retry-After (the caller holds the lock). None: it may be served."""
        if self.history_tier != "distributed" or call.path not in HISTORY_METHODS:
            return None
        key, now = (_token(call), call.path), time.monotonic()
        last = self._history_calls.get(key)
        if last is not None and now - last < DISTRIBUTED_EVERY_S:
            self.violations.append(f"{call.path.removeprefix('/api/')} {now - last:.1f} s after the last one "
                                   "(distributed limits: one a minute)")
            return 429, {"Retry-After": str(math.ceil(DISTRIBUTED_EVERY_S - (now - last)))}
        self._history_calls[key] = now
        return None

    # -- people talking in channels: what changes, and the event Slack sends for it ---------------------
    def _now_ts(self) -> str:
        with self._lock:  # real time, in ms: the bot keeps recent messages only
            self._clock_ms = max(getattr(self, "_clock_ms", 0) + 1, int(time.time() * 1000))
            return f"{self._clock_ms // 1000}.{self._clock_ms % 1000:03d}100"

    def say(self, channel: str, text: str, *, user: str, thread_ts: str | None = None, ts: str | None = None) -> dict:
        """A person posts in a channel (or a thread): it is in history / replies, and its message event is returned."""
        message = {"type": "message", "user": user, "text": text, "ts": ts or self._now_ts(),
                   **({"thread_ts": thread_ts} if thread_ts else {})}
        with self._lock:
            if thread_ts:
                parent = next(m for m in self.history.get(channel, []) if m["ts"] == thread_ts)
                parent.update(reply_count=parent.get("reply_count", 0) + 1, latest_reply=message["ts"])
                self.replies.setdefault((channel, thread_ts), [parent]).append(message)
            else:
                self.history.setdefault(channel, []).insert(0, message)
                self.history[channel].sort(key=lambda m: -float(m["ts"]))
        kind = "group" if self.channels[channel].private else "channel"
        return {**message, "channel": channel, "channel_type": kind, "event_ts": message["ts"]}

    def _find(self, channel: str, ts: str) -> tuple[list[dict], dict]:
        for messages in [self.history.get(channel, [])] + [t for (c, _), t in self.replies.items() if c == channel]:
            for message in messages:
                if message["ts"] == ts:
                    return messages, message
        raise KeyError(f"no message {ts} in {channel}")

    def edit(self, channel: str, ts: str, text: str) -> dict:
        """A person edits a message: the message_changed event."""
        with self._lock:
            _, message = self._find(channel, ts)
            previous = dict(message)
            message.update(text=text, edited={"user": message.get("user"), "ts": f"{time.time():.6f}"})
        return {"type": "message", "subtype": "message_changed", "channel": channel, "hidden": True,
                "message": dict(message), "previous_message": previous, "event_ts": self._now_ts(), "ts": ts,
                "channel_type": "group" if self.channels[channel].private else "channel"}

    def delete(self, channel: str, ts: str) -> dict:
        """A person deletes a message: the message_deleted event."""
        with self._lock:
            messages, message = self._find(channel, ts)
            messages.remove(message)
        return {"type": "message", "subtype": "message_deleted", "channel": channel, "hidden": True,
                "deleted_ts": ts, "previous_message": message, "event_ts": self._now_ts(),
                "channel_type": "group" if self.channels[channel].private else "channel"}

    def leave(self, channel: str) -> dict:
        """The bot is removed from a channel: the channel_left (group_left for a private one) event."""
        self.channels[channel].members.discard(BOT_USER_ID)
        kind = "group_left" if self.channels[channel].private else "channel_left"
        return {"type": kind, "channel": channel, "actor_id": "UADMIN01", "event_ts": self._now_ts()}

    def _response_post(self, name: str, body: dict) -> tuple[int, str]:
        """Slack's rules for a response_url: 5 posts at most, within its lifetime, with a valid message."""
        created, posts = self._response_urls.setdefault(name, [time.monotonic(), 0])
        if time.monotonic() - created > self.response_url_lifetime_s:
            return 404, "expired_url"
        if posts >= RESPONSE_URL_POSTS:
            return 404, "used_url"
        if len(str(body.get("text") or "")) > blockkit.MESSAGE_TEXT_CHARS:
            return 400, "msg_too_long"
        if blockkit.problems(body.get("blocks")):
            return 400, "invalid_blocks"
        self._response_urls[name][1] = posts + 1
        return 200, "ok"

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
                payload, text, headers, declared = None, "ok", {}, False
                with fake._lock:
                    fake.calls.append(call)
                    failures = fake._failures.get(path)
                    limited = fake._rate_limited(call) or fake._paced(call)  # _paced: the distributed limits
                    failure = None if limited else failures.pop(0) if failures else None
                    if limited or failure:  # declared by the test (fail), or a violation already
                        status, headers = limited or failure
                        declared = True
                        payload = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
                        if status == 429 and headers.get("Retry-After"):
                            after = int(headers["Retry-After"])
                            fake._retry_at[(path, _token(call))] = (time.monotonic() + after, after)
                    elif path.startswith("/response/"):
                        status, text = fake._response_post(path.removeprefix("/response/"), body)
                    elif path.startswith("/upload/"):
                        status = 200
                    else:
                        status, payload = 200, fake._answer(call)
                    fake._record(call, status, payload if payload is not None else text, declared=declared)
                self._send(status, payload, headers, text=text)

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                call = Call("GET", path, dict(self.headers.items()), {})
                found = fake.files.get(path.removeprefix("/files/")) if path.startswith("/files/") else None
                with fake._lock:
                    fake.calls.append(call)
                    token = _token(call)
                    if found is None:
                        status, payload = 404, {"ok": False, "error": "file_not_found"}
                    elif token != fake.file_tokens.get(path.removeprefix("/files/"), fake.file_token):
                        status, payload = 403, {"ok": False, "error": "not_authed"}
                    elif token in fake.revoked:
                        status, payload = 403, {"ok": False, "error": "token_revoked"}
                    else:
                        status, payload = 200, None
                    fake._record(call, status, payload)
                if payload is not None:
                    self._send(status, payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[1])
                self.send_header("Content-Length", str(len(found[0])))
                self.end_headers()
                self.wfile.write(found[0])

            def _send(self, status: int, payload: dict | None, headers: dict[str, str] | None = None, *,
                      text: str = "ok") -> None:
                data = text.encode() if payload is None else json.dumps(payload).encode()
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


def _token(call: Call) -> str:
    """The token a call carries: `Authorization: Bearer ...` (slack_sdk) or a `token` field."""
    header = call.headers.get("Authorization") or call.headers.get("authorization") or ""
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else str(call.body.get("token") or "")


def _short(body: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps({k: v for k, v in body.items() if k != "bytes"}, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _view(body: dict[str, Any]) -> dict[str, Any]:
    view = body.get("view")
    view = json.loads(view) if isinstance(view, str) else view
    return view if isinstance(view, dict) else {}


def _message_problems(body: dict[str, Any], *, update: bool) -> dict[str, Any] | None:
    """Slack's refusal of a message's text and blocks (chat.postMessage, .update, .postEphemeral), or None."""
    text, blocks = body.get("text"), body.get("blocks")
    if not update and not text and not blocks and not body.get("attachments"):
        return {"ok": False, "error": "no_text"}
    if len(str(text or "")) > blockkit.MESSAGE_TEXT_CHARS:
        return {"ok": False, "error": "msg_too_long"}
    problems = blockkit.problems(blocks)
    if problems:
        return {"ok": False, "error": "invalid_blocks", "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}
    return None


def _view_problems(view: dict[str, Any], surface: str) -> dict[str, Any] | None:
    """views.open/publish refuse a view that breaks Block Kit's limits with `invalid_arguments`."""
    problems = blockkit.problems(view.get("blocks"), surface=surface, view=view)
    if problems:
        return {"ok": False, "error": "invalid_arguments", "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}
    return None
