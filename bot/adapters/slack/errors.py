"""Slack's API errors as advice a person can act on (the one mapping from an error code to a reply), and retries."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.errors import NlpbotError

DEFAULT_API_URL = "https://slack.com/api/"  # SLACK_API_URL replaces it (tests, proxies)


def retry_handlers() -> list:
    """429 honours Retry-After; 5xx and dropped connections are retried with backoff."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=3),
        ConnectionErrorRetryHandler(max_retry_count=3),
    ]


class SlackProblem(NlpbotError):
    """Slack refused a call made for a request; the message says what the person (or an admin) can do."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def advice(exc: SlackApiError, *, where: str = "that channel", bot_name: str = "nlpbot") -> SlackProblem:
    """The reply for a Slack error; `where` names the channel as the person wrote it (e.g. "#random")."""
    response = exc.response
    code = str(response.get("error") or "unknown_error") if response is not None else "unknown_error"
    invite = f"invite me with `/invite @{bot_name}` from inside it"
    messages = {
        "not_in_channel": f"I'm not in {where}: {invite}, then ask again.",
        "channel_not_found": f"I can't see {where}: it is private and I'm not in it ({invite}), or it no longer exists.",
        "is_archived": f"{where} is archived, so I can't read or post there.",
        "ratelimited": "Slack is rate-limiting me right now and kept doing so after three retries; "
                       "please try again in a minute.",
        "missing_scope": (f"I lack the Slack permission `{response.get('needed') if response is not None else '?'}` "
                          "for that. An admin can add it to the app (slack/manifest.yml, OAuth & Permissions) "
                          "and reinstall it."),
        "not_authed": "My Slack token is not accepted; an admin needs to check SLACK_BOT_TOKEN.",
        "invalid_auth": "My Slack token is not accepted; an admin needs to check SLACK_BOT_TOKEN.",
        "token_revoked": "My Slack token was revoked; an admin needs to reinstall the app.",
    }
    return SlackProblem(messages.get(code, f"Slack refused that (`{code}`); an admin can find the details in "
                                           "the bot's log."), code=code)


# Where each credential comes from, for the start-up advice below.
WHERE = {"SLACK_BOT_TOKEN": "OAuth & Permissions > Bot User OAuth Token (xoxb-...)",
         "SLACK_APP_TOKEN": "Basic Information > App-Level Tokens, with the connections:write scope (xapp-...)"}


def startup_advice(variable: str, code: str) -> str:
    """One line for the operator when Slack refuses a credential at start-up (auth.test, apps.connections.open)."""
    where = WHERE.get(variable, "your app's settings at api.slack.com/apps")
    advice = {
        "invalid_auth": f"it is not a valid token: copy it again from {where}",
        "not_authed": f"no token reached Slack: export {variable} ({where})",
        "token_revoked": f"it was revoked: reinstall the app to the workspace and export the new token ({where})",
        "token_expired": f"it has expired (token rotation is on): export a fresh one ({where})",
        "account_inactive": "the app's workspace or its installation is gone: reinstall the app and export the new token",
        "not_allowed_token_type": f"it is the wrong kind of token: {variable} wants the one from {where}",
        "ratelimited": "Slack is rate-limiting this app: wait a minute and start again",
    }.get(code, f"see {where}, and the app's settings at api.slack.com/apps")
    return f"Slack refused {variable} ({code[:200]}): {advice}"
