"""Two replicas behind a real Redis that is killed mid-test and started again: commands and events are still
answered, /healthz and /metrics say what is degraded and since when, the outage is logged once, the replicas
reconnect without a restart, and once Redis is back every job slot runs once."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.support.bots import SIGNING_SECRET, sentiment_config, write_config
from tests.support.fakeslack import BOT_USER_ID
from tests.support.redisserver import RedisServer
from tests.support.replicas import job_slots, settled_job_slots, slot_time, start_replicas
from tests.support.signing import event_body, signed_headers
from tests.support.slackhttp import post, slash, wait_until

JOB = "docs-often"


def get(server, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(server.base + path, timeout=10) as response:
        return response.status, response.read().decode()


def health(server) -> dict:
    status, text = get(server, "/healthz")
    assert status == 200  # degraded is still up: a load balancer keeps sending work
    return json.loads(text)


def metric(server, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(get(server, "/metrics")[1]):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def answered(fake, server, text: str, *, name: str, user: str = "UUSER001") -> None:
    assert slash(server, fake, "/sentiment", text, name=name, user=user)[0] == 200
    [answer] = fake.wait_for(f"/response/{name}", timeout=90)
    assert text in answer.body["text"]


def test_redis_killed_and_restarted_under_two_replicas(tmp_path_factory, tiny_sentiment, module_fake_slack):
    fake = module_fake_slack
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"))
    shared = tmp_path_factory.mktemp("shared")
    (shared / "docs").mkdir()
    (shared / "docs" / "lunch.txt").write_text("The cafeteria serves lunch from noon to two.", encoding="utf-8")
    tables = textwrap.dedent(f"""
        [plugins.translate]
        enabled = false  # no model for it here: it would be a problem of its own on /healthz
        [state]
        redis_url = "{redis_server.url}"
        retry_s = 0.5
        [search]
        indexes_dir = "{shared / 'indexes'}"
        embedding_model = "{tiny_sentiment}"
        [schedule]
        misfire_grace_s = 30
        [[schedule.jobs]]
        id = "{JOB}"
        action = "reindex"
        target = "docs"
        cron = "*/2 * * * * *"
        paths = ["{shared / 'docs'}"]
    """)
    configs = [write_config(tmp_path_factory.mktemp(name), sentiment_config(tiny_sentiment, "max_wait_ms = 2") + tables)
               for name in ("outage-a", "outage-b")]
    replicas = start_replicas(configs, fake)
    try:
        for n, server in enumerate(replicas):
            answered(fake, server, f"before the outage {n}", name=f"before-{n}")
        assert all(health(server)["status"] == "ok" for server in replicas)

        redis_server.kill()
        killed_at = time.time()
        for n, server in enumerate(replicas):  # every command is still answered, on either replica
            answered(fake, server, f"during the outage {n}", name=f"during-{n}", user=f"UOUT{n:04d}")
        event = {"type": "app_mention", "user": "UUSER001", "text": f"<@{BOT_USER_ID}> sentiment Redis is down",
                 "ts": "1700003000.000100", "channel": "C0GENERAL", "event_ts": "1700003000.000100"}
        body = event_body(event, event_id="Ev0OUTAGE1")
        for attempt in range(2):  # Slack's retry lands on the same replica: this process de-duplicates it alone
            headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
            if attempt:
                headers.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
            assert post(replicas[0].url, body, headers)[0] == 200
        fake.wait_for("/api/chat.postMessage", where=lambda c: c.body.get("thread_ts") == event["ts"], timeout=90)

        for server in replicas:
            report = health(server)
            assert report["status"] == "degraded" and [p["source"] for p in report["problems"]] == ["state"]
            [problem] = report["problems"]
            assert f"Redis at {redis_server.url} is unreachable" in problem["detail"]
            assert killed_at - 1 <= dt.datetime.fromisoformat(problem["since"]).timestamp() <= time.time()
            assert metric(server, "nlpbot_degraded", source="state") == 1
            assert metric(server, "nlpbot_state_outages_total") == 1
            assert metric(server, "nlpbot_state_fallbacks_total", operation="seen") >= 1
        wait_until(lambda: any(slot_time(s) > killed_at for ran in job_slots(replicas, JOB)[0] for s in ran), 30)

        redis_server.start()  # the same port, empty: nothing was persisted
        restarted_at = time.time()
        wait_until(lambda: all(health(server)["status"] == "ok" for server in replicas), 30)  # no restart needed
        assert all(metric(server, "nlpbot_degraded", source="state") == 0 for server in replicas)
        for server in replicas:  # a double submit landing on both replicas is shared again: answered once
            assert slash(server, fake, "/sentiment", "clicked twice after the outage", name="twice-after")[0] == 200
        fake.wait_for("/response/twice-after", timeout=90)
        time.sleep(1.0)  # a second answer would have come by now

        def skipped_since() -> set[str]:  # slots both replicas fired since Redis came back: one of them skipped
            return {slot for slots in job_slots(replicas, JOB)[1] for slot in slots if slot_time(slot) > restarted_at}

        wait_until(lambda: len(skipped_since()) >= 2, 60)
        ran, skipped = settled_job_slots(replicas, JOB, since=restarted_at)
        assert not ran[0] & ran[1], f"slots ran on both replicas after Redis came back: {sorted(ran[0] & ran[1])}"
        assert skipped[0] <= ran[1] and skipped[1] <= ran[0], "a slot nobody ran"
        assert len(fake.calls_to("/response/twice-after")) == 1
        assert len([c for c in fake.calls_to("/api/chat.postMessage") if c.body.get("thread_ts") == event["ts"]]) == 1
    finally:
        for server in replicas:
            server.stop()
        redis_server.stop()
    for server in replicas:  # said once each way, however many calls failed in between
        log = server.log.read_text()
        assert log.count("is unreachable") == 1 and log.count("is back after") == 1, log[-3000:]
