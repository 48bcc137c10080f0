"""The adapters, the command line and the feedback store name no plugin: what they need comes from declarations.

No string in bot/adapters/, bot/engines/, bot/cli/ or bot/feedback.py (docstrings aside) names an installed plugin,
one of its commands, shortcuts or predict flags, or a label it declares: a plugin says what it takes
(`predict_options`), what people may correct (`feedback()`), its shortcuts and forms, and they read that.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.plugin_manager import discover
from tests.support.bots import ROOT

CHECKED = sorted([*(ROOT / "bot" / "adapters").rglob("*.py"), *(ROOT / "bot" / "engines").glob("*.py"),
                  *(ROOT / "bot" / "cli").glob("*.py"), ROOT / "bot" / "feedback.py"])
# Names that are also English words: flagged only where they stand as a command (exactly, as /NAME, or opening a
# command line), not in prose such as "an admin can add it" or "ask again".
PROSE = {"admin", "ask", "index", "search", "summarize", "translate"}
# The command line's own words, not a plugin's: `nlpbot ask` (one message to the bot), `nlpbot index ...` and
# `nlpbot search --index NAME --k N` (the document index, bot.search), and the hard "negative" of the BEIR training
# pairs `nlpbot data beir` writes ({"query", "positive", "negative"}), which is no label.
OWN = {"run.py": {"ask"}, "index.py": {"index", "search", "--index", "--k"}, "data.py": {"negative"}}


def declared_names() -> tuple[set[str], set[str]]:
    """(names: plugins, commands, shortcut ids and predict flags; labels: what the plugins' feedback offers)."""
    names, labels = set(), set()
    for name, load in discover().items():
        cls = load()
        names |= {name, *(spec.name for spec in cls.commands()), *(s.callback_id for s in cls.shortcuts)}
        names |= {option.flag for option in cls.predict_options}
        labels |= set(cls.labels or ())
    for plugin in Nlpbot(load_config(ROOT / "config.toml")).plugins.values():
        labels |= set(getattr(plugin.feedback(), "labels", ()))
    return names, labels


NAMES, LABELS = declared_names()


def strings(source: str) -> list[str]:
    """Every string literal and f-string part of a module, docstrings left out."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def named(text: str, names: set[str] = NAMES, labels: set[str] = LABELS) -> set[str]:
    """The declared names a string says: exactly, as /COMMAND, opening a command line, or (not English) anywhere."""
    found = {text.strip().lstrip("/")} & (names | labels)
    for name in names:
        word = re.escape(name)
        if re.search(rf"(?<![\w/.-])/{word}(?![\w-])", text) or re.match(rf"{word} ", text):
            found.add(name)
        elif name not in PROSE and re.search(rf"(?<![A-Za-z0-9]){word}(?![A-Za-z0-9])", text):
            found.add(name)
    return found


def test_the_check_knows_the_plugins_and_catches_how_code_named_them():
    assert {"sentiment", "ner", "nlp-admin", "entities", "sentiment_message", "--to"} <= NAMES
    assert {"positive", "PERSON"} <= LABELS
    caught = ['command in ("sentiment", "entities")', 'SHORTCUTS = {"summarize_thread": "summarize"}',
              'modal_for("index", text)', 'f"nlp-admin train {plugin}"', '"`/nlp-admin models`, `/index`"',
              'CONLL_TYPES = ("PER", "ORG", "LOC", "MISC")', 'f"index in:{name}"', '"--to"']
    for line in caught:
        assert set().union(*(named(text) for text in strings(f"X = {line}"))), line
    for prose in ['"an admin can add it to the app"', '"then ask again"', 'f"the index {name} is stale"',
                  '"an answer with positive feedback"']:
        assert not set().union(*(named(text) for text in strings(f"X = {prose}"))), prose


@pytest.mark.parametrize("path", CHECKED, ids=lambda path: str(path.relative_to(ROOT / "bot")))
def test_no_adapter_cli_or_feedback_module_names_a_plugin(path: Path):
    found = set().union(*(named(text) for text in strings(path.read_text(encoding="utf-8"))))
    found -= OWN.get(path.name, set()) if path.parent.name == "cli" else set()
    assert not found, (f"{path.relative_to(ROOT)} names {sorted(found)}: let the plugin declare it (feedback(), "
                       "shortcuts, forms(), @subcommand, predict_options) and read the declaration")
