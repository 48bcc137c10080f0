"""One recap run: who may read it, what is new since the last one, and what it says, each line linked to its message."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable
from zoneinfo import ZoneInfo

from bot.config import Config, JobSpec
from bot.errors import ConfigError
from bot.format import escape
from bot.recap_rules import label
from bot.recaps import PERIOD_S, Activity, RecapStore
from bot.reply import Reply
from bot.request import Message
from bot.text import split_sentences

BUSIEST = 3  # threads shown
ITEMS = 5  # decisions, and open questions, shown at most
Link = Callable[[str, str, str], str]  # (channel, ts, label) -> a link to the message, "" if none


def run_recap(config: Config, spec: JobSpec, bot: Any) -> str:
    """Recap `spec.target` for its readers; returns the line `nlpbot jobs list` shows as the last run."""
    from bot.adapters.slack.recaps import workspace

    slack = workspace(config)
    store = RecapStore(config.resolve_path(config.schedule.state_db))
    subscriber = getattr(spec, "subscriber", None)
    if subscriber:
        channel_id, name = spec.target, getattr(spec, "channel_name", "") or spec.target
    else:
        channel_id, name = slack.channel(spec.target)
    where = f"#{name}"
    members = slack.members(channel_id, where=where)  # checked at every run: leaving a channel ends its recaps
    if subscriber:
        if subscriber not in members:
            store.set_note(spec.id, f"Paused: you are no longer a member of {where}, so I don't send you its recap.")
            return f"skipped: {subscriber} is not a member of {where}"
        store.set_note(spec.id, "")
        readers = [subscriber]
    elif spec.post_to == "dm":
        readers = sorted(members)
    else:
        readers = [_shared_channel(slack, spec, where, members)]
    mark = store.mark(spec.id)
    oldest = float(mark) if mark else time.time() - PERIOD_S[_frequency(spec)]
    activity = slack.activity(channel_id, oldest=oldest, where=where)
    zone = ZoneInfo(spec.timezone or config.schedule.timezone)
    since = dt.datetime.fromtimestamp(oldest, zone).strftime("%a %d %b %H:%M %Z")
    new = len(activity.messages) + sum(len(replies) for replies in activity.threads.values())
    if new:
        summarizer = bot.plugins.get("summarize") if bot is not None else None
        reply = compose(activity, where, since=since, summarizer=summarizer, link=slack.link)
    elif spec.verbose:
        reply = Reply(title=f"Recap of {where}", text=f"Nothing new in {where} since {since}.")
    else:
        reply = None  # no empty recaps unless asked for
    for reader in readers if reply else []:
        slack.post(reader, reply)
    if activity.newest_ts:
        store.set_mark(spec.id, activity.newest_ts)
    sent = f"sent to {len(readers)} reader(s)" if reply else "nothing sent"
    return f"{where}: {new} new message(s) since {since}; {sent}"


def _frequency(spec: JobSpec) -> str:
    weekday = spec.cron.split()[-1]
    return "weekly" if weekday != "*" and not any(mark in weekday for mark in ",-/") else "daily"


def _shared_channel(slack: Any, spec: JobSpec, where: str, members: frozenset[str]) -> str:
    """The channel to post in, only if everyone in it may read the recapped channel."""
    post_id, post_name = slack.channel(spec.post_to or "")
    outsiders = sorted(slack.members(post_id, where=f"#{post_name}") - members)
    if outsiders:
        raise ConfigError(f"job {spec.id}: I won't post the recap of {where} in #{post_name}: {len(outsiders)} of its "
                          f"members are not in {where} ({', '.join(outsiders[:5])}). Post it in a channel whose "
                          f'members are all in {where}, or use post_to = "dm".')
    return post_id


def compose(activity: Activity, where: str, *, since: str, summarizer: Any, link: Link) -> Reply:
    """The summary, the busiest threads, decisions and open questions; every line links to its message."""
    cid = activity.channel_id
    replies = [reply for thread in activity.threads.values() for reply in thread]
    everything = sorted(activity.messages + replies, key=lambda m: float(m.ts))
    lines: list[str] = []
    sources: list[str] = []

    def item(text: str, ts: str) -> str:
        sources.append(ts)
        return f"• {escape(_short(text))} {link(cid, ts, 'link')}".rstrip()

    if summarizer is not None:
        result = summarizer.summarize_messages(everything)
        if result["sentences"]:
            lines += ["*Summary*", *(item(s["text"], s["ts"]) for s in result["sentences"])]
        elif result["summary"]:
            lines += ["*Summary*", escape(result["summary"])]
    parents = {**activity.parents, **{m.ts: m for m in activity.messages}}  # a thread may predate the window
    busiest = sorted((ts for ts in activity.threads if ts in parents), key=lambda ts: -len(activity.threads[ts]))
    if busiest:
        lines += ["", "*Busiest threads*"]
        lines += [f"{item(parents[ts].text, ts)} ({len(activity.threads[ts])} new replies)" for ts in busiest[:BUSIEST]]
    decisions, questions = _decisions_and_questions(activity, everything)
    for title, found in (("Decisions", decisions), ("Open questions", questions)):
        if found:
            lines += ["", f"*{title}*", *(item(text, ts) for text, ts in found[:ITEMS])]
    return Reply(title=f"Recap of {where}", text="\n".join(lines).strip() or f"{len(everything)} new message(s).",
                 footer=f"{len(everything)} new message(s) since {since}",
                 data={"channel": cid, "messages": len(everything), "message_refs": [{"channel": cid, "ts": ts}
                                                                                 for ts in dict.fromkeys(sources)]})


def _decisions_and_questions(activity: Activity, everything: list[Message]) -> tuple[list, list]:
    """Sentences that read as decisions, and questions nobody answered in their thread (nor after them in it)."""
    last_in_thread = {thread[-1].ts for thread in activity.threads.values()}
    in_threads = {reply.ts for thread in activity.threads.values() for reply in thread}
    decisions, questions = [], []
    for message in everything:
        unanswered = message.ts not in activity.threads and (message.ts not in in_threads or
                                                             message.ts in last_in_thread)
        for sentence in split_sentences(message.text):
            kind = label(sentence)
            if kind == "decision":
                decisions.append((sentence, message.ts))
            elif kind == "question" and unanswered:
                questions.append((sentence, message.ts))
    return decisions, questions


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
