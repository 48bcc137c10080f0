"""One recap run: who may read it, what is new since the last one, and what it says, posted through a RecapSource."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, JobSpec
from bot.errors import ConfigError
from bot.recaps.compose import compose
from bot.recaps.schedule import PERIOD_S, frequency
from bot.recaps.source import RecapSource
from bot.recaps.store import open_recap_store
from bot.reply import Reply


def run_recap(config: Config, spec: JobSpec, bot: Any, source: RecapSource) -> str:
    """Recap `spec.target` for its readers; returns the line `nlpbot jobs list` shows as the last run."""
    store = open_recap_store(config)
    subscriber = getattr(spec, "subscriber", None)
    if subscriber:
        channel_id, name = spec.target, getattr(spec, "channel_name", "") or spec.target
    else:
        channel = source.channel(spec.target)
        channel_id, name = channel.id, channel.name
    where = f"#{name}"
    members = source.members(channel_id, where=where)  # checked at every run: leaving a channel ends its recaps
    if subscriber:
        if subscriber not in members:
            store.set_note(spec.id, f"Paused: you are no longer a member of {where}, so I don't send you its recap.")
            return f"skipped: {subscriber} is not a member of {where}"
        store.set_note(spec.id, "")
        readers = [subscriber]
    elif spec.post_to == "dm":
        readers = sorted(members)
    else:
        readers = [_shared_channel(source, spec, where, members)]
    mark = store.mark(spec.id)
    oldest = float(mark) if mark else time.time() - PERIOD_S[frequency(spec)]
    activity = source.activity(channel_id, oldest=oldest, where=where)
    zone = ZoneInfo(spec.timezone or config.schedule.timezone)
    since = dt.datetime.fromtimestamp(oldest, zone).strftime("%a %d %b %H:%M %Z")
    new = len(activity.messages) + sum(len(replies) for replies in activity.threads.values())
    if new:
        summarizer = bot.plugins.get("summarize") if bot is not None else None
        reply = compose(activity, where, since=since, summarizer=summarizer, link=source.link)
    elif spec.verbose:
        reply = Reply(title=f"Recap of {where}", text=f"Nothing new in {where} since {since}.")
    else:
        reply = None  # no empty recaps unless asked for
    for reader in readers if reply else []:
        source.post(reader, reply)
    if activity.newest_ts:
        store.set_mark(spec.id, activity.newest_ts)
    sent = f"sent to {len(readers)} reader(s)" if reply else "nothing sent"
    return f"{where}: {new} new message(s) since {since}; {sent}"


def _shared_channel(source: RecapSource, spec: JobSpec, where: str, members: frozenset[str]) -> str:
    """The channel to post in, only if everyone in it may read the recapped channel."""
    post = source.channel(spec.post_to or "")
    outsiders = sorted(source.members(post.id, where=f"#{post.name}") - members)
    if outsiders:
        raise ConfigError(f"job {spec.id}: I won't post the recap of {where} in #{post.name}: {len(outsiders)} of its "
                          f"members are not in {where} ({', '.join(outsiders[:5])}). Post it in a channel whose "
                          f'members are all in {where}, or use post_to = "dm".')
    return post.id
