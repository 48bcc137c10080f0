"""Two `nlpbot run --adapter http` replicas behind one real Redis: a retried event, a double submit and a
scheduled job are each handled once across both; a person's recap subscription is listed alike by both and runs
once; a promotion on the shared models folder reaches both."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.models import versions
from bot.state import InProcessState, RedisState
from tests.support.bots import ROOT, SIGNING_SECRET, write_config
from tests.support.fakeslack import BOT_USER_ID
from tests.support.replicas import job_slots, settled_job_slots, start_replicas
from tests.support.signing import event_body, signed_headers
from tests.support.tinymodels import tiny_text_classifier
from tests.support.slackhttp import post, slash, wait_until

JOB_EVERY_S = 3
FIRST, SECOND = "v0001-20261129T1000", "v0002-20261129T1100"
SERVING = """
[bot]
admins = ["UADMIN01"]
[plugins.sentiment]
model = "trained:sentiment"
batch_size = 8
max_wait_ms = 2
"""


@pytest.mark.parametrize("store", ["in-process", "redis"])
def test_the_state_contract_set_if_absent_with_a_ttl(store, redis_server):
    state = InProcessState(60) if store == "in-process" else RedisState(redis_server.url, 60)
    key = ("event", f"Ev-{store}-{time.time()}")
    assert state.seen(key) is False
    assert state.seen(key) is True
    assert state.seen(("short", key), ttl=0.2) is False
    time.sleep(0.4)
    assert state.seen(("short", key), ttl=0.2) is False, "a key is forgotten after its ttl"
    assert state.claim(f"job:{key}", ttl=60) is True
    assert state.claim(f"job:{key}", ttl=60) is False


@pytest.fixture(scope="module")
def shared(tmp_path_factory, tiny_sentiment) -> Path:
    """The volume both replicas mount: models/ (FIRST serves) and a docs folder for the scheduled job."""
    shared = tmp_path_factory.mktemp("shared")
    shutil.copytree(tiny_sentiment, shared / "models" / "sentiment" / FIRST)
    versions.promote(shared / "models", "sentiment", FIRST)
    (shared / "docs").mkdir()
    (shared / "docs" / "lunch.txt").write_text("The cafeteria serves lunch from noon to two.", encoding="utf-8")
    return shared


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, shared, tiny_sentiment, module_fake_slack, redis_server):
    tables = textwrap.dedent(f"""
        [state]
        redis_url = "{redis_server.url}"
        [search]
        indexes_dir = "{shared / 'indexes'}"
        embedding_model = "{tiny_sentiment}"  # a tiny BERT (mean pooled): the job costs no MiniLM load
        [models]
        models_dir = "{shared / 'models'}"
        [schedule]
        misfire_grace_s = 30
        model_check_s = 1
        [[schedule.jobs]]
        id = "docs-often"
        action = "reindex"
        target = "docs"
        cron = "*/{JOB_EVERY_S} * * * * *"
        paths = ["{shared / 'docs'}"]
    """)
    configs = []
    for name in ("replica-a", "replica-b"):  # each its own folder: its own job store and log
        folder = tmp_path_factory.mktemp(name)
        configs.append(write_config(folder, SERVING + tables))
    servers = start_replicas(configs, module_fake_slack)
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_retried_event_sent_to_both_replicas_is_answered_once(replicas, module_fake_slack):
    event = {"type": "app_mention", "user": "UUSER001", "text": f"<@{BOT_USER_ID}> sentiment two replicas",
             "ts": "1700000900.000100", "channel": "C0GENERAL", "event_ts": "1700000900.000100"}
    body = event_body(event, event_id="Ev0REPLICA1")
    for attempt, server in enumerate(replicas + replicas):
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
        if attempt:
            headers.update({"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"})
        assert post(server.url, body, headers)[0] == 200
    module_fake_slack.wait_for("/api/chat.postMessage", where=lambda c: c.body.get("thread_ts") == event["ts"],
                               timeout=90)
    time.sleep(1.5)
    answers = [c for c in module_fake_slack.calls_to("/api/chat.postMessage") if c.body.get("thread_ts") == event["ts"]]
    assert len(answers) == 1


def test_a_double_submit_landing_on_both_replicas_is_answered_once(replicas, module_fake_slack):
    for server in replicas:
        assert slash(server, module_fake_slack, "/sentiment", "clicked twice", name="twice")[0] == 200
    module_fake_slack.wait_for("/response/twice", timeout=120)  # the first answer loads the model
    time.sleep(1.5)
    assert len(module_fake_slack.calls_to("/response/twice")) == 1


def test_a_scheduled_job_runs_once_across_both_replicas(replicas):
    deadline = time.monotonic() + 10 * JOB_EVERY_S
    ran, skipped = job_slots(replicas, "docs-often")
    while not skipped[0] | skipped[1] and time.monotonic() < deadline:  # slots that both replicas fired
        time.sleep(0.5)
        ran, skipped = job_slots(replicas, "docs-often")
    ran, skipped = settled_job_slots(replicas, "docs-often")
    assert ran[0] | ran[1], "the job never ran"
    assert skipped[0] | skipped[1], "both replicas should have fired the same slot"
    assert not ran[0] & ran[1], f"both replicas ran the slots {sorted(ran[0] & ran[1])}"
    assert skipped[0] <= ran[1] and skipped[1] <= ran[0], "a skipped slot was run by the other replica"


def test_a_version_promoted_on_the_shared_folder_serves_on_both_replicas(replicas, shared, module_fake_slack):
    for n, server in enumerate(replicas):  # each replica loads the serving version
        assert slash(server, module_fake_slack, "/sentiment", f"warm up {n}", name=f"warm-{n}")[0] == 200
        module_fake_slack.wait_for(f"/response/warm-{n}", timeout=90)
    tiny_text_classifier(shared / "models" / "sentiment" / SECOND, seed=1)
    versions.promote(shared / "models", "sentiment", SECOND)  # as `nlpbot models promote` does on any host
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(f"now serving sentiment {SECOND}" in s.log.read_text()
                                                  for s in replicas):
        time.sleep(0.5)
    assert all(f"now serving sentiment {SECOND} (was {FIRST})" in server.log.read_text() for server in replicas)


def ask(server, fake, text: str, *, name: str, user: str = "UUSER001") -> str:
    assert slash(server, fake, "/summarize", text, name=name, user=user)[0] == 200
    [answer] = fake.wait_for(f"/response/{name}", timeout=90)
    return answer.body["text"]


def jobs_listed(server) -> dict[str, dict]:
    """`nlpbot jobs list --json` run beside a replica, with its config: what that replica's host shows."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--json", "--config",
                             str(server.log.parent / "config.toml")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    return {job["id"]: job for job in json.loads(listed.stdout)}


