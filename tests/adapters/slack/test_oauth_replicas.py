"""Several workspaces on two replicas behind one real Redis: an install started on one replica finishes on the
other, both answer the new workspace with its token, and an uninstall that reaches one ends it on both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.bots import ROOT, BotServer, sentiment_config, write_config
from tests.support.redisserver import RedisServer
from tests.support.slackhttp import deliver, slash, wait_until
from tests.support.slackoauth import CLIENT_ID, install, mention_from

OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret-for-tests"}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, tiny_sentiment, module_fake_slack):
    redis_server = RedisServer(tmp_path_factory.mktemp("redis-oauth"))
    module_fake_slack.add_channel("C0TEAM", "team", members=["UPERSON1"])  # where mention_from asks
    tables = sentiment_config(tiny_sentiment, textwrap.dedent(f"""
        [state]
        redis_url = "{redis_server.url}"
    """))
    configs = [write_config(tmp_path_factory.mktemp(name), tables) for name in ("oauth-a", "oauth-b")]
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(BotServer, config, module_fake_slack, env=OAUTH) for config in configs]
    servers = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()
        yield servers
    finally:
        for server in servers:
            server.stop()
        redis_server.stop()


def answered(fake, ts: str) -> list:
    return [c for c in fake.calls_to("/api/chat.postMessage") if c.body.get("thread_ts") == ts]


def test_an_install_and_an_uninstall_reach_every_replica(replicas, module_fake_slack):
    fake, (first, second) = module_fake_slack, replicas
    done, _, _ = install(first, fake, "T0031", "xoxb-team-31", back_to=second)  # the load balancer switched replicas
    assert done.status == 200, done.body
    for n, server in enumerate(replicas):
        ts = f"17000050{n:02d}.000100"
        assert mention_from(server, "T0031", ts=ts, event_id=f"Ev0REPL{n}") == 200
        wait_until(lambda ts=ts: answered(fake, ts), timeout=90)
        assert answered(fake, ts)[0].headers["Authorization"] == "Bearer xoxb-team-31"

    fake.set_timezone("UPERSON1", "UTC")
    slash(first, fake, "/summarize", "subscribe <#C0TEAM|team> daily 09:00", name="oauth-sub", user="UPERSON1",
          team="T0031")
    [subscribed] = fake.wait_for("/response/oauth-sub", timeout=90)
    assert "Subscribed" in subscribed.body["text"]

    deliver(second, {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}, team="T0031")
    wait_until(lambda: "Slack workspace T0031 uninstalled the app" in second.log.read_text(), timeout=30)
    assert "its installation, 1 recap subscription(s)" in second.log.read_text()
    env = {**os.environ, **OAUTH, "PYTHONPATH": str(ROOT)}
    listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--json", "--config",
                             str(first.log.parent / "config.toml")], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and "recap-UPERSON1-C0TEAM" not in {j["id"] for j in json.loads(listed.stdout)}
    assert mention_from(first, "T0031", ts="1700005099.000100", event_id="Ev0REPLGONE") == 200
    time.sleep(1.5)  # the other replica no longer knows the workspace either: nothing is answered
    assert answered(fake, "1700005099.000100") == []
