"""Several `nlpbot run --adapter http` replicas started at once, and what their logs say about scheduled job slots."""

from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.bots import BotServer
from tests.support.fakeslack import FakeSlack


def start_replicas(configs: list[Path], fake: FakeSlack) -> list[BotServer]:
    """One BotServer per config, started in parallel (half the wait); if one fails, the others are stopped."""
    with ThreadPoolExecutor(len(configs)) as pool:
        starting = [pool.submit(BotServer, config, fake) for config in configs]
    servers = [future.result() for future in starting if future.exception() is None]
    if len(servers) < len(configs):
        for server in servers:
            server.stop()
        next(future for future in starting if future.exception() is not None).result()  # raises its error
    return servers


def job_slots(servers: list[BotServer], job_id: str) -> tuple[list[set[str]], list[set[str]]]:
    """Per replica: the slots of `job_id` it ran, and the slots it found claimed by another replica (from its log)."""
    ran, skipped = [], []
    for server in servers:
        log = server.log.read_text()
        ran.append(set(re.findall(rf"job {re.escape(job_id)} \(slot (\S+)\): running it here", log)))
        skipped.append(set(re.findall(rf"job {re.escape(job_id)} \(slot (\S+)\): another replica runs it", log)))
    return ran, skipped


def settled_job_slots(servers: list[BotServer], job_id: str, *, since: float = 0.0,
                      timeout: float = 10.0) -> tuple[list[set[str]], list[set[str]]]:
    """`job_slots` for slots after `since`, read once every slot a replica skipped shows as run by another (or at the
    timeout): the winner of a claim logs "running it here" a moment after the loser may have logged its skip."""
    deadline = time.monotonic() + timeout
    while True:
        ran, skipped = ([{slot for slot in slots if slot_time(slot) > since} for slots in found]
                        for found in job_slots(servers, job_id))
        unrun = [slot for n, slots in enumerate(skipped) for slot in slots
                 if not any(slot in other for m, other in enumerate(ran) if m != n)]
        if not unrun or time.monotonic() > deadline:
            return ran, skipped
        time.sleep(0.2)


def slot_time(slot: str) -> float:
    """A slot as the scheduler names it (ISO 8601, UTC) as a Unix time."""
    return dt.datetime.fromisoformat(slot).timestamp()
