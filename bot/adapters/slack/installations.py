"""Installations and install states every replica shares: slack_sdk's two stores, kept in Redis where [state] points.

With one replica bolt's SQLAlchemy stores keep them in [slack] install_db (oauth.py). With several, an install that
starts on one replica (/slack/install issues a state) may come back to another (/slack/oauth_redirect consumes it),
every replica must authorize the new workspace's requests, and an uninstall handled by one must end them on all.
The records are the JSON that slack_sdk's own FileInstallationStore writes (an object's fields), one key per team.
While Redis is unreachable a workspace this process has served keeps its token (the copy it last read), so Redis
cannot silence it; /healthz says "installations" is degraded until Redis answers again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot import health
from bot.shared import PREFIX

log = logging.getLogger(__name__)


class RedisInstallationStore(InstallationStore):
    """Per team: its bot (`...:bot`), and a hash of installers by user id (plus "latest")."""

    def __init__(self, client: Any, *, client_id: str, retry_s: float = 2.0) -> None:
        """`retry_s`: after Redis failed, reads use this process's copy without trying Redis for this long."""
        self.client, self.prefix, self.retry_s = client, f"{PREFIX}slack:{client_id}:", retry_s
        self._failed_at = float("-inf")
        self._known: dict[tuple[str, str | None], Any] = {}  # (key, hash field) -> the record as last read or written
        self._lock = threading.Lock()

    def _read(self, key: str, field: str | None = None) -> Any:
        """A record from Redis; while Redis is unreachable, the copy this process last read or wrote (a workspace it
        never saw cannot be authorized then: the error goes on; an installer it never saw is none)."""
        with self._lock:
            known, copy = (key, field) in self._known, self._known.get((key, field))
        fallback = known or field not in (None, "latest")
        if fallback and time.monotonic() - self._failed_at < self.retry_s:
            return copy  # Redis failed a moment ago: an ack must not wait on it again and again
        try:
            raw = self.client.hget(key, field) if field else self.client.get(key)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "redis" or not fallback:
                raise
            self._failed_at = time.monotonic()
            if health.report("installations", f"Redis is unreachable ({type(exc).__name__}: {exc}); workspaces "
                                              "this replica served keep their tokens, new installs wait"):
                log.warning("installations: Redis is unreachable (%s); the workspaces this replica served keep "
                            "their tokens (its own copy)", exc)
            return copy
        with self._lock:
            self._known[(key, field)] = raw
        if health.clear("installations") is not None:
            log.warning("installations: Redis answers again")
        return raw

    def _forget(self, key: str) -> None:
        with self._lock:
            for known in [known for known in self._known if known[0] == key]:
                del self._known[known]

    def _key(self, enterprise_id: str | None, team_id: str | None, enterprise_install: bool | None, part: str) -> str:
        team = "none" if enterprise_install else team_id or "none"
        return f"{self.prefix}{enterprise_id or 'none'}-{team}:{part}"

    def save(self, installation: Installation) -> None:
        self.save_bot(installation.to_bot())
        record = json.dumps(installation.__dict__)
        key = self._key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install,
                        "installers")
        self.client.hset(key, mapping={"latest": record, installation.user_id or "none": record})
        with self._lock:
            self._known.update({(key, "latest"): record, (key, installation.user_id or "none"): record})

    def save_bot(self, bot: Bot) -> None:
        if bot.bot_token:
            key = self._key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install, "bot")
            record = json.dumps(bot.__dict__)
            self.client.set(key, record)
            with self._lock:
                self._known[(key, None)] = record

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        raw = self._read(self._key(enterprise_id, team_id, is_enterprise_install, "bot"))
        return Bot(**json.loads(raw)) if raw else None

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        raw = self._read(self._key(enterprise_id, team_id, is_enterprise_install, "installers"), user_id or "latest")
        if not raw:
            return None
        installation = Installation(**json.loads(raw))
        bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install)
        if bot is not None and (user_id is not None or installation.bot_token is None):  # the latest bot token
            installation.bot_id, installation.bot_user_id = bot.bot_id, bot.bot_user_id
            installation.bot_token, installation.bot_scopes = bot.bot_token, bot.bot_scopes
            installation.bot_refresh_token, installation.bot_token_expires_at = (bot.bot_refresh_token,
                                                                                 bot.bot_token_expires_at)
        return installation

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        for enterprise_install in (False, True):
            key = self._key(enterprise_id, team_id, enterprise_install, "bot")
            self.client.delete(key)
            self._forget(key)

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        key = self._key(enterprise_id, team_id, False, "installers")
        if user_id is None:
            self.client.delete(key)
            self._forget(key)
            return
        latest = self.client.hget(key, "latest")
        self.client.hdel(key, user_id)
        if latest and json.loads(latest).get("user_id") == user_id:
            self.client.hdel(key, "latest")
        self._forget(key)  # read again from Redis next time

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class RedisOAuthStateStore(OAuthStateStore):
    """An install link's state: issued with a lifetime (Redis expires it), consumed once (DEL is atomic)."""

    def __init__(self, client: Any, *, expiration_seconds: int) -> None:
        self.client, self.expiration_seconds = client, expiration_seconds

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = str(uuid.uuid4())
        self.client.set(f"{PREFIX}slack:oauth-state:{state}", b"1", ex=self.expiration_seconds)
        return state

    def consume(self, state: str) -> bool:
        return bool(self.client.delete(f"{PREFIX}slack:oauth-state:{state}"))


__all__ = ["RedisInstallationStore", "RedisOAuthStateStore"]
