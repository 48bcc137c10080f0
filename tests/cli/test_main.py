"""The command line as a whole (bot/cli/__init__.py): --version, and every error as its exit code."""

from __future__ import annotations

from bot.config import load_config
from bot.plugin_manager import trainable_plugins
from tests.support.bots import sentiment_config
from tests.support.commandline import nlpbot


def test_version():
    result = nlpbot("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"nlpbot {__import__('bot').__version__}"


def test_usage_errors_exit_2_and_say_what_was_wrong(make_config, tiny_sentiment):
    config = make_config(sentiment_config(tiny_sentiment))
    unknown = nlpbot("models", "list", "nosuch", config=config)
    assert unknown.returncode == 2
    found = trainable_plugins(load_config(config))  # the built-ins, classifiers, and what installed packages add
    trainable = ", ".join(found)
    assert {"ner", "search", "sentiment", "summarize", "translate"} <= set(found)
    assert unknown.stderr == f"error: 'nosuch' cannot be trained; trainable plugins: {trainable}\n"
    no_plugin = nlpbot("predict", "nosuch", config=config, stdin="hello\n")
    assert no_plugin.returncode == 2 and "no enabled plugin 'nosuch'" in no_plugin.stderr
    assert nlpbot("jobs", "run", config=config).returncode == 2
    assert nlpbot("frobnicate").returncode == 2  # argparse's own usage errors


def test_a_missing_model_is_a_runtime_error(make_config):
    config = make_config('[models]\nmodels_dir = "models"\n')  # sentiment serves trained:sentiment, never trained here
    result = nlpbot("predict", "sentiment", config=config, stdin="I love this\n")
    assert result.returncode == 3, result.stderr
    assert "nlpbot train sentiment" in result.stderr and "Traceback" not in result.stderr
