"""Scheduled re-indexing, retraining and recaps: APScheduler with a SQLite job store, so schedules survive restarts.

Every replica runs its own scheduler over its own job store (APScheduler's stores must never be shared);
each due run first claims its slot (the job id and the scheduled time) in the state store
(`bot.state`: Redis `SET NX PX` across replicas), so exactly one replica runs it and the others skip it
(while Redis is unreachable each replica runs it once: a reindex twice is harmless, a recap missed is not).
People's recap subscriptions are jobs too, kept in bot.recaps' store (SQLite beside the job store, or Redis shared
by every replica): each running scheduler picks up the ones made elsewhere every `sync_s` and checks, before a run,
that the subscription still exists. How a recap is made is bot.recaps' business, with the recap source that whoever
builds the scheduler gives it (bot/cli: Slack's).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Callable

from bot.config import Config, JobSpec, cron_trigger
from bot.errors import NlpbotError, UserInputError
from bot.joblist import JobStatus, jobs_table, open_job_runs
from bot.recaps.jobs import SourceFactory, recap_action, shown_target, subscription_jobs
from bot.recaps.store import SubscriptionSpec, open_recap_store
from bot.state import InProcessState, StateStore, open_state

log = logging.getLogger(__name__)

_ACTIVE: Scheduler | None = None  # the scheduler whose process runs the jobs (APScheduler stores only the job id)


def run_job(job_id: str) -> str:
    """What APScheduler calls: a module-level function, so the SQLite store can keep a reference to it."""
    if _ACTIVE is None:
        raise RuntimeError("no scheduler is active in this process")
    slot = _ACTIVE.slot(job_id)
    # The claim outlives every replica's chance to fire the same slot (a missed run fires up to misfire_grace_s late).
    if not _ACTIVE.state.claim(f"job:{job_id}:{slot}", ttl=_ACTIVE.settings.misfire_grace_s + 60):
        log.info("job %s (slot %s): another replica runs it", job_id, slot)
        return "run by another replica"
    log.info("job %s (slot %s): running it here", job_id, slot)
    return _ACTIVE.run_now(job_id)


class Scheduler:
    """Configured jobs and people's recaps, their next runs (persisted) and their last results."""

    def __init__(self, config: Config, *, bot: Any = None, recap_source: SourceFactory | None = None) -> None:
        """`recap_source(config, team)` gives recap jobs the chat they read and post to; without one they fail
        clearly."""
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.config, self.bot = config, bot
        self.settings = config.schedule
        self.db = config.resolve_path(self.settings.state_db)
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.runs = open_job_runs(config, self.db)
        self.recaps = open_recap_store(config)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.db}"), "memory": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.settings.misfire_grace_s},
            timezone=self.settings.timezone,
        )
        self.jobs: dict[str, JobSpec] = {job.id: job for job in self.settings.jobs}
        self.sync()
        self.actions: dict[str, Action] = {**ACTIONS, "recap": recap_action(recap_source)}
        self.state: StateStore = InProcessState(1.0)  # replaced in start(): only a running scheduler claims runs

    def _trigger(self, spec: JobSpec):
        return cron_trigger(spec.cron, spec.timezone or self.settings.timezone)

    def add(self, spec: JobSpec) -> None:
        """A job made at run time (a recap subscription): scheduled now if running, else at start()."""
        self.jobs[spec.id] = spec
        if self.scheduler.running:
            self.scheduler.add_job(run_job, self._trigger(spec), args=[spec.id], id=spec.id, jobstore="default",
                                   name=f"{spec.action} {spec.target}", replace_existing=True)

    def remove(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
        if self.scheduler.running and self.scheduler.get_job(job_id, jobstore="default"):
            self.scheduler.remove_job(job_id, jobstore="default")

    def sync(self) -> None:
        """People's recaps as the store has them now: new ones scheduled, changed ones rescheduled, gone ones dropped."""
        try:
            wanted = {spec.id: spec for spec in subscription_jobs(self.recaps)}
        except Exception as exc:  # noqa: BLE001 - a shared store that is down: keep what we have, try at the next sync
            log.warning("could not read the recap subscriptions (%s: %s); trying again in %.0f s",
                        type(exc).__name__, exc, self.settings.sync_s)
            return
        for job_id in [job_id for job_id, spec in self.jobs.items() if isinstance(spec, SubscriptionSpec)]:
            if job_id not in wanted:
                self.remove(job_id)
        for job_id, spec in wanted.items():
            if self.jobs.get(job_id) != spec:
                self.add(spec)

    def forget_team(self, team: str) -> list[str]:
        """A workspace uninstalled the app: its people's recaps are deleted, everywhere; returns their job ids."""
        gone = [sub.id for sub in self.recaps.remove_team(team)]
        for job_id in gone:
            self.remove(job_id)
        self.runs.forget(gone)
        return gone

    def slot(self, job_id: str) -> str:
        """The latest scheduled time of a job at or before now: every replica names a due run the same way."""
        trigger, now = self._trigger(self.jobs[job_id]), dt.datetime.now(dt.timezone.utc)
        fire = trigger.get_next_fire_time(None, now - dt.timedelta(seconds=self.settings.misfire_grace_s))
        latest = None
        while fire is not None and fire <= now:
            latest, fire = fire, trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
        return (latest or now).astimezone(dt.timezone.utc).isoformat(timespec="seconds")

    def start(self) -> None:
        """Start in the background; jobs in config are added or updated, jobs removed from config are dropped.

        A job whose schedule did not change keeps its stored next run, so a run missed while the bot was
        down happens once at start-up (within misfire_grace_s).
        """
        global _ACTIVE
        state = self.config.state
        self.state = open_state(state.redis_url, ttl=self.settings.misfire_grace_s, timeout_s=state.timeout_s,
                                retry_s=state.retry_s)
        _ACTIVE = self
        self.scheduler.start(paused=True)
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        for job_id in set(stored) - set(self.jobs):
            self.scheduler.remove_job(job_id, jobstore="default")
        for spec in self.jobs.values():
            trigger = self._trigger(spec)
            if spec.id in stored and str(stored[spec.id].trigger) == str(trigger):
                continue
            self.scheduler.add_job(run_job, trigger, args=[spec.id], id=spec.id, name=f"{spec.action} {spec.target}",
                                   jobstore="default", replace_existing=True)
        self.scheduler.add_job(self.sync, "interval", seconds=self.settings.sync_s, id="sync-recaps",
                               jobstore="memory", replace_existing=True)
        if self.bot is not None:
            self.scheduler.add_job(self.bot.refresh_models, "interval", seconds=self.settings.model_check_s,
                                   id="refresh-models", jobstore="memory", replace_existing=True)
        self.scheduler.resume()
        log.info("scheduler started with %d job(s)", len(self.jobs))

    @property
    def running(self) -> bool:
        return self.scheduler.running

    def shutdown(self) -> None:
        global _ACTIVE
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _ACTIVE is self:
            _ACTIVE = None

    def next_runs(self) -> dict[str, dt.datetime | None]:
        if self.scheduler.running:
            self.sync()  # a recap subscribed on another replica a moment ago shows its next run here too
            return {job.id: job.next_run_time for job in self.scheduler.get_jobs(jobstore="default")}
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        store = SQLAlchemyJobStore(url=f"sqlite:///{self.db}")
        store.start(self.scheduler, "default")
        try:
            return {job.id: job.next_run_time for job in store.get_all_jobs()}
        finally:
            store.shutdown()

    def last_runs(self) -> dict[str, tuple[float, str, str]]:
        return self.runs.last()

    def describe(self) -> list[JobStatus]:
        """Every configured job with its next run (from the store) and its last recorded run."""
        next_runs, last_runs = self.next_runs(), self.last_runs()
        jobs = []
        for spec in self.jobs.values():
            finished, status, message = last_runs.get(spec.id, (None, "never", ""))
            zone = self._trigger(spec).timezone  # a recap's next run shows in its subscriber's timezone
            next_run = next_runs.get(spec.id)
            jobs.append(JobStatus(
                id=spec.id, action=spec.action, target=shown_target(spec), cron=spec.cron, timezone=str(zone),
                next_run=next_run.astimezone(zone) if next_run else None,
                last_finished=dt.datetime.fromtimestamp(finished, dt.timezone.utc) if finished else None,
                last_status=status, last_message=message))
        return jobs

    def run_now(self, job_id: str) -> str:
        """Run one configured job in this process; its outcome is recorded and returned as one line."""
        spec = self.jobs.get(job_id)
        if spec is None:
            raise UserInputError(f"no job {job_id!r}; configured: {', '.join(sorted(self.jobs)) or 'none'}")
        if isinstance(spec, SubscriptionSpec) and self.recaps.get(job_id) is None:
            self.remove(job_id)  # unsubscribed on another replica (or the workspace left) since the last sync
            return "unsubscribed: not run"
        started = time.time()
        log.info("job %s: %s %s", spec.id, spec.action, spec.target)
        try:
            message, status = self.actions[spec.action](self.config, spec, self.bot), "ok"
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded, the scheduler goes on
            message, status = str(exc) if isinstance(exc, NlpbotError) else f"{type(exc).__name__}: {exc}", "failed"
            log.error("job %s failed: %s", spec.id, message)
        try:
            self.runs.record(spec.id, started, time.time(), status, message)
        except NlpbotError as exc:  # a shared store that is down must not turn a run that happened into a failure
            log.warning("job %s: %s; this run is not in its last runs", spec.id, exc)
        if status == "failed":
            raise NlpbotError(f"job {spec.id} failed: {message}")
        return message


def _reindex(config: Config, spec: JobSpec, bot: Any) -> str:
    from bot.search.reindex import reindex

    return reindex(config, spec.target, paths=spec.paths, hub=bot.hub if bot else None)


def _retrain(config: Config, spec: JobSpec, bot: Any) -> str:
    from bot.training.launch import retrain

    message = retrain(config, spec.target, data=spec.data)
    if bot is not None:
        bot.hub.refresh_trained()
    return message


Action = Callable[[Config, JobSpec, Any], str]
ACTIONS: dict[str, Action] = {"reindex": _reindex, "retrain": _retrain}  # and "recap", with the scheduler's source


__all__ = ["Scheduler", "JobStatus", "jobs_table", "run_job"]
