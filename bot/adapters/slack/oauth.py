"""One bot, several workspaces: bolt's OAuth install flow, SQLite stores, and each team's own bot token.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, /slack/install sends a person to Slack's authorize page and
/slack/oauth_redirect stores the workspace's installation (SQLAlchemy stores in [slack] install_db; with several
replicas in Redis, where [state] points: installations.py). bolt then
authorizes every request by its team; `team_token_middleware` makes that team's token the one `TeamClient` uses
for the request, in the listener and in the worker that answers it, and the files a request shares are bound
to it when they arrive (`downloader_for_this_team`). Work outside a request (recaps, scheduled jobs) asks
`team_token(config, team)` for the installation of the team it belongs to.
"""

from __future__ import annotations

import contextvars
import os
import threading
from typing import Callable

import sqlalchemy
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.adapters.slack.files import FileDownloader
from bot.adapters.slack.installations import RedisInstallationStore, RedisOAuthStateStore
from bot.adapters.slack.manifest import BOT_SCOPES  # the manifest's: an OAuth install asks for exactly these
from bot.config import Config
from bot.errors import ConfigError
from bot.shared import shared_redis

STATE_EXPIRATION_S = 600  # an install link works for ten minutes

_STORES: dict[tuple[str, str], SQLAlchemyInstallationStore] = {}
_STORES_LOCK = threading.Lock()
TEAM_TOKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar("nlpbot_team_token", default=None)


class TeamClient(WebClient):
    """A WebClient whose token is the current request's team token when there is one (OAuth), else its own."""

    @property
    def token(self) -> str | None:
        return TEAM_TOKEN.get() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value


def downloader_for_this_team(default: str = "") -> FileDownloader:
    """A downloader holding the token of the team whose request is being handled (OAuth), else `default`: a file
    is fetched with its own workspace's token, whichever thread fetches it and whenever."""
    return FileDownloader(TEAM_TOKEN.get() or default)


def team_token_middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
    """Make the authorized team's bot token current for the listeners (the pool copies it to the workers).

    bolt runs middleware one after another, not nested: the listeners run after this returns, so the token
    is not reset here; each dispatch runs in a fresh context instead (bot.adapters.slack.asgi), so it never leaks.
    """
    TEAM_TOKEN.set(context.bot_token)
    return next()


def installation_store(config: Config, *, client_id: str) -> SQLAlchemyInstallationStore | RedisInstallationStore:
    """Every workspace's installation (its bot token): in Redis where [state] points (every replica), else in
    [slack] install_db, one store (one engine) per file."""
    client = shared_redis(config)
    if client is not None:
        return RedisInstallationStore(client, client_id=client_id, retry_s=config.state.retry_s)
    path = config.resolve_path(config.slack.install_db)
    key = (str(path), client_id)
    with _STORES_LOCK:
        if key not in _STORES:
            path.parent.mkdir(parents=True, exist_ok=True)
            installations = SQLAlchemyInstallationStore(client_id=client_id,
                                                        engine=sqlalchemy.create_engine(f"sqlite:///{path}"))
            installations.create_tables()  # idempotent: CREATE TABLE IF NOT EXISTS
            _STORES[key] = installations
        return _STORES[key]


def team_token(config: Config, team: str | None) -> str:
    """The bot token for work a team's request did not start (recaps, scheduled jobs): its installation's with
    OAuth, else SLACK_BOT_TOKEN; a ConfigError that says why when there is none."""
    client_id = os.environ.get("SLACK_CLIENT_ID")
    if client_id and os.environ.get("SLACK_CLIENT_SECRET"):
        store = installation_store(config, client_id=client_id)
        if team is None:
            raise ConfigError("with several workspaces (OAuth) a recap names its workspace: team = \"T...\" in its "
                              "[[schedule.jobs]] table")
        bot = store.find_bot(enterprise_id=None, team_id=team)
        if bot is None or not bot.bot_token:
            raise ConfigError(f"workspace {team} has no installation of the app (never installed, or uninstalled): "
                              f"install it at /slack/install")
        return bot.bot_token
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise ConfigError("recaps read Slack: SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    return token


def oauth_settings(config: Config, *, client_id: str, client_secret: str) -> OAuthSettings:
    """bolt's OAuth settings with SQLite stores under the config folder (created on first use)."""
    installations = installation_store(config, client_id=client_id)
    if isinstance(installations, RedisInstallationStore):
        states = RedisOAuthStateStore(installations.client, expiration_seconds=STATE_EXPIRATION_S)
    else:
        states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=installations.engine)
        states.create_tables()
    return OAuthSettings(client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES),
                         installation_store=installations, state_store=states, install_page_rendering_enabled=False,
                         state_expiration_seconds=STATE_EXPIRATION_S)


def use_team_tokens(app: App) -> None:
    app.use(team_token_middleware)
