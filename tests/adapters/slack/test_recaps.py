"""Channel recaps as a subscriber meets them in Slack: subscribe, get only what is new, linked, at their local time.

The recaps read and post through Slack's RecapSource (bot.adapters.slack.recaps), against the fake Web API."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import subprocess
import sys
import time

import pytest

from bot.adapters.slack.recaps import SlackRecapSource, recap_source
from bot.config import load_config
from bot.errors import ConfigError, NlpbotError
from bot.recaps import RecapSource, Subscription, listing, subscribe
from bot.request import ChannelRef
from bot.scheduler import Scheduler
from tests.support.bots import BOT_TOKEN, ROOT, BotServer, sentiment_config, write_config
from tests.support.slackhttp import slash, wait_until

NOW = time.time()


def msg(ago_s: float, text: str, user: str = "UUSER001", **extra) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": f"{int(NOW - ago_s)}.000100", **extra}


def link(message: dict) -> str:
    return f"/p{message['ts'].replace('.', '')}"


OLD = msg(3 * 86400, "Last week we talked about the staging database being slow.")
PARENT = msg(5000, "The payments API returned errors for ten minutes after the deploy.", reply_count=2,
             latest_reply=f"{int(NOW - 4800)}.000100")
REPLIES = [msg(4900, "I rolled the deploy back and the errors stopped.", user="UMEMBER2", thread_ts=PARENT["ts"]),
           msg(4800, "We decided to add a canary stage before every payments deploy.", thread_ts=PARENT["ts"])]
OLD_THREAD = [msg(2 * 86400, "Who can own the certificate renewal for the public site?", reply_count=2,
                 latest_reply=f"{int(NOW - 1000)}.000100")]
OLD_THREAD += [msg(2 * 86400 - 60, "Not me, I am travelling all week.", user="UMEMBER2", thread_ts=OLD_THREAD[0]["ts"]),
               msg(1000, "I renewed the certificate this morning, it is valid until March.", user="UMEMBER2",
                   thread_ts=OLD_THREAD[0]["ts"])]
NEW = [
    msg(4000, "Can someone check whether refunds were affected during the outage?", user="UMEMBER2"),
    msg(3500, "Deploys are frozen until Monday while the canary stage is built."),
    msg(3400, "Daily digest: 4 alerts fired", user="", bot_id="B0OTHER", subtype="bot_message"),
    msg(3300, "<@UNEWBIE1> has joined the channel", user="UNEWBIE1", subtype="channel_join"),
]


@pytest.fixture(scope="module")
def slack(module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0INCID", "incidents", members=["UUSER001", "UMEMBER2"])
    fake.history["C0INCID"] = sorted([OLD, OLD_THREAD[0], PARENT, *NEW], key=lambda m: -float(m["ts"]))  # newest first
    fake.replies[("C0INCID", PARENT["ts"])] = [PARENT, *REPLIES]
    fake.replies[("C0INCID", OLD_THREAD[0]["ts"])] = OLD_THREAD
    fake.add_channel("C0DEALS", "deals", members=["UMEMBER2"], private=True)
    fake.set_timezone("UUSER001", "America/New_York")
    fake.set_timezone("UMEMBER2", "Europe/Berlin")
    return fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_sentiment, slack):
    folder = tmp_path_factory.mktemp("recaps")
    config = write_config(folder, sentiment_config(tiny_sentiment, "max_wait_ms = 2\n[slack]\nmembership_ttl_s = 0\ndouble_submit_s = 0"))
    bot = BotServer(config, slack)
    yield bot, config
    bot.stop()


def ask(server, fake, text: str, *, name: str, user: str = "UUSER001") -> dict:
    slash(server, fake, "/summarize", text, name=name, user=user)
    [reply] = fake.wait_for(f"/response/{name}", timeout=60)
    return reply.body


def cli(config, fake, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.api_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_a_non_member_cannot_subscribe_to_a_private_channel(server, slack):
    bot, _ = server
    refused = ask(bot, slack, "subscribe <#C0DEALS|deals> daily 09:00", name="sub-outsider", user="UOUTSIDE1")
    assert refused["response_type"] == "ephemeral" and "not a member of #deals" in refused["text"]
    assert "no recaps" in ask(bot, slack, "list", name="list-outsider", user="UOUTSIDE1")["text"]
    assert not [c for c in slack.calls_to("/api/conversations.history") if c.body.get("channel") == "C0DEALS"]


def test_subscribe_then_jobs_run_sends_only_the_new_messages_with_links(server, slack, local):
    bot, config = server
    dms = len(slack.posts("DUSER001"))  # other tests' recaps may have reached this reader already
    answer = ask(bot, slack, "subscribe <#C0INCID|incidents> daily 09:00", name="sub-incidents")
    assert answer["response_type"] == "ephemeral"
    assert "Subscribed: a recap of #incidents daily at 09:00 (America/New_York)" in answer["text"]
    assert ("EST" in answer["text"]) or ("EDT" in answer["text"])  # the next run, in their own timezone

    listed = cli(config, slack, "jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [job] = [job for job in json.loads(listed.stdout) if job["id"] == "recap-UUSER001-C0INCID"]
    assert job["action"] == "recap" and job["timezone"] == "America/New_York" and job["cron"] == "0 9 * * *"
    assert "T09:00:00" in job["next_run"] and job["next_run"][-6:] in {"-05:00", "-04:00"}
    assert "#incidents for UUSER001" in cli(config, slack, "jobs", "list").stdout

    ran = cli(config, slack, "jobs", "run", "recap-UUSER001-C0INCID")
    assert ran.returncode == 0, ran.stderr
    assert "#incidents: 6 new message(s)" in ran.stdout and "sent to 1 reader(s)" in ran.stdout
    [recap] = slack.posts("DUSER001")[dms:]
    shown = json.dumps(recap["blocks"])
    assert "Recap of #incidents" in shown
    for part in ("*Summary*", "*Busiest threads*", "(2 new replies)", "*Decisions*",
                 "We decided to add a canary stage", "*Open questions*", "whether refunds were affected"):
        assert part in shown, part
    assert link(PARENT) in shown and link(REPLIES[1]) + "?thread_ts=" in shown and link(NEW[0]) in shown
    assert link(OLD) not in shown and "staging database" not in shown  # before the window: not new
    assert link(OLD_THREAD[0]) + "|link> (1 new replies)" in shown  # an older thread with a new reply
    assert "travelling all week" not in shown  # its old reply is not new
    assert "Daily digest" not in shown and "has joined" not in shown  # bots and joins left out

    slack.history["C0INCID"].insert(0, msg(60, "Refunds were not affected; the ledger shows every one of them."))
    here = Scheduler(load_config(config), bot=local, recap_source=recap_source)  # the same job, in this process
    assert "#incidents: 1 new message(s)" in here.run_now("recap-UUSER001-C0INCID")
    latest = json.dumps(slack.posts("DUSER001")[-1]["blocks"])
    assert "ledger shows every one" in latest and "payments API" not in latest  # only what is new since the last

    quiet = here.run_now("recap-UUSER001-C0INCID")
    assert "0 new message(s)" in quiet and "nothing sent" in quiet
    assert len(slack.posts("DUSER001")) == dms + 2  # no empty recaps by default


def test_a_channel_summary_links_the_messages_it_used(server, slack):
    bot, _ = server
    reply = ask(bot, slack, "<#C0INCID|incidents>", name="summary-links")
    assert "_Sources:_ <https://example.slack.com/archives/C0INCID/p" in reply["text"]
    used = {url.split("/p")[-1].split("|")[0] for url in reply["text"].split("<https://")[1:]}
    history = {m["ts"].replace(".", "") for m in slack.history["C0INCID"]}
    assert used and used <= history


def test_a_thread_summary_links_the_replies_it_used(server, slack):
    from tests.support.bots import SIGNING_SECRET
    from tests.support.signing import event_body, signed_headers
    from tests.support.slackhttp import post

    bot, _ = server
    event = {"type": "app_mention", "user": "UUSER001", "text": "<@UBOT0001> summarize", "ts": f"{int(NOW)}.000500",
             "thread_ts": PARENT["ts"], "channel": "C0INCID", "event_ts": f"{int(NOW)}.000500"}
    body = event_body(event, event_id="Ev0RECAPTHREAD")
    assert post(bot.url, body, signed_headers(SIGNING_SECRET, body, content_type="application/json"))[0] == 200
    [answer] = slack.wait_for("/api/chat.postMessage", timeout=60,
                              where=lambda c: c.body.get("thread_ts") == PARENT["ts"])
    assert "_Sources:_ <https://example.slack.com/archives/C0INCID/p" in answer.body["text"]
    assert f"?thread_ts={PARENT['ts']}&cid=C0INCID" in answer.body["text"]  # a reply's own permalink


def test_unsubscribe_and_list(server, slack):
    bot, config = server  # a reader of their own, so other tests' subscriptions do not matter
    ask(bot, slack, "subscribe <#C0INCID|incidents> daily 08:30", name="sub-member2", user="UMEMBER2")
    assert "#incidents: daily at 08:30" in ask(bot, slack, "list", name="list-before", user="UMEMBER2")["text"]
    assert "Unsubscribed" in ask(bot, slack, "unsubscribe <#C0INCID|incidents>", name="unsub", user="UMEMBER2")["text"]
    assert "You have no recaps" in ask(bot, slack, "list", name="list-after", user="UMEMBER2")["text"]
    listed = json.loads(cli(config, slack, "jobs", "list", "--json").stdout)
    assert "recap-UMEMBER2-C0INCID" not in {job["id"] for job in listed}
    bad = ask(bot, slack, "subscribe <#C0INCID|incidents> daily 9am", name="sub-bad")
    assert "not a time of day" in bad["text"]


# -- the scheduler in this process (its own job store) -------------------------------------------------


@pytest.fixture(scope="module")
def local(tmp_path_factory, tiny_sentiment, slack):
    """A bot in this process (MiniLM loads once for the module) whose recaps reach the fake Slack."""
    from bot.core import Nlpbot

    path = write_config(tmp_path_factory.mktemp("local"), sentiment_config(tiny_sentiment, "[slack]\nmembership_ttl_s = 0"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        env.setenv("SLACK_API_URL", slack.api_url)
        yield Nlpbot(load_config(path))


def history_reads(fake, channel: str) -> int:
    return len([c for c in fake.calls_to("/api/conversations.history") if c.body.get("channel") == channel])


def miss_the_next_runs(scheduler: Scheduler, *job_ids: str) -> None:
    """Stored next runs ten minutes back, as if the bot had been down then (done while no scheduler runs)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(url=f"sqlite:///{scheduler.db}")
    store.start(scheduler.scheduler, "default")
    for job_id in job_ids:
        job = store.lookup_job(job_id)
        job._modify(next_run_time=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
        store.update_job(job)
    store.shutdown()


def test_a_missed_run_happens_once_at_start_up_and_two_subscribers_share_one_read(local, slack):
    slack.add_channel("C0TEAM2", "team2", members=["UUSER001", "UMEMBER2"])
    slack.history["C0TEAM2"] = [msg(600, "The quarterly planning moves to Thursday afternoon in room four."),
                                msg(700, "Let's go with the blue logo for the conference booth.", user="UMEMBER2")]
    first = Scheduler(local.config, bot=local, recap_source=recap_source)
    for user, zone in (("UUSER001", "America/New_York"), ("UMEMBER2", "Europe/Berlin")):
        subscribe(first, Subscription(user, "C0TEAM2", "team2", "daily", "", "09:00", zone))
    first.start()
    first.shutdown()
    ids = ("recap-UUSER001-C0TEAM2", "recap-UMEMBER2-C0TEAM2")
    miss_the_next_runs(first, *ids)
    before, dms = history_reads(slack, "C0TEAM2"), {u: len(slack.posts(f"D{u[1:]}")) for u in ("UUSER001", "UMEMBER2")}

    restarted = Scheduler(local.config, bot=local, recap_source=recap_source)
    restarted.start()
    try:
        wait_until(lambda: all(job_id in restarted.last_runs() for job_id in ids), timeout=60)
        time.sleep(1.0)  # a second run, if there were one, would have started by now
        runs = restarted.last_runs()
    finally:
        restarted.shutdown()
    assert all(runs[job_id][1] == "ok" and "2 new message(s)" in runs[job_id][2] for job_id in ids)
    assert history_reads(slack, "C0TEAM2") - before == 1  # two subscribers, one read of the channel
    for user in ("UUSER001", "UMEMBER2"):
        posts = slack.posts(f"D{user[1:]}")
        assert len(posts) == dms[user] + 1 and "blue logo" in json.dumps(posts[-1]["blocks"])
    runs_of = [row for row in _job_runs(restarted) if row in ids]
    assert len(runs_of) == 2  # each missed run ran once
    for job_id in ids:
        next_run = restarted.next_runs()[job_id]
        assert next_run > dt.datetime.now(dt.timezone.utc)


def _job_runs(scheduler: Scheduler) -> list[str]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(scheduler.db)) as conn:
        return [row[0] for row in conn.execute("SELECT job_id FROM job_runs")]


