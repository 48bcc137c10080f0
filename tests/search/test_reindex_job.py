"""Scheduled re-indexing end to end: a new file dropped in a folder is searchable after the job, a missed run
happens at start-up, and `nlpbot jobs run` does the same from the command line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.scheduler import Scheduler
from bot.search.reindex import reindex
from tests.support.bots import ROOT

from tests.support.documents import write_files

CONFIG = """
[search]
indexes_dir = "indexes"
[schedule]
state_db = "state/jobs.sqlite"
[[schedule.jobs]]
id = "nightly-docs"
action = "reindex"
target = "docs"
cron = "0 3 * * *"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Nlpbot]:
    """A docs folder indexed once, and the bot (one model load) that the schedulers run with."""
    root = tmp_path_factory.mktemp("reindex")
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    write_files(root, {"docs/lunch.md": "The cafeteria serves lunch from noon to two o'clock on weekdays.",
                       "docs/travel.txt": "Business travel must be approved by your manager before booking."})
    bot = Nlpbot(load_config(root / "config.toml"))
    assert reindex(bot.config, "docs", paths=[str(root / "docs")], hub=bot.hub).startswith("docs: 2 added")
    return root, bot


def miss_the_next_run(scheduler: Scheduler) -> None:
    """Set the stored next run ten minutes back, as if the bot had been down at that time.

    Done on the job store while no scheduler runs: a scheduler shutting down with a job due would use up the run.
    """
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(url=f"sqlite:///{scheduler.db}")
    store.start(scheduler.scheduler, "default")
    job = store.lookup_job("nightly-docs")
    job._modify(next_run_time=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
    store.update_job(job)
    store.shutdown()


def found(bot: Nlpbot, query: str) -> str:
    return bot.ask(f"/search {query}").data["hits"][0]["source"]


def test_the_job_indexes_a_new_file_and_drops_a_vanished_one(site):
    root, bot = site
    scheduler = Scheduler(bot.config, bot=bot)
    indexed = len(list((root / "docs").iterdir()))  # 2, or more when another test of this module ran first
    write_files(root, {"docs/parking.md": "Visitors park in the north lot and show their badge at the gate."})
    assert scheduler.run_now("nightly-docs") == f"docs: 1 added, 0 updated, {indexed} unchanged, 0 removed, 0 problems"
    assert found(bot, "where do visitors park").endswith("docs/parking.md")

    (root / "docs" / "travel.txt").unlink()
    removed = f"docs: 0 added, 0 updated, {indexed} unchanged, 1 removed, 0 problems"
    assert scheduler.run_now("nightly-docs") == removed
    assert scheduler.last_runs()["nightly-docs"][1:] == ("ok", removed)


def test_a_run_missed_while_the_bot_was_down_happens_once_at_start_up(site):
    root, bot = site
    first = Scheduler(bot.config, bot=bot)
    first.start()
    first.shutdown()
    miss_the_next_run(first)
    runs_before = first.last_runs().get("nightly-docs")
    write_files(root, {"docs/garden.md": "Water tomato plants deeply twice a week, in the morning."})

    again = Scheduler(bot.config, bot=bot)
    again.start()
    try:
        deadline = time.monotonic() + 120
        while again.last_runs().get("nightly-docs") == runs_before and time.monotonic() < deadline:
            time.sleep(0.2)
        finished, status, message = again.last_runs()["nightly-docs"]
        assert (status, message.split(",")[0]) == ("ok", "docs: 1 added")
        assert again.next_runs()["nightly-docs"] > dt.datetime.now(dt.timezone.utc)  # next one is the regular 03:00
    finally:
        again.shutdown()
    assert found(bot, "how often should I water tomatoes").endswith("docs/garden.md")


def test_jobs_run_on_the_command_line(site):
    root, _ = site
    write_files(root, {"docs/bread.md": "Feed the sourdough starter with equal weights of flour and water."})
    result = subprocess.run([sys.executable, "-m", "bot", "jobs", "run", "nightly-docs", "--config",
                             str(root / "config.toml")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("docs: 1 added, 0 updated,")


def test_a_missing_folder_is_reported_not_emptied(site, tmp_path):
    root, bot = site
    config = load_config(root / "config.toml")
    elsewhere = tmp_path / "gone"
    (elsewhere / "docs").mkdir(parents=True)
    (elsewhere / "docs" / "x.txt").write_text("A file that will disappear along with its folder.")
    reindex(config, "other", paths=[str(elsewhere / "docs")], hub=bot.hub)
    (elsewhere / "docs" / "x.txt").unlink()
    (elsewhere / "docs").rmdir()
    line = reindex(config, "other", hub=bot.hub)
    assert line.startswith("other: 0 added, 0 updated, 0 unchanged, 0 removed, 1 problems")
    assert "not found, left as it was" in line


def test_a_file_added_alone_and_then_deleted_is_removed_once(site, tmp_path):
    root, bot = site
    config = load_config(root / "config.toml")
    note = tmp_path / "note.txt"
    note.write_text("A single file indexed on its own, then deleted.")
    assert reindex(config, "single", paths=[str(note)], hub=bot.hub).startswith("single: 1 added")
    note.unlink()
    assert reindex(config, "single", hub=bot.hub) == "single: 0 added, 0 updated, 0 unchanged, 1 removed, 0 problems"
    assert reindex(config, "single", hub=bot.hub).startswith("single: nothing to re-index")
