"""People's own recaps: `/summarize subscribe #channel daily 09:00`, `unsubscribe #channel` and `list`."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import JobSpec
from bot.errors import Forbidden, UserInputError
from bot.recaps.schedule import USAGE, parse_schedule
from bot.recaps.store import RecapStore, Subscription
from bot.reply import Reply
from bot.request import Request


class Jobs(Protocol):
    """The scheduler as subscriptions use it: its recap store, and jobs added and removed at run time."""

    recaps: RecapStore

    def add(self, spec: JobSpec) -> None: ...

    def remove(self, job_id: str) -> None: ...

    def next_runs(self) -> dict[str, dt.datetime | None]: ...


def respond(request: Request, jobs: Jobs) -> Reply:
    """The asker's own recaps: `subscribe #channel daily 09:00`, `unsubscribe #channel`, `list` (request.args[0])."""
    action, args = request.args[0].lower(), request.args[1:]
    if action == "list":
        return Reply(title="Your recaps", text=listing(jobs, request.user_id), in_channel=False)
    if not (request.channel_refs and args and args[0].startswith("#")):
        raise UserInputError(f"Which channel? `{USAGE}`")
    channel = request.channel_refs[0]
    if action == "unsubscribe":
        return Reply(text=unsubscribe(jobs, request.user_id, channel.id, channel.name), in_channel=False)
    frequency, day, at, verbose = parse_schedule(args[1:])
    if channel.id not in request.conversation.readable([channel.id]):
        raise Forbidden(f"You're not a member of #{channel.name}, so I won't recap it for you: "
                        "I only show a channel's messages to the people in it.")
    zone = request.conversation.timezone(request.user_id)
    sub = Subscription(request.user_id, channel.id, channel.name, frequency, day, at, zone or "UTC", verbose,
                       team=request.team_id or "")
    note = "" if zone else " (Your profile has no timezone, so the time is UTC.)"
    return Reply(text=subscribe(jobs, sub) + note, in_channel=False)


def subscribe(jobs: Jobs, sub: Subscription) -> str:
    """Store the subscription and schedule it (at once in a running scheduler, else at its next start)."""
    jobs.recaps.save(sub)
    jobs.add(sub.spec())
    next_run = jobs.next_runs().get(sub.id)
    nxt = f" The next one: {next_run.astimezone(ZoneInfo(sub.timezone)):%a %d %b %H:%M %Z}." if next_run else ""
    return (f"Subscribed: a recap of #{sub.channel_name} {sub.when()}, in a direct message, covering what is new "
            f"since the last one.{nxt} Stop with `/summarize unsubscribe #{sub.channel_name}`.")


def unsubscribe(jobs: Jobs, user: str, channel_id: str, channel_name: str) -> str:
    job_id = Subscription(user, channel_id, channel_name, "daily", "", "00:00", "UTC").id
    if not jobs.recaps.remove(job_id):
        return f"You have no recap of #{channel_name}."
    jobs.remove(job_id)
    return f"Unsubscribed: no more recaps of #{channel_name}."


def listing(jobs: Jobs, user: str) -> str:
    subs = jobs.recaps.of(user)
    if not subs:
        return f"You have no recaps. Subscribe with `{USAGE.split('  |  ')[0]}`."
    next_runs = jobs.next_runs()
    lines = []
    for sub in subs:
        run = next_runs.get(sub.id)
        nxt = f"{run.astimezone(ZoneInfo(sub.timezone)):%a %d %b %H:%M %Z}" if run else "at the bot's next start"
        lines.append(f"• #{sub.channel_name}: {sub.when()}; next {nxt}" + (f". _{sub.note}_" if sub.note else ""))
    return "\n".join(lines)
