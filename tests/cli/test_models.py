"""`nlpbot models` (bot/cli/models.py): trained versions, listed for every trainable plugin."""

from __future__ import annotations

import json

from tests.support.bots import sentiment_config
from tests.support.commandline import nlpbot


def test_models_list_without_a_plugin_lists_every_trainable_plugin(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    result = nlpbot("models", "list", config=config)
    assert result.returncode == 0, result.stderr
    assert {"sentiment:", "ner:", "summarize:", "translate:", "search:"} <= set(result.stdout.splitlines())
    listed = nlpbot("models", "list", "--json", config=config)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
