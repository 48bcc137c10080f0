"""One bot, several workspaces: bolt's OAuth install flow, SQLite stores, and each team's own bot token per request.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, /slack/install sends a person to Slack's authorize page and
/slack/oauth_redirect stores the workspace's installation (SQLAlchemy stores in [slack] install_db). bolt then
authorizes every request by its team; `team_token_middleware` makes that team's token the one `TeamClient`
and `TeamFileDownloader` use for the request, in the listener and in the worker that answers it.
"""

from __future__ import annotations

import contextvars
from typing import Callable

import sqlalchemy
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.adapters.slack.files import FileDownloader
from bot.adapters.slack.manifest import BOT_SCOPES  # the manifest's: an OAuth install asks for exactly these
from bot.config import Config

STATE_EXPIRATION_S = 600  # an install link works for ten minutes

TEAM_TOKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar("nlpbot_team_token", default=None)


class TeamClient(WebClient):
    """A WebClient whose token is the current request's team token when there is one (OAuth), else its own."""

    @property
    def token(self) -> str | None:
        return TEAM_TOKEN.get() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value


class TeamFileDownloader(FileDownloader):
    """Downloads shared files with the token of the team that shared them."""

    def __init__(self) -> None:
        pass

    @property
    def _token(self) -> str:
        return TEAM_TOKEN.get() or ""


def team_token_middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
    """Make the authorized team's bot token current for the listeners (the pool copies it to the workers).

    bolt runs middleware one after another, not nested: the listeners run after this returns, so the token
    is not reset here; each dispatch runs in a fresh context instead (bot.adapters.slack.asgi), so it never leaks.
    """
    TEAM_TOKEN.set(context.bot_token)
    return next()


def oauth_settings(config: Config, *, client_id: str, client_secret: str) -> OAuthSettings:
    """bolt's OAuth settings with SQLite stores under the config folder (created on first use)."""
    path = config.resolve_path(config.slack.install_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=engine)
    installations.create_tables()  # idempotent: CREATE TABLE IF NOT EXISTS
    states.create_tables()
    return OAuthSettings(client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES),
                         installation_store=installations, state_store=states, install_page_rendering_enabled=False,
                         state_expiration_seconds=STATE_EXPIRATION_S)


def use_team_tokens(app: App) -> None:
    app.use(team_token_middleware)
