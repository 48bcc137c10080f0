"""Schedules live in a SQLite job store: they survive restarts, and `nlpbot jobs` shows them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.scheduler import Scheduler
from tests.support.bots import ROOT

JOBS = """
[schedule]
state_db = "state/jobs.sqlite"
[[schedule.jobs]]
id = "nightly-docs"
action = "reindex"
target = "docs"
cron = "0 3 * * *"
[[schedule.jobs]]
id = "weekly-sentiment"
action = "retrain"
target = "sentiment"
cron = "30 4 * * 1"
"""


def test_schedules_survive_a_restart(make_config):
    path = make_config(JOBS)
    first = Scheduler(load_config(path))
    first.start()
    before = first.next_runs()
    first.shutdown()
    assert set(before) == {"nightly-docs", "weekly-sentiment"}
    assert before["nightly-docs"].hour == 3 and before["nightly-docs"].minute == 0

    after_restart = Scheduler(load_config(path)).next_runs()  # read from the SQLite file, scheduler not running
    assert after_restart == before


def test_a_job_removed_from_config_is_dropped_from_the_store(make_config):
    path = make_config(JOBS)
    scheduler = Scheduler(load_config(path))
    scheduler.start()
    scheduler.shutdown()
    path.write_text(JOBS.split("[[schedule.jobs]]")[0] + "[[schedule.jobs]]" + JOBS.split("[[schedule.jobs]]")[1])
    again = Scheduler(load_config(path))
    again.start()
    assert set(again.next_runs()) == {"nightly-docs"}
    again.shutdown()


def test_a_changed_schedule_replaces_the_stored_one(make_config):
    path = make_config(JOBS)
    scheduler = Scheduler(load_config(path))
    scheduler.start()
    scheduler.shutdown()
    path.write_text(JOBS.replace('cron = "0 3 * * *"', 'cron = "15 22 * * *"'))
    again = Scheduler(load_config(path))
    again.start()
    runs = again.next_runs()
    again.shutdown()
    assert (runs["nightly-docs"].hour, runs["nightly-docs"].minute) == (22, 15)


def test_a_bad_cron_or_a_repeated_id_stops_start_up(make_config):
    with pytest.raises(ConfigError, match=r"schedule\.jobs\.0\.cron: .*'every night' is not a crontab"):
        load_config(make_config(JOBS.replace('"0 3 * * *"', '"every night"')))
    with pytest.raises(ConfigError, match="repeated: nightly-docs"):
        load_config(make_config(JOBS.replace('"weekly-sentiment"', '"nightly-docs"')))


def test_running_an_unknown_job_is_a_clear_error(make_config):
    from bot.errors import UserInputError

    scheduler = Scheduler(load_config(make_config(JOBS)))
    with pytest.raises(UserInputError, match="no job 'nope'; configured: nightly-docs, weekly-sentiment"):
        scheduler.run_now("nope")


def test_jobs_list_on_the_command_line(make_config):
    path = make_config(JOBS)
    scheduler = Scheduler(load_config(path))
    scheduler.start()
    scheduler.shutdown()
    result = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "ACTION", "TARGET", "CRON"]
    nightly = next(line for line in lines if line.startswith("nightly-docs"))
    assert "reindex" in nightly and "0 3 * * *" in nightly and "03:00" in nightly and "never" in nightly


def test_jobs_list_json_and_the_admin_command_show_the_same_jobs(make_config, tiny_sentiment):
    import json

    from tests.support.bots import TestBot, sentiment_config

    path = make_config(sentiment_config(tiny_sentiment) + JOBS)
    scheduler = Scheduler(load_config(path))
    scheduler.start()
    scheduler.shutdown()
    command = [sys.executable, "-m", "bot", "jobs", "list", "--config", str(path)]
    listed = subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)
    assert [job["id"] for job in jobs] == ["nightly-docs", "weekly-sentiment"]
    assert jobs[0]["cron"] == "0 3 * * *" and jobs[0]["next_run"].startswith("20") and "T03:00:00" in jobs[0]["next_run"]
    assert jobs[0]["last_status"] == "never" and jobs[0]["last_run"] is None

    table = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    reply = TestBot(path).ask("/nlp-admin jobs", user_id="UADMIN01")
    assert not reply.is_error, reply.text
    assert reply.text == f"```\n{table.rstrip()}\n```"  # one rendering, wherever the jobs are shown
    assert reply.data["jobs"] == jobs