def test_someone_who_left_gets_nothing_and_their_subscription_says_why(local, slack):
    slack.add_channel("C0LEFT", "left", members=["UMEMBER2"])
    slack.history["C0LEFT"] = [msg(300, "The vendor contract renewal is due next Friday.")]
    scheduler = Scheduler(local.config, bot=local, recap_source=recap_source)
    subscribe(scheduler, Subscription("UMEMBER2", "C0LEFT", "left", "weekly", "mon", "08:30", "Europe/Berlin"))
    slack.channels["C0LEFT"].members.discard("UMEMBER2")
    posts = len(slack.posts("DMEMBER2"))
    assert scheduler.run_now("recap-UMEMBER2-C0LEFT") == "skipped: UMEMBER2 is not a member of #left"
    assert len(slack.posts("DMEMBER2")) == posts and history_reads(slack, "C0LEFT") == 0
    assert "Paused: you are no longer a member of #left" in listing(scheduler, "UMEMBER2")


def test_channel_wide_recaps_post_only_where_everyone_may_read_the_source(tmp_path, local, slack):
    slack.add_channel("C0OPS", "ops", members=["UUSER001", "UMEMBER2"])
    slack.add_channel("C0OPSLEAD", "ops-leads", members=["UMEMBER2"])
    slack.history["C0OPS"] = [msg(200, "The backup job now runs at two in the morning instead of midnight.")]
    jobs = """
    [[schedule.jobs]]
    id = "ops-to-general"
    action = "recap"
    target = "#ops"
    post_to = "#general"
    cron = "0 9 * * 1-5"
    [[schedule.jobs]]
    id = "ops-to-leads"
    action = "recap"
    target = "#ops"
    post_to = "#ops-leads"
    cron = "0 9 * * 1-5"
    timezone = "Asia/Tokyo"
    """
    config = load_config(write_config(tmp_path, "[slack]\nmembership_ttl_s = 0\n" + jobs))
    scheduler = Scheduler(config, bot=local, recap_source=recap_source)
    with pytest.raises(NlpbotError, match=r"won't post the recap of #ops in #general: 1 of its members are not in "
                                          r"#ops \(UADMIN01\)"):
        scheduler.run_now("ops-to-general")
    assert "sent to 1 reader(s)" in scheduler.run_now("ops-to-leads")
    assert "backup job now runs" in json.dumps(slack.posts("C0OPSLEAD")[-1]["blocks"])
    assert "Asia/Tokyo" in [job.timezone for job in scheduler.describe() if job.id == "ops-to-leads"]

    with pytest.raises(ConfigError, match='a recap needs post_to = "#channel" or "dm"'):
        load_config(write_config(tmp_path, jobs.replace('post_to = "#general"', "")))


def test_slacks_recap_source_is_the_source_bot_recaps_reads(local, slack):
    source = recap_source(local.config)
    assert isinstance(source, SlackRecapSource) and isinstance(source, RecapSource)
    for name in ("channel", "members", "activity", "link", "post"):  # the protocol's methods, argument for argument
        wanted = inspect.signature(getattr(RecapSource, name)).parameters.values()
        given = inspect.signature(getattr(SlackRecapSource, name)).parameters.values()
        assert [(p.name, p.kind) for p in given] == [(p.name, p.kind) for p in wanted], name
    assert source is recap_source(local.config)  # one per process: subscribers recapped together share its reads
    assert source.channel("#incidents") == ChannelRef("C0INCID", "incidents") == source.channel("C0INCID")
    with pytest.raises(ConfigError, match="recap target #nowhere: no such channel that I'm in"):
        source.channel("#nowhere")
