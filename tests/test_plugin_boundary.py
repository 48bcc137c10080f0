"""Plugins cannot see Slack: they import no adapter or Slack library, read no token, and parse no Slack markup."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support.bots import ROOT

PLUGIN_FILES = sorted((ROOT / "plugins").glob("*.py"))
SLACK_MODULES = ("bot.adapters", "slack_sdk", "slack_bolt")
# What only code that knows Slack says: an env token, a token prefix, a file link, or a user or channel reference.
SLACK_WORDS = re.compile(r"SLACK_BOT_TOKEN|xox[bpa]-|url_private|<@|<#C|<!(?:here|channel|subteam)")


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):  # imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_there_are_plugins_to_check():
    assert {"admin.py", "search.py", "summarize.py"} <= {path.name for path in PLUGIN_FILES}


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda path: path.name)
def test_a_plugin_imports_nothing_from_slack_or_the_adapters(path):
    modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    found = sorted(name for name in modules if name.startswith(SLACK_MODULES) or name == "bot.adapters")
    assert not found, f"{path.name} imports {found}: the adapter hands plugins plain objects instead"


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda path: path.name)
def test_a_plugin_reads_no_token_and_parses_no_slack_markup(path):
    found = slack_words(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name} knows Slack ({found}); files and messages arrive clean from the adapter"


def slack_words(tree: ast.AST) -> set[str]:
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return {match.group(0) for text in strings for match in SLACK_WORDS.finditer(text)}


def test_the_checks_catch_a_plugin_that_knows_slack():
    sneaky = ast.parse('from slack_sdk import WebClient\nimport os\nTOKEN = os.environ["SLACK_BOT_TOKEN"]\n'
                       'MENTION = r"^<@[A-Z0-9]+> summarize"\n')
    assert "slack_sdk.WebClient" in imported_modules(sneaky)
    assert slack_words(sneaky) == {"SLACK_BOT_TOKEN", "<@"}
