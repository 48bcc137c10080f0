"""Plugins use the services the core hands them: one scheduler and one index manager, never their own."""

from __future__ import annotations

import ast

import pytest

from tests.support.bots import ROOT, TestBot, write_config

PLUGIN_FILES = sorted((ROOT / "plugins").glob("*.py"))
SERVICES = {"Scheduler", "IndexManager"}  # built by bot/core.py, handed over in bot.plugin.Services
ADMIN = "UADMIN01"


def constructed(tree: ast.AST) -> set[str]:
    """The services a module builds: calls such as `Scheduler(config)` or `bot.search.IndexManager(settings)`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in SERVICES:
                names.add(name)
    return names


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda path: path.name)
def test_a_plugin_constructs_no_scheduler_and_no_index_manager(path):
    found = constructed(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name} builds {sorted(found)}: use self.services.scheduler / self.services.indexes"


def test_the_check_catches_a_plugin_that_builds_its_own_services():
    sneaky = ast.parse("from bot.scheduler import Scheduler\nimport bot.search\n"
                       "def jobs(self):\n    return Scheduler(self.config).describe()\n"
                       "def drop(self, name):\n    bot.search.IndexManager(self.config).drop(name)\n")
    assert constructed(sneaky) == {"Scheduler", "IndexManager"}
    assert constructed(ast.parse("from bot.search import IndexManager\nmanager: IndexManager | None = None\n")) == set()


class OneChannel:
    """A chat with one channel the asker is in, and a profile timezone: enough to subscribe to a recap."""

    def readable(self, channel_ids):
        return set(channel_ids)

    def timezone(self, user_id):
        return "Europe/Berlin"


@pytest.fixture
def bot(tmp_path):
    return TestBot(write_config(tmp_path, f"""
        [bot]
        admins = ["{ADMIN}"]
        [plugins.sentiment]
        enabled = false
        [plugins.translate]
        enabled = false
        [[schedule.jobs]]
        id = "nightly-docs"
        action = "reindex"
        target = "docs"
        cron = "0 3 * * *"
    """))


def test_without_a_running_scheduler_recaps_and_jobs_share_one_scheduler_built_on_first_use(bot, tmp_path):
    jobs_db = tmp_path / "state" / "jobs.sqlite"
    assert not jobs_db.exists()  # building the bot built no scheduler

    assert "You have no recaps" in bot.ask("/summarize list", user_id="UUSER001").text
    assert jobs_db.exists() and not bot.bot.services.scheduler_running
    subscribed = bot.ask("/summarize subscribe <#C0INCID|incidents> daily 09:00", user_id="UUSER001",
                         channel_id="C0INCID", conversation=OneChannel())
    assert not subscribed.is_error, subscribed.text

    listed = bot.ask("/summarize list", user_id="UUSER001")
    assert "#incidents: daily at 09:00" in listed.text and "at the bot's next start" in listed.text
    jobs = bot.ask("/nlp-admin jobs", user_id=ADMIN)
    assert not jobs.is_error, jobs.text
    assert {job["id"] for job in jobs.data["jobs"]} == {"nightly-docs", "recap-UUSER001-C0INCID"}
    assert bot.bot.services.scheduler is bot.bot.services.scheduler and not bot.bot.services.scheduler_running


def test_the_search_plugin_and_the_admin_share_the_bot_s_index_manager(bot, tmp_path):
    assert bot.bot.plugins["search"].manager() is bot.bot.services.indexes
    assert bot.bot.services.indexes.settings is bot.config.search
    assert bot.bot.services.indexes.settings.indexes_dir == tmp_path / "indexes"
    refused = bot.ask("/nlp-admin drop-index nope", user_id=ADMIN)
    assert refused.is_error and "no index named 'nope'" in refused.text
