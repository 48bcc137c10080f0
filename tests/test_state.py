"""Shared state with a real Redis that dies and comes back: answers go on, the outage is said once, nothing runs twice."""

from __future__ import annotations

import logging
import time

import pytest
import redis
from prometheus_client import REGISTRY

from bot import health
from bot.errors import ConfigError
from bot.state import RedisState
from tests.support.redisserver import RedisServer, free_port


def fallbacks(operation: str) -> float:
    return REGISTRY.get_sample_value("nlpbot_state_fallbacks_total", {"operation": operation}) or 0.0


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_redis_killed_mid_use_answers_on_and_gets_back_what_happened_meanwhile(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.state")
    server = RedisServer(tmp_path)
    state = RedisState(server.url, 60, retry_s=0.2)
    other_replica = redis.Redis.from_url(server.url)
    try:
        assert state.seen(("event", "Ev1")) is False
        assert state.claim("job:docs:slot-1", ttl=60) is True
        seen_before, claims_before = fallbacks("seen"), fallbacks("claim")

        server.kill()
        started = time.monotonic()
        assert state.seen(("event", "Ev1")) is True  # answered before the outage: still a repeat
        assert [state.seen(("event", "Ev2")), state.seen(("event", "Ev2"))] == [False, True]
        assert [state.claim("job:docs:slot-2", ttl=60), state.claim("job:docs:slot-2", ttl=60)] == [True, False]
        assert time.monotonic() - started < 2.0, "a dead Redis must not hold up the calls"
        assert (fallbacks("seen") - seen_before, fallbacks("claim") - claims_before) == (3, 2)
        [problem] = health.problems()
        assert problem.source == "state" and f"Redis at {server.url} is unreachable" in problem.detail
        assert problem.to_dict()["since"].endswith("+00:00") and state.degraded

        server.start()  # empty: a Redis without persistence forgets everything
        wait_until(lambda: not state.degraded)
        assert health.problems() == []
        # another replica now finds taken what this one claimed, before the outage and during it
        for slot in ("job:docs:slot-1", "job:docs:slot-2"):
            assert other_replica.set(f"nlpbot:claim:{slot}", b"1", nx=True, px=60_000) is None, slot
        assert state.claim("job:docs:slot-3", ttl=60) is True and other_replica.exists("nlpbot:claim:job:docs:slot-3")
        assert state.seen(("event", "Ev2")) is True
    finally:
        state.close()
        server.stop()
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.state"]
    assert len([line for line in lines if "is unreachable" in line]) == 1, lines  # once, however many calls
    assert len([line for line in lines if "is back after" in line]) == 1, lines


def test_a_redis_down_at_start_is_a_degraded_start_not_a_failed_one(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"  # nothing listens there yet
    state = RedisState(url, 60, retry_s=0.2)
    try:
        assert state.degraded and [p.source for p in health.problems()] == ["state"]
        assert [state.seen("double submit"), state.seen("double submit")] == [False, True]
        server = RedisServer(tmp_path, port=port)  # Redis comes up later
        try:
            wait_until(lambda: not state.degraded)
            assert redis.Redis.from_url(url).keys("nlpbot:seen:*")  # the start's keys, written back
        finally:
            server.stop()
    finally:
        state.close()
    assert health.problems() == []


def test_a_url_that_is_not_redis_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\[state\] redis_url is not a Redis URL"):
        RedisState("http://cache:6379", 60)
