"""Recaps as the scheduler runs them: people's subscriptions as jobs, the "recap" action, and a job's shown target.

The scheduler imports this, never an adapter: the action runs with the RecapSource that whoever built the
scheduler gave it (a factory, called at each run with the job's workspace: `nlpbot jobs list` never needs Slack's
token, and each workspace's recaps read and post with its own installation).
"""

from __future__ import annotations

from typing import Any, Callable

from bot.config import Config, JobSpec
from bot.errors import ConfigError
from bot.recaps.run import run_recap
from bot.recaps.source import RecapSource
from bot.recaps.store import RecapStore, SubscriptionSpec

SourceFactory = Callable[[Config, "str | None"], RecapSource]  # (config, team id or None) -> that workspace's chat


def recap_action(source: SourceFactory | None) -> Callable[[Config, JobSpec, Any], str]:
    """The scheduler's "recap" action: `(config, spec, bot) -> the line its last run shows`."""

    def recap(config: Config, spec: JobSpec, bot: Any) -> str:
        if source is None:
            raise ConfigError("this scheduler was given no recap source, so it cannot run recaps: `nlpbot run` and "
                              "`nlpbot jobs run` give it Slack's")
        return run_recap(config, spec, bot, source(config, spec.team))

    return recap


def subscription_jobs(store: RecapStore) -> list[SubscriptionSpec]:
    """Every person's recap subscription, as a job (the store is shared by every replica where [state] points)."""
    return [sub.spec() for sub in store.all()]


def shown_target(spec: JobSpec) -> str:
    """A job's target as `nlpbot jobs list` shows it: a person's recap is "#channel for U123"."""
    if isinstance(spec, SubscriptionSpec):
        return f"#{spec.channel_name or spec.target} for {spec.subscriber}"
    return spec.target
