"""Dynamic batching: concurrent requests for one model are gathered and run as one call, each getting its own results.

A request waits at most `max_wait_ms` for company (and not at all when the bot is quiet), and a batch holds
at most `batch_size` inputs. Inputs are sorted by length before the call so the padding in each model batch
stays small (ONNX models also split the call into token-length buckets: `bot.models.buckets`), and put back
in order afterwards. If a batch fails, its requests are retried one by one, so an error reaches only the
request that caused it.

A request that finds the model idle (no batch running, nobody queued) runs at once in its own thread: the
hand-off to the batcher thread and back cost a lone user 10-15% of an int8 ONNX call (about 0.1 ms of
0.9 ms on 2 cores). Under load the queue is never empty, so requests still meet in batches.

A model that can run several calls at once (`workers` > 1: an ONNX Runtime session on the CPU with one thread
per call) gets that many batch threads: one gathers the next batch while the others run theirs, so batches
run side by side on the cores instead of one after another.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from bot import metrics

log = logging.getLogger(__name__)

Runner = Callable[[list, dict], list]  # (inputs, kwargs) -> one result per input


@dataclass
class _Job:
    inputs: list
    kwargs: dict
    future: Future = field(default_factory=Future)

    @property
    def options(self) -> tuple:
        return tuple(sorted((key, repr(value)) for key, value in self.kwargs.items()))


def _length(item: Any) -> int:
    return len(item) if isinstance(item, (str, list, tuple)) else 0


class Batcher:
    """`workers` background threads per model (default one); `submit` blocks until this caller's results are ready."""

    def __init__(self, run: Runner, *, batch_size: int, max_wait_ms: float, name: str, workers: int = 1) -> None:
        self.run, self.batch_size, self.max_wait = run, batch_size, max_wait_ms / 1000.0
        self.name = name
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._held: _Job | None = None  # a job taken from the queue that did not fit the last batch
        self._last_size = 0
        self._slots = threading.Semaphore(max(1, workers))  # one per model call running, batch or lone caller
        self._gathering = threading.Lock()  # one thread gathers the next batch at a time
        self._ready = 0  # batches gathered and waiting for a slot: a lone caller must not overtake them
        self._threads = [threading.Thread(target=self._loop, name=f"batcher-{name[:36]}-{n}", daemon=True)
                         for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, inputs: list, kwargs: dict) -> list:
        waiting = self._queue.queue  # read without the queue's lock: checked again once a slot is held
        if not waiting and self._held is None and not self._ready and self._slots.acquire(blocking=False):
            try:
                if not waiting and self._held is None and not self._ready:  # still alone: nobody is kept waiting
                    self._last_size = 1
                    metrics.child(metrics.BATCH_SIZE, self.name).observe(len(inputs))
                    return list(self.run(inputs, kwargs))  # the runner (ModelHandle.run_now) copies its inputs
            finally:
                self._slots.release()
        job = _Job(list(inputs), dict(kwargs))
        self._queue.put(job)
        return job.future.result()

    def _next(self, timeout: float | None) -> _Job | None:
        if self._held is not None:
            job, self._held = self._held, None
            return job
        try:
            return self._queue.get(timeout=timeout) if timeout is None or timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _gather(self) -> list[_Job]:
        first = self._next(None)
        batch, size = [first], len(first.inputs)
        # Wait for company only under load (the last batch was shared, or others are queued): a lone
        # request after a quiet spell runs at once, so batching costs nothing when nobody else is asking.
        busy = self._last_size > 1 or self._held is not None or not self._queue.empty()
        deadline = time.monotonic() + (self.max_wait if busy else 0.0)
        while size < self.batch_size:
            job = self._next(deadline - time.monotonic())
            if job is None:
                break
            if job.options != first.options or size + len(job.inputs) > self.batch_size:
                self._held = job  # runs in the next batch, first in line
                break
            batch.append(job)
            size += len(job.inputs)
        self._last_size = len(batch)
        return batch

    def _loop(self) -> None:
        while True:
            with self._gathering:  # a slot is taken before the next thread may gather: it gathers while this runs
                batch = self._gather()
                self._ready += 1
                self._slots.acquire()
                self._ready -= 1
            try:
                try:
                    self._run_batch(batch)
                finally:
                    self._slots.release()
            except BaseException as exc:  # noqa: BLE001 - the loop must survive anything
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _run_batch(self, batch: list[_Job]) -> None:
        inputs = [item for job in batch for item in job.inputs]
        order = sorted(range(len(inputs)), key=lambda i: _length(inputs[i]), reverse=True)
        metrics.child(metrics.BATCH_SIZE, self.name).observe(len(inputs))
        try:
            results = list(self.run([inputs[i] for i in order], batch[0].kwargs))
        except Exception:  # noqa: BLE001 - isolate the failing request below
            if len(batch) == 1:
                raise
            log.warning("a batch of %d requests for %s failed; retrying them one by one", len(batch), self.name)
            for job in batch:
                try:
                    job.future.set_result(list(self.run(job.inputs, job.kwargs)))
                except Exception as exc:  # noqa: BLE001 - this request's own error
                    job.future.set_exception(exc)
            return
        restored: list[Any] = [None] * len(inputs)
        for position, index in enumerate(order):
            restored[index] = results[position]
        start = 0
        for job in batch:
            job.future.set_result(restored[start:start + len(job.inputs)])
            start += len(job.inputs)
