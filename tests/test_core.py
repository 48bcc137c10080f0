"""The core: a cheap constructor, and the services it hands plugins."""

from __future__ import annotations

from bot.config import load_config
from bot.core import Nlpbot
from tests.support.bots import write_config


def test_building_the_bot_builds_services_only_on_first_use(tmp_path):
    bot = Nlpbot(load_config(write_config(tmp_path, "")))
    assert not (tmp_path / "state").exists()  # no scheduler (its job store) yet, and no index opened
    scheduler, indexes = bot.services.scheduler, bot.services.indexes
    assert scheduler is bot.services.scheduler and indexes is bot.services.indexes  # built once
    assert scheduler.bot is bot and not bot.services.scheduler_running  # `nlpbot run` starts this one
    assert (tmp_path / "state" / "jobs.sqlite").exists()
