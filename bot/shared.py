"""Where records every replica must see alike live: Redis when [state] points to one, else None (this host's SQLite)."""

from __future__ import annotations

import os
import threading
from typing import Any

from bot.config import Config
from bot.errors import ConfigError

PREFIX = "nlpbot:"  # every key this project writes in Redis starts with it
_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def redis_url(config: Config) -> str:
    """NLPBOT_REDIS_URL (where a password belongs) wins over [state] redis_url; "" when neither is set."""
    return os.environ.get("NLPBOT_REDIS_URL") or config.state.redis_url


def shared_redis(config: Config) -> Any | None:
    """The process's Redis client for shared records, or None for one replica (records stay in SQLite).

    The client connects on first use and reconnects by itself: a Redis that is down makes the call that
    needs it fail (redis.RedisError), it never stops the bot from starting.
    """
    url = redis_url(config)
    if not url:
        return None
    try:
        import redis
    except ImportError:
        raise ConfigError("[state] redis_url needs the redis client: pip install 'nlpbot[redis]'") from None
    with _LOCK:
        if url not in _CLIENTS:
            _CLIENTS[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                                 health_check_interval=30)
        return _CLIENTS[url]


__all__ = ["PREFIX", "redis_url", "shared_redis"]
