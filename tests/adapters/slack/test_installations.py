"""Workspaces' installations in a real Redis that dies and comes back: a workspace this replica served keeps its
token (so Redis cannot silence it), a workspace it never saw is not made up, /healthz says so while it lasts."""

from __future__ import annotations

import time

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot import health
from bot.adapters.slack.installations import RedisInstallationStore
from bot.config import load_config
from bot.shared import shared_redis
from tests.support.redisserver import RedisServer


def degraded() -> list[health.Problem]:
    return [problem for problem in health.problems() if problem.source == "installations"]


def installation(team: str, token: str) -> Installation:
    return Installation(app_id="A0001", team_id=team, user_id="UINSTALL", bot_token=token, bot_id="B0001",
                        bot_user_id="UBOT0001", bot_scopes=["chat:write"], installed_at=time.time())


def test_a_served_workspace_keeps_its_token_while_redis_is_down_and_redis_is_read_again_after(tmp_path, make_config):
    server = RedisServer(tmp_path)
    config = load_config(make_config(f'[state]\nredis_url = "{server.url}"\nretry_s = 0.2\n'))
    store = RedisInstallationStore(shared_redis(config), client_id="1111.2222", retry_s=config.state.retry_s)
    try:
        store.save(installation("T0SERVED", "xoxb-served"))
        other_replica = RedisInstallationStore(shared_redis(config), client_id="1111.2222")
        other_replica.save(installation("T0ELSEWHERE", "xoxb-elsewhere"))  # installed on the other replica only
        assert store.find_installation(enterprise_id=None, team_id="T0SERVED").bot_token == "xoxb-served"
        assert degraded() == []

        server.kill()
        for _ in range(3):  # every request of that workspace is still authorized, from this replica's copy
            found = store.find_installation(enterprise_id=None, team_id="T0SERVED")
            assert found is not None and found.bot_token == "xoxb-served"
            assert store.find_bot(enterprise_id=None, team_id="T0SERVED").bot_token == "xoxb-served"
        assert store.find_installation(enterprise_id=None, team_id="T0SERVED", user_id="USOMEONE") is None
        [problem] = degraded()
        assert problem.source == "installations" and "unreachable" in problem.detail
        with pytest.raises(Exception) as refused:  # never seen here: not authorized from thin air
            store.find_installation(enterprise_id=None, team_id="T0ELSEWHERE")
        assert type(refused.value).__module__.startswith("redis")

        server.start()  # empty, as a Redis without persistence comes back
        time.sleep(config.state.retry_s + 0.1)
        other_replica.save(installation("T0SERVED", "xoxb-reinstalled"))  # reinstalled meanwhile, on the other one
        assert store.find_installation(enterprise_id=None, team_id="T0SERVED").bot_token == "xoxb-reinstalled"
        assert degraded() == []
    finally:
        health.clear("installations")
        server.stop()
