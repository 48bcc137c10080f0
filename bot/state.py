"""State shared by bot replicas: keys seen recently (Slack retries, double submits) and one-time claims.

The contract is two calls, both "set if absent, with a time to live", Redis's ``SET key 1 NX PX ttl``:

- ``seen(key, ttl=)`` marks a key and says whether it was already marked (de-duplication);
- ``claim(name, ttl=)`` is True for exactly one caller per name within ttl (one replica runs a scheduled job).

``[state] redis_url`` empty (the default) keeps everything in this process, as one replica needs;
``redis://HOST:6379/0`` (or the NLPBOT_REDIS_URL environment variable, for a URL with a password) shares
it across replicas. Example::

    state = open_state(config.state.redis_url, ttl=config.slack.dedup_ttl_s)
    if not state.seen(("event", event_id)):
        answer(event)

Redis may fail; answers may not. While Redis is unreachable this process decides alone (a retry that lands on
the other replica may be answered twice, and each replica may run a job slot once), says so once in the log,
on /healthz (`degraded`, with a 200) and in /metrics, and checks every `retry_s` whether Redis is back. When it
is, every key this process knows (those of the outage included, with what is left of their ttl) is written back
with NX, so a slot run during the outage is not run again, and a Redis that restarted empty learns what it lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from bot import health, metrics
from bot.errors import ConfigError

log = logging.getLogger(__name__)

PREFIX = "nlpbot:"
SOURCE = "state"  # its name on /healthz and in nlpbot_degraded{source=...}
TIMEOUT_S = 0.5  # a Redis call on the ack path; Slack wants the ack within 3 s
RETRY_S = 2.0  # while Redis is down, how often this process tries it again


class StateStore(Protocol):
    def seen(self, key: Any, *, ttl: float | None = None) -> bool: ...

    def claim(self, name: str, *, ttl: float) -> bool: ...


class InProcessState:
    """Keys seen within their ttl, in this process only (one replica)."""

    def __init__(self, ttl: float, *, max_size: int = 100_000) -> None:
        self.ttl, self.max_size = ttl, max_size
        self._keys: OrderedDict[Any, float] = OrderedDict()  # key -> expiry (monotonic), in the order marked
        self._lock = threading.Lock()
        self._writes = 0

    def _forget_expired(self, now: float) -> None:
        while self._keys and (next(iter(self._keys.values())) < now or len(self._keys) > self.max_size):
            self._keys.popitem(last=False)
        self._writes += 1
        if self._writes % 1024 == 0:  # a long ttl at the front (a job claim, an hour) holds back short ones behind it
            self._keys = OrderedDict((key, expiry) for key, expiry in self._keys.items() if expiry >= now)

    def seen(self, key: Any, *, ttl: float | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            self._forget_expired(now)
            if key in self._keys and self._keys[key] >= now:
                return True
            self._keys[key] = now + (self.ttl if ttl is None else ttl)
            self._keys.move_to_end(key)
            return False

    def claim(self, name: str, *, ttl: float) -> bool:
        return not self.seen(("claim", name), ttl=ttl)

    def remember(self, key: Any, *, ttl: float) -> None:
        """Mark `key` for at least `ttl` more seconds, whether or not it was marked."""
        now = time.monotonic()
        with self._lock:
            self._forget_expired(now)
            self._keys[key] = max(self._keys.get(key, 0.0), now + ttl)
            self._keys.move_to_end(key)

    def live(self) -> list[tuple[Any, float]]:
        """Every marked key with the seconds it has left."""
        now = time.monotonic()
        with self._lock:
            return [(key, expiry - now) for key, expiry in self._keys.items() if expiry > now]


class RedisLink:
    """One process's connection to one Redis: its outage detection, its fallback and its recovery.

    Shared by every RedisState on the same URL in the process (the adapter's de-duplication and the scheduler's
    claims), so an outage is logged, reported and probed once.
    """

    def __init__(self, url: str, *, timeout_s: float = TIMEOUT_S, retry_s: float = RETRY_S) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.raw_url, self.url, self.retry_s, self.errors = url, _safe(url), retry_s, redis.RedisError
        try:
            # One immediate retry (a connection gone stale when Redis restarted gets a fresh one), never redis-py's
            # default of 10 with backoff: a dead Redis must cost an ack 2 * timeout_s at most, then none at all.
            self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                               retry=Retry(NoBackoff(), 1))
        except ValueError as exc:
            raise ConfigError(f"[state] redis_url is not a Redis URL ({self.url}): {exc}") from None
        self.known = InProcessState(ttl=0.0)  # what this process knows (every call gives its ttl): the fallback,
        # and what it writes back when Redis returns
        self.down_since: float | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        try:
            self.client.ping()
        except redis.RedisError as exc:
            self._went_down(exc)

    def set_new(self, name: str, ttl: float, *, patient: bool = False) -> bool:
        """SET NX with a ttl: True if `name` was not set. Never raises: an unreachable Redis is this process's turn.

        `patient` callers (a job claim, not an ack) try Redis even while it is down, so the first claim after it
        returns goes through Redis on every replica at once instead of waiting for the next probe.
        """
        if self.down_since is not None and patient:
            self._try_recover()
        if self.down_since is None:
            try:
                # PX in milliseconds: a double-submit window of 0.5 s must not round to 0 (Redis refuses EX 0)
                new = bool(self.client.set(PREFIX + name, b"1", nx=True, px=max(1, int(ttl * 1000))))
                self.known.remember(name, ttl=ttl)
                return new
            except self.errors as exc:
                self._went_down(exc)
        with self._lock:  # _try_recover holds it while it writes back, so no key of the outage is left behind
            if self.down_since is not None:
                metrics.STATE_FALLBACKS.labels(operation=name.split(":", 1)[0]).inc()
                return not self.known.seen(name, ttl=ttl)
        return self.set_new(name, ttl, patient=patient)  # Redis came back between the failure and the lock: ask it

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            if self.down_since is not None:
                return
            self.down_since = time.time()
        detail = (f"Redis at {self.url} is unreachable ({type(exc).__name__}: {exc}); de-duplication and job claims "
                  "are decided in this process until it is back")
        health.report(SOURCE, detail)
        metrics.STATE_OUTAGES.inc()
        log.warning("shared state: %s (trying again every %g s)", detail, self.retry_s)
        threading.Thread(target=self._probe, name="nlpbot-redis-probe", daemon=True).start()

    def _probe(self) -> None:
        """Every retry_s until Redis answers (or the link is closed)."""
        while not self._closed.wait(self.retry_s):
            if self._try_recover():
                return

    def _try_recover(self) -> bool:
        """If Redis answers: write back what this process knows, then use Redis again; False if it still does not."""
        with self._lock:  # set_new's fallback waits meanwhile, so no key of the outage is left behind
            if self.down_since is None:
                return True
            try:
                self.client.ping()
                written = self._write_back()
            except self.errors:
                return False
            outage_s, self.down_since = time.time() - self.down_since, None
        health.clear(SOURCE)
        log.warning("shared state: Redis at %s is back after %.0f s; %d key(s) this process knows written back "
                    "(NX: what Redis has wins)", self.url, outage_s, written)
        return True

    def close(self) -> None:
        """Stop probing and forget this link (its outage leaves /healthz with it)."""
        self._closed.set()
        with _links_lock:
            if _links.get(self.raw_url) is self:
                del _links[self.raw_url]
        if self.down_since is not None:
            health.clear(SOURCE)
        self.client.close()

    def _write_back(self) -> int:
        keys = [(name, left) for name, left in self.known.live() if left >= 0.001]
        pipeline = self.client.pipeline(transaction=False)
        for name, left in keys:
            pipeline.set(PREFIX + name, b"1", nx=True, px=max(1, int(left * 1000)))
        pipeline.execute()
        return len(keys)


_links: dict[str, RedisLink] = {}
_links_lock = threading.Lock()


class RedisState:
    """The contract in Redis: `SET NX PX` is atomic, so two replicas never both see a key as new (while it answers)."""

    def __init__(self, url: str, ttl: float, *, timeout_s: float = TIMEOUT_S, retry_s: float = RETRY_S) -> None:
        self.ttl = ttl
        with _links_lock:
            if url not in _links:
                _links[url] = RedisLink(url, timeout_s=timeout_s, retry_s=retry_s)
            self.link = _links[url]

    @property
    def degraded(self) -> bool:
        return self.link.down_since is not None

    def seen(self, key: Any, *, ttl: float | None = None) -> bool:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]  # user text stays out of Redis
        return not self.link.set_new(f"seen:{digest}", self.ttl if ttl is None else ttl)

    def claim(self, name: str, *, ttl: float) -> bool:
        return self.link.set_new(f"claim:{name}", ttl, patient=True)

    def close(self) -> None:
        self.link.close()


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if "@" in rest else url


def open_state(redis_url: str, *, ttl: float, timeout_s: float = TIMEOUT_S, retry_s: float = RETRY_S) -> StateStore:
    """Redis when a URL is configured (NLPBOT_REDIS_URL wins over [state] redis_url), else this process."""
    url = os.environ.get("NLPBOT_REDIS_URL") or redis_url
    if not url:
        return InProcessState(ttl)
    try:
        return RedisState(url, ttl, timeout_s=timeout_s, retry_s=retry_s)
    except ImportError:
        raise ConfigError("[state] redis_url needs the redis client: pip install 'nlpbot[redis]'") from None


__all__ = ["StateStore", "InProcessState", "RedisState", "RedisLink", "open_state"]
