"""A workspace that leaves: `app_uninstalled` and `tokens_revoked` (the bot's) delete that team's installation, its
people's recap subscriptions (on every replica: they live where [state] points) and its message log, and say so in
the operator's log. Revoked user tokens only delete those users' installations (the bot's token still works).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class Workspaces:
    """Registers the two listeners on the adapter's bolt App; `installations` is the OAuth store (None: one token)."""

    def __init__(self, adapter: Any, *, installations: Any = None) -> None:
        self.adapter, self.installations = adapter, installations
        adapter.app.event("app_uninstalled")(self._on_uninstalled)
        adapter.app.event("tokens_revoked")(self._on_tokens_revoked)

    def _on_uninstalled(self, body: dict, context: Any) -> None:
        self.forget(context.team_id or body.get("team_id") or "", enterprise=context.enterprise_id,
                    why="uninstalled the app")

    def _on_tokens_revoked(self, body: dict, event: dict, context: Any) -> None:
        team = context.team_id or body.get("team_id") or ""
        tokens = event.get("tokens") or {}
        users = tokens.get("oauth") or []
        if self.installations is not None:
            for user in users:
                self.installations.delete_installation(enterprise_id=context.enterprise_id, team_id=team, user_id=user)
        if tokens.get("bot"):
            self.forget(team, enterprise=context.enterprise_id, why="revoked the bot's token")
        elif users:
            log.warning("Slack workspace %s revoked %d user token(s); the bot's token still works", team, len(users))

    def forget(self, team: str, *, enterprise: str | None = None, why: str) -> None:
        """Delete everything kept for the team; each part is tried even if another fails, and each is reported."""
        if not team:
            log.error("a workspace %s, but the event names no team: nothing deleted", why)
            return
        done, failed = [], []
        parts = [("its installation", self._installation), ("its recap subscriptions", self._recaps),
                 ("its message log", self._messages)]
        for what, delete in parts:
            try:
                done.append(delete(team, enterprise))
            except Exception as exc:  # noqa: BLE001 - one store that is down must not keep the others
                failed.append(f"{what} ({type(exc).__name__}: {exc})")
        configured = [job.id for job in self.adapter.bot.config.schedule.jobs if job.team == team]
        log.warning("Slack workspace %s %s: deleted %s%s%s", team, why, ", ".join(d for d in done if d) or "nothing",
                    f"; could NOT delete {', '.join(failed)}" if failed else "",
                    f"; config.toml still has its recap jobs {', '.join(configured)} (they fail until it installs "
                    "the app again: remove them)" if configured else "")

    def _installation(self, team: str, enterprise: str | None) -> str:
        if self.installations is None:
            return ""
        self.installations.delete_all(enterprise_id=enterprise, team_id=team)
        return "its installation"

    def _recaps(self, team: str, enterprise: str | None) -> str:
        gone = self.adapter.bot.services.scheduler.forget_team(team)
        return f"{len(gone)} recap subscription(s)"

    def _messages(self, team: str, enterprise: str | None) -> str:
        keeper = self.adapter.keeper
        return f"{keeper.forget(team)} logged message(s)" if keeper is not None else ""