def test_a_recap_subscribed_on_one_replica_is_listed_by_both_and_runs_once(replicas, module_fake_slack):
    fake, (first, second) = module_fake_slack, replicas
    fake.add_channel("C0SHARED", "shared-news", members=["UUSER001"])
    fake.set_timezone("UUSER001", "UTC")
    fake.history["C0SHARED"] = [{"type": "message", "user": "UUSER001", "ts": f"{time.time() - 300:.6f}",
                                 "text": "The office closes early on Friday for the summer party."}]
    due = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    if (due - dt.datetime.now(dt.timezone.utc)).total_seconds() < 30:  # time to subscribe and list first
        due += dt.timedelta(minutes=1)
    answer = ask(first, fake, f"subscribe <#C0SHARED|shared-news> daily {due:%H:%M}", name="replica-sub")
    assert f"Subscribed: a recap of #shared-news daily at {due:%H:%M} (UTC)" in answer
    listings = [ask(server, fake, word, name=f"replica-list-{n}") for n, (server, word)  # two words: no double submit
                in enumerate(zip(replicas, ("list", "LIST")))]
    assert listings[0] == listings[1] and f"#shared-news: daily at {due:%H:%M} (UTC); next" in listings[0]
    assert all("recap-UUSER001-C0SHARED" in jobs_listed(server) for server in replicas)

    job = "recap-UUSER001-C0SHARED"
    recaps = lambda: [m for m in fake.posts("DUSER001") if "Recap of #shared-news" in json.dumps(m["blocks"])]  # noqa: E731
    wait_until(lambda: recaps(), timeout=(due - dt.datetime.now(dt.timezone.utc)).total_seconds() + 150)
    time.sleep(3.0)  # the other replica fired the same slot by now
    fired = [line.rsplit(": ", 1)[-1] for server in replicas for line in server.log.read_text().splitlines()
             if f"job {job} (slot " in line]
    assert sorted(fired) == ["another replica runs it", "running it here"], fired  # both fired it, one ran it
    assert len(recaps()) == 1
    assert "summer party" in json.dumps(recaps()[0]["blocks"])
    shown = [jobs_listed(server)[job] for server in replicas]
    assert shown[0] == shown[1] and shown[0]["last_status"] == "ok" and "sent to 1 reader(s)" in shown[0]["last_message"]

    assert "Unsubscribed" in ask(second, fake, "unsubscribe <#C0SHARED|shared-news>", name="replica-unsub")
    assert "You have no recaps" in ask(first, fake, "list", name="replica-list-after")
    assert all(job not in jobs_listed(server) for server in replicas)
