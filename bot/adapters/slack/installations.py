"""Installations and install states every replica shares: slack_sdk's two stores, kept in Redis where [state] points.

With one replica bolt's SQLAlchemy stores keep them in [slack] install_db (oauth.py). With several, an install that
starts on one replica (/slack/install issues a state) may come back to another (/slack/oauth_redirect consumes it),
every replica must authorize the new workspace's requests, and an uninstall handled by one must end them on all.
The records are the JSON that slack_sdk's own FileInstallationStore writes (an object's fields), one key per team.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.shared import PREFIX


class RedisInstallationStore(InstallationStore):
    """Per team: its bot (`...:bot`), and a hash of installers by user id (plus "latest")."""

    def __init__(self, client: Any, *, client_id: str) -> None:
        self.client, self.prefix = client, f"{PREFIX}slack:{client_id}:"

    def _key(self, enterprise_id: str | None, team_id: str | None, enterprise_install: bool | None, part: str) -> str:
        team = "none" if enterprise_install else team_id or "none"
        return f"{self.prefix}{enterprise_id or 'none'}-{team}:{part}"

    def save(self, installation: Installation) -> None:
        self.save_bot(installation.to_bot())
        record = json.dumps(installation.__dict__)
        key = self._key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install,
                        "installers")
        self.client.hset(key, mapping={"latest": record, installation.user_id or "none": record})

    def save_bot(self, bot: Bot) -> None:
        if bot.bot_token:
            self.client.set(self._key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install, "bot"),
                            json.dumps(bot.__dict__))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        raw = self.client.get(self._key(enterprise_id, team_id, is_enterprise_install, "bot"))
        return Bot(**json.loads(raw)) if raw else None

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        raw = self.client.hget(self._key(enterprise_id, team_id, is_enterprise_install, "installers"),
                               user_id or "latest")
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
            self.client.delete(self._key(enterprise_id, team_id, enterprise_install, "bot"))

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        key = self._key(enterprise_id, team_id, False, "installers")
        if user_id is None:
            self.client.delete(key)
            return
        latest = self.client.hget(key, "latest")
        self.client.hdel(key, user_id)
        if latest and json.loads(latest).get("user_id") == user_id:
            self.client.hdel(key, "latest")

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
