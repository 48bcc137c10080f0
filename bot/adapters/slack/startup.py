"""Start-up checks against Slack, before anything is served: which credentials the environment gives, the bot token
(`auth.test`, once) and Socket Mode's app token; each failure is one line saying what to do (exit 3), never a trace.

Example::

    credentials = Credentials.from_environment(os.environ, adapter=None)  # "socket", "http" or "console"
    identity = verify_bot_token(client)    # {"user_id", "team_id", ...}; SlackStartupError if Slack says no
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from bot.adapters.slack.errors import startup_advice
from bot.errors import ConfigError, NlpbotError

CONNECT = "README: Connect a Slack workspace"


class SlackStartupError(NlpbotError):
    """Slack refused the bot's credentials or cannot be reached: the bot does not start (exit 3)."""


@dataclass(frozen=True)
class Credentials:
    """What the environment gives the bot to reach Slack, and so how it serves: "socket", "http" or "console"."""

    adapter: str
    bot_token: str = ""
    app_token: str = ""
    signing_secret: str = ""
    client_id: str = ""
    client_secret: str = ""

    @property
    def oauth(self) -> bool:
        """Several workspaces: each installation brings its own bot token (HTTP only)."""
        return self.adapter == "http" and bool(self.client_id and self.client_secret)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], *, adapter: str | None) -> Credentials:
        """Socket Mode with SLACK_APP_TOKEN, HTTP with SLACK_SIGNING_SECRET, the console with no Slack variable;
        `adapter` (--adapter) chooses instead. Anything half set is a ConfigError naming what is missing."""
        found = {name: environ.get(f"SLACK_{name.upper()}", "").strip()
                 for name in ("bot_token", "app_token", "signing_secret", "client_id", "client_secret")}
        if adapter is None:
            adapter = "socket" if found["app_token"] else "http" if found["signing_secret"] else "console"
            if adapter == "console" and (found["bot_token"] or found["client_id"]):
                given = "SLACK_BOT_TOKEN" if found["bot_token"] else "SLACK_CLIENT_ID"
                raise ConfigError(f"{given} is set, but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET "
                                  f"(HTTP) is: export one of them ({CONNECT}), or unset {given} to use the console")
        credentials = cls(adapter=adapter, **found)
        credentials.check()
        return credentials

    def check(self) -> None:
        if self.adapter == "console":
            return
        if self.adapter == "http" and bool(self.client_id) != bool(self.client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.client_id else "SLACK_CLIENT_ID"
            raise ConfigError(f"{missing} is not set: OAuth (several workspaces) needs both SLACK_CLIENT_ID and "
                              "SLACK_CLIENT_SECRET (Basic Information > App Credentials)")
        if not self.bot_token and not self.oauth:
            raise ConfigError("SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) comes from the environment "
                              f"(OAuth & Permissions > Bot User OAuth Token; {CONNECT})")
        if self.adapter == "socket" and not self.app_token:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with "
                              f"connections:write, from Basic Information > App-Level Tokens ({CONNECT})")
        if self.adapter == "http" and not self.signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it "
                              f"(Basic Information > App Credentials > Signing Secret; {CONNECT})")


def verify_bot_token(client: Any) -> dict[str, Any]:
    """`auth.test` with the client the adapter serves with (its token and SLACK_API_URL): who the bot is, or
    SlackStartupError saying what to do about a refused token or an API out of reach."""
    from slack_sdk.errors import SlackApiError

    try:
        with _quiet_client():
            return dict(client.auth_test().data)
    except SlackApiError as exc:
        raise SlackStartupError(startup_advice("SLACK_BOT_TOKEN", _code(exc))) from None
    except OSError as exc:  # refused, unknown host, timeout, TLS: after the client's own retries
        raise SlackStartupError(_unreachable(client, exc)) from None


def socket_url(client: Any, app_token: str) -> str:
    """A Socket Mode connection URL for the app token (`apps.connections.open`), or SlackStartupError; the
    handler connects with it, so the token is checked by the call that serves, not by an extra one."""
    from slack_sdk.errors import SlackApiError

    try:
        with _quiet_client():
            return str(client.apps_connections_open(app_token=app_token)["url"])
    except SlackApiError as exc:
        raise SlackStartupError(startup_advice("SLACK_APP_TOKEN", _code(exc))) from None
    except OSError as exc:
        raise SlackStartupError(_unreachable(client, exc)) from None


@contextmanager
def _quiet_client() -> Iterator[None]:
    """slack_sdk logs each failed try and retry (a dozen lines for an API out of reach): the one line this module
    raises says it. At DEBUG they show. Only start-up calls this, before anything else talks to Slack."""
    logger = logging.getLogger("slack_sdk")
    level = logger.level
    if logger.getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _code(exc: Any) -> str:
    try:
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    except (AttributeError, TypeError):  # not a JSON answer: a proxy's page, a wrong SLACK_API_URL
        return "unknown_error"


def _unreachable(client: Any, exc: OSError) -> str:
    reason = getattr(exc, "reason", None) or exc
    return (f"cannot reach Slack's Web API at {client.base_url} ({reason}): check the network and any proxy "
            "(HTTPS_PROXY), or SLACK_API_URL if you set it")


class _KnownNoise(logging.Filter):
    """bolt warns that the token it reads from SLACK_BOT_TOKEN is unused when given a client: ours carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def bolt_logger() -> logging.Logger:
    """The logger bolt's loggers are configured from: its INFO lines (a refused request's body among them) only at
    DEBUG, and without the warning above."""
    logger = logging.getLogger("slack_bolt")
    logger.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    if not any(isinstance(existing, _KnownNoise) for existing in logger.filters):
        logger.addFilter(_KnownNoise())
    return logger
