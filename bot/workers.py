"""A bounded worker pool: slow model work runs here so Slack is acked at once; a full queue says so."""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from bot import metrics

log = logging.getLogger(__name__)


class WorkerPool:
    """`workers` threads and at most `queue_size` requests waiting; `submit` returns None when full."""

    def __init__(self, *, workers: int, queue_size: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nlpbot-worker")
        self._slots = threading.BoundedSemaphore(workers + queue_size)
        self._pending = 0  # accepted and not finished: what a graceful stop waits for
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future | None:
        if not self._slots.acquire(blocking=False):
            metrics.REJECTED.inc()
            return None
        metrics.QUEUE_DEPTH.inc()
        with self._idle:
            self._pending += 1
        try:
            # the submitter's context variables (the request's team token, its id) travel with the work
            future = self._executor.submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except RuntimeError:  # shut down
            self._release(None)
            return None
        future.add_done_callback(self._release)
        return future

    def _release(self, future: Future | None) -> None:
        metrics.QUEUE_DEPTH.dec()
        self._slots.release()
        with self._idle:
            self._pending -= 1
            if not self._pending:
                self._idle.notify_all()
        if future is None:
            return
        if future.cancelled():
            log.warning("an accepted request was dropped because the bot is shutting down")
        elif future.exception() is not None:
            log.error("background work failed", exc_info=future.exception())

    @property
    def pending(self) -> int:
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every accepted request has finished; False when `timeout` seconds passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout=timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
