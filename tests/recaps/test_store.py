"""The recap store's contract on both stores: SQLite beside one replica's jobs, and a real Redis every replica shares
(two handles on it are two replicas); and the job list's last runs, shared the same way."""

from __future__ import annotations

import time

import pytest

from bot.joblist import RedisJobRuns, SQLiteJobRuns
from bot.recaps.store import RedisRecapStore, SQLiteRecapStore, Subscription


@pytest.fixture(params=["sqlite", "redis"])
def handles(request, tmp_path, redis_server):
    """Two handles on one store, as two replicas (or a replica and `nlpbot jobs list`) hold them."""
    if request.param == "sqlite":
        return SQLiteRecapStore(tmp_path / "jobs.sqlite"), SQLiteRecapStore(tmp_path / "jobs.sqlite")
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    return RedisRecapStore(redis.Redis.from_url(redis_server.url)), RedisRecapStore(redis.Redis.from_url(redis_server.url))


def sub(user: str, channel: str, team: str = "T1") -> Subscription:
    return Subscription(user, channel, channel.lower(), "daily", "", "09:00", "Europe/Berlin", team=team)


def test_what_one_replica_stores_the_other_reads(handles):
    here, there = handles
    here.save(sub("U1", "C1"))
    time.sleep(0.01)
    here.save(sub("U2", "C1", team="T2"))
    here.save(sub("U1", "C2"))
    assert [s.id for s in there.all()] == ["recap-U1-C1", "recap-U2-C1", "recap-U1-C2"]  # in the order made
    assert [s.channel_id for s in there.of("U1")] == ["C1", "C2"]
    assert there.get("recap-U2-C1") == sub("U2", "C1", team="T2") and there.get("recap-U9-C9") is None
    here.set_note("recap-U1-C1", "Paused: you left #c1.")
    assert there.get("recap-U1-C1").note == "Paused: you left #c1."
    here.set_mark("recap-U1-C1", "1700000000.000100")
    assert there.mark("recap-U1-C1") == "1700000000.000100" and there.mark("recap-U1-C2") is None
    assert there.remove("recap-U1-C1") is True and there.remove("recap-U1-C1") is False
    assert here.get("recap-U1-C1") is None and here.mark("recap-U1-C1") is None


def test_a_workspace_that_leaves_takes_only_its_own_subscriptions(handles):
    here, there = handles
    for user, team in (("U1", "T1"), ("U2", "T2"), ("U3", "T1")):
        here.save(sub(user, "C1", team=team))
    gone = there.remove_team("T1")
    assert sorted(s.user for s in gone) == ["U1", "U3"]
    assert [s.user for s in here.all()] == ["U2"]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_the_last_run_of_a_job_is_the_same_for_every_replica(kind, tmp_path, redis_server):
    if kind == "sqlite":
        here, there = SQLiteJobRuns(tmp_path / "jobs.sqlite"), SQLiteJobRuns(tmp_path / "jobs.sqlite")
    else:
        import redis

        redis.Redis.from_url(redis_server.url).flushdb()
        here, there = (RedisJobRuns(redis.Redis.from_url(redis_server.url)) for _ in range(2))
    here.record("nightly", 1.0, 2.0, "failed", "index docs: no such folder")
    here.record("nightly", 3.0, 4.0, "ok", "docs: 1 added")
    here.record("recap-U1-C1", 5.0, 6.0, "ok", "#c1: 2 new message(s)")
    assert there.last() == {"nightly": (4.0, "ok", "docs: 1 added"), "recap-U1-C1": (6.0, "ok", "#c1: 2 new message(s)")}
    there.forget(["recap-U1-C1"])
    assert set(here.last()) == {"nightly"}


def test_a_shared_store_that_cannot_be_reached_says_so(make_config):
    import subprocess
    import sys

    from tests.support.bots import ROOT
    from tests.support.redisserver import free_port

    config = make_config(f'[state]\nredis_url = "redis://127.0.0.1:{free_port()}/0"')  # nothing listens there
    listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 3, listed.stderr
    assert "cannot reach Redis ([state] redis_url) for the jobs' last runs" in listed.stderr
    assert "Traceback" not in listed.stderr
