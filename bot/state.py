"""State shared by bot replicas: keys seen recently (Slack retries, double submits) and one-time claims.

The contract is two calls, both "set if absent, with a time to live", Redis's ``SET key 1 NX EX ttl``:

- ``seen(key, ttl=)`` marks a key and says whether it was already marked (de-duplication);
- ``claim(name, ttl=)`` is True for exactly one caller per name within ttl (one replica runs a scheduled job).

``[state] redis_url`` empty (the default) keeps everything in this process, as one replica needs;
``redis://HOST:6379/0`` (or the NLPBOT_REDIS_URL environment variable, for a URL with a password) shares
it across replicas. Example::

    state = open_state(config.state.redis_url, ttl=config.slack.dedup_ttl_s)
    if not state.seen(("event", event_id)):
        answer(event)
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from bot.errors import ConfigError

PREFIX = "nlpbot:"


class StateStore(Protocol):
    def seen(self, key: Any, *, ttl: float | None = None) -> bool: ...

    def claim(self, name: str, *, ttl: float) -> bool: ...


class InProcessState:
    """Keys seen within their ttl, in this process only (one replica)."""

    def __init__(self, ttl: float, *, max_size: int = 100_000) -> None:
        self.ttl, self.max_size = ttl, max_size
        self._keys: OrderedDict[Any, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: Any, *, ttl: float | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._keys and (next(iter(self._keys.values())) < now or len(self._keys) > self.max_size):
                self._keys.popitem(last=False)
            if key in self._keys and self._keys[key] >= now:
                return True
            self._keys[key] = now + (self.ttl if ttl is None else ttl)
            self._keys.move_to_end(key)
            return False

    def claim(self, name: str, *, ttl: float) -> bool:
        return not self.seen(("claim", name), ttl=ttl)


class RedisState:
    """The same contract in Redis: `SET NX EX` is atomic, so two replicas never both see a key as new."""

    def __init__(self, url: str, ttl: float) -> None:
        import redis

        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise ConfigError(f"cannot reach Redis at {_safe(url)} ([state] redis_url): {exc}") from None

    def _set_new(self, name: str, ttl: float) -> bool:
        # PX in milliseconds: a double-submit window of 0.5 s must not round to 0 (Redis refuses EX 0)
        return bool(self.client.set(PREFIX + name, b"1", nx=True, px=max(1, int(ttl * 1000))))

    def seen(self, key: Any, *, ttl: float | None = None) -> bool:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]  # user text stays out of Redis
        return not self._set_new(f"seen:{digest}", self.ttl if ttl is None else ttl)

    def claim(self, name: str, *, ttl: float) -> bool:
        return self._set_new(f"claim:{name}", ttl)


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if "@" in rest else url


def open_state(redis_url: str, *, ttl: float) -> StateStore:
    """Redis when a URL is configured (NLPBOT_REDIS_URL wins over [state] redis_url), else this process."""
    url = os.environ.get("NLPBOT_REDIS_URL") or redis_url
    if not url:
        return InProcessState(ttl)
    try:
        return RedisState(url, ttl)
    except ImportError:
        raise ConfigError("[state] redis_url needs the redis client: pip install 'nlpbot[redis]'") from None


__all__ = ["StateStore", "InProcessState", "RedisState", "open_state"]
