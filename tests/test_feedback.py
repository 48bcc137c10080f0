"""A "wrong?" click is stored with the model version that gave the answer, even after a promotion on disk."""

from __future__ import annotations

import shutil

from bot.config import load_config
from bot.core import Nlpbot
from bot.models.versions import promote
from tests.support.bots import write_config

OLD, NEW = "v0001-20261101T0900", "v0002-20261102T0900"


def test_an_answer_names_the_version_that_made_it_until_the_new_one_is_swapped_in(tmp_path, tiny_sentiment):
    for version in (OLD, NEW):
        shutil.copytree(tiny_sentiment, tmp_path / "models" / "sentiment" / version)
    promote(tmp_path / "models", "sentiment", OLD)
    others = "".join(f"[plugins.{name}]\nenabled = false\n" for name in ("ner", "summarize", "translate", "search"))
    bot = Nlpbot(load_config(write_config(tmp_path, f'[models]\nmodels_dir = "models"\n[plugins.sentiment]\n'
                                                    f'model = "trained:sentiment"\n{others}')))

    assert bot.ask("/sentiment I love this").data["model_version"] == OLD
    promote(tmp_path / "models", "sentiment", NEW)  # another process promotes; this one has not swapped yet
    assert bot.ask("/sentiment I love this").data["model_version"] == OLD  # what serving.json says is not what answered
    assert bot.services.hub.refresh_trained() == ["trained:sentiment"]
    assert bot.ask("/sentiment I love this").data["model_version"] == NEW
