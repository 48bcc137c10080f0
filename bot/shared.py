"""Where records every replica must see alike live: Redis when [state] points to one, else None (this host's SQLite)."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable, TypeVar

from bot.config import Config
from bot.errors import ConfigError, NlpbotError

T = TypeVar("T")

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
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise ConfigError("[state] redis_url needs the redis client: pip install 'nlpbot[redis]'") from None
    with _LOCK:
        if url not in _CLIENTS:
            # Connecting waits [state] timeout_s, with one immediate retry, as de-duplication does (bot.state): never
            # redis-py's retries with backoff, which would hold an ack up while Redis is down. A read may take longer.
            _CLIENTS[url] = redis.Redis.from_url(url, socket_timeout=max(5.0, config.state.timeout_s),
                                                 socket_connect_timeout=config.state.timeout_s,
                                                 retry=Retry(NoBackoff(), 1), health_check_interval=30)
        return _CLIENTS[url]


def says_when_unreachable(what: str) -> Callable[[type[T]], type[T]]:
    """A class decorator for a Redis-backed store: a Redis error in a public method becomes an NlpbotError naming
    what could not be reached, so a person gets a sentence and the CLI exits 3, never a traceback."""

    def convert(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                if type(exc).__module__.split(".")[0] != "redis":
                    raise
                raise NlpbotError(f"cannot reach Redis ([state] redis_url) for {what}: {exc}") from exc

        return call

    def decorate(cls: type[T]) -> type[T]:
        for name, value in list(vars(cls).items()):
            if callable(value) and not name.startswith("_"):
                setattr(cls, name, convert(value))
        return cls

    return decorate


__all__ = ["PREFIX", "redis_url", "says_when_unreachable", "shared_redis"]
