"""Recaps through bot.recaps alone: the rules' measured scores, schedules in a person's timezone, and a run over a
RecapSource of our own (no adapter: the scheduler is handed the source). Slack's side: tests/adapters/slack."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

import pytest

from bot.config import cron_trigger, load_config
from bot.errors import ConfigError, NlpbotError, UserInputError
from bot.recaps import Activity, RecapSource, Subscription, listing, parse_schedule, subscribe
from bot.recaps.scores import scores, sentences
from bot.reply import Reply
from bot.request import ChannelRef, Message
from bot.scheduler import Scheduler, jobs_table
from tests.support.bots import write_config

NOW = time.time()


def ts(ago_s: float) -> str:
    return f"{NOW - ago_s:.6f}"


class Chat:
    """A RecapSource kept in memory, as strict as the protocol: only channels it holds, only their members."""

    def __init__(self) -> None:
        self.channels: dict[str, tuple[str, set[str], list[Message]]] = {}
        self.posts: dict[str, list[Reply]] = defaultdict(list)
        self.reads: list[str] = []

    def add(self, channel_id: str, name: str, members: set[str], messages: list[Message]) -> None:
        self.channels[channel_id] = (name, members, messages)

    def channel(self, target: str) -> ChannelRef:
        for channel_id, (name, _, _) in self.channels.items():
            if target.removeprefix("#") in (channel_id, name):
                return ChannelRef(channel_id, name)
        raise ConfigError(f"no channel {target}")

    def members(self, channel_id: str, *, where: str) -> frozenset[str]:
        return frozenset(self.channels[channel_id][1])

    def activity(self, channel_id: str, *, oldest: float, where: str) -> Activity:
        self.reads.append(channel_id)
        new = [m for m in self.channels[channel_id][2] if float(m.ts) > oldest]
        return Activity(channel_id, new, newest_ts=max((m.ts for m in new), key=float, default=None))

    def link(self, channel_id: str, ts: str, label: str) -> str:
        return f"<https://chat.example/{channel_id}/{ts}|{label}>"

    def post(self, to: str, reply: Reply) -> None:
        self.posts[to].append(reply)


@pytest.fixture
def chat() -> Chat:
    chat = Chat()
    chat.add("C0TEAM", "team", {"UUSER001", "UMEMBER2"}, [
        Message("UMEMBER2", "We decided to ship the new onboarding on Friday.", ts(600)),
        Message("UUSER001", "Who writes the release notes for it?", ts(500)),
    ])
    return chat


def test_the_decision_rules_keep_their_measured_held_out_scores():
    held_out = scores(sentences("test"))
    assert held_out["decision"]["precision"] >= 0.95 and held_out["decision"]["recall"] >= 0.85, held_out
    assert held_out["question"]["precision"] >= 0.95 and held_out["question"]["recall"] >= 0.95, held_out
    assert len(sentences("test")) == 63 and len(sentences()) == 190  # the split bench/recaps.md reports on


def test_a_subscriber_gets_what_is_new_through_the_source_the_scheduler_was_given(tmp_path, chat):
    assert isinstance(chat, RecapSource)
    scheduler = Scheduler(load_config(write_config(tmp_path, "")), recap_source=lambda config, team: chat)
    subscribe(scheduler, Subscription("UUSER001", "C0TEAM", "team", "daily", "", "09:00", "Europe/Berlin"))
    ran = scheduler.run_now("recap-UUSER001-C0TEAM")
    assert ran.startswith("#team: 2 new message(s) since ") and ran.endswith("; sent to 1 reader(s)")
    [recap] = chat.posts["UUSER001"]
    assert recap.title == "Recap of #team" and "2 new message(s)" in recap.footer
    decision, question = chat.channels["C0TEAM"][2]
    assert (f"*Decisions*\n• {decision.text} <https://chat.example/C0TEAM/{decision.ts}|link>" in recap.text)
    assert f"*Open questions*\n• {question.text} <https://chat.example/C0TEAM/{question.ts}|link>" in recap.text
    assert recap.data["message_refs"] == [{"channel": "C0TEAM", "ts": decision.ts},
                                          {"channel": "C0TEAM", "ts": question.ts}]

    chat.channels["C0TEAM"][2].append(Message("UMEMBER2", "Ana writes the release notes.", ts(60)))
    assert "#team: 1 new message(s)" in scheduler.run_now("recap-UUSER001-C0TEAM")
    assert "onboarding" not in chat.posts["UUSER001"][-1].text  # only what is new since the last recap
    assert "nothing sent" in scheduler.run_now("recap-UUSER001-C0TEAM")
    assert len(chat.posts["UUSER001"]) == 2 and list(chat.posts) == ["UUSER001"]  # no empty recaps, no one else


def test_a_recap_for_someone_who_left_reads_nothing_and_says_why(tmp_path, chat):
    scheduler = Scheduler(load_config(write_config(tmp_path, "")), recap_source=lambda config, team: chat)
    subscribe(scheduler, Subscription("UMEMBER2", "C0TEAM", "team", "weekly", "mon", "08:30", "Europe/Berlin"))
    chat.channels["C0TEAM"][1].discard("UMEMBER2")
    assert scheduler.run_now("recap-UMEMBER2-C0TEAM") == "skipped: UMEMBER2 is not a member of #team"
    assert chat.reads == [] and not chat.posts
    assert "Paused: you are no longer a member of #team" in listing(scheduler, "UMEMBER2")


def test_a_scheduler_given_no_source_lists_recaps_but_refuses_to_run_them(tmp_path):
    config = load_config(write_config(tmp_path, ""))
    subscribe(Scheduler(config), Subscription("UUSER001", "C0TEAM", "team", "daily", "", "07:15", "Asia/Tokyo"))
    scheduler = Scheduler(config)
    [job] = [job for job in scheduler.describe() if job.id == "recap-UUSER001-C0TEAM"]
    assert job.action == "recap" and job.target == "#team for UUSER001" and job.timezone == "Asia/Tokyo"
    with pytest.raises(NlpbotError, match="given no recap source, so it cannot run recaps"):
        scheduler.run_now("recap-UUSER001-C0TEAM")
    assert scheduler.last_runs()["recap-UUSER001-C0TEAM"][1] == "failed"


def test_a_recap_stays_at_nine_local_across_daylight_saving(tmp_path):
    sub = Subscription("UUSER001", "C0INCID", "incidents", *parse_schedule(["daily", "9:00"])[:3], "America/New_York")
    spec = sub.spec()
    trigger = cron_trigger(spec.cron, spec.timezone)  # as the scheduler makes it: the cron in the person's zone
    saturday = dt.datetime(2026, 3, 7, 15, 0, tzinfo=dt.timezone.utc)  # DST starts in New York on Sunday 8 March
    runs = [trigger.get_next_fire_time(None, saturday)]
    for _ in range(2):
        runs.append(trigger.get_next_fire_time(runs[-1], runs[-1] + dt.timedelta(seconds=1)))
    assert [run.strftime("%d %H:%M %Z") for run in runs] == ["08 09:00 EDT", "09 09:00 EDT", "10 09:00 EDT"]
    assert [run.astimezone(dt.timezone.utc).hour for run in runs] == [13, 13, 13]
    assert trigger.get_next_fire_time(None, saturday - dt.timedelta(days=1)).astimezone(dt.timezone.utc).hour == 14

    config = load_config(write_config(tmp_path, ""))
    scheduler = Scheduler(config)
    subscribe(scheduler, sub)
    scheduler.start()
    scheduler.shutdown()
    table = jobs_table(Scheduler(config).describe())
    assert "recap-UUSER001-C0INCID" in table and " 09:00 E" in table  # 09:00 EST or EDT: their time, not UTC
    assert parse_schedule(["weekly", "Monday", "17:30", "--verbose"]) == ("weekly", "mon", "17:30", True)
    with pytest.raises(UserInputError, match="When should the recap come"):
        parse_schedule(["hourly"])
