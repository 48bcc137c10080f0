"""The command line names no plugin: what a plugin takes (`nlpbot predict PLUGIN --to`) comes from its declaration."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.bots import ROOT

CLI_FILES = sorted((ROOT / "bot" / "cli").glob("*.py"))
PLUGIN_NAMES = sorted(path.stem for path in (ROOT / "plugins").glob("*.py") if not path.stem.startswith("_"))
# `nlpbot index ...` and `nlpbot search --index NAME --k N` are the document index's own commands (bot.search),
# not the search plugin's: bot/cli/index.py may say "search", "--index" and "--k".
INDEX_COMMANDS = {"search", "--index", "--k"}


def said(path: Path) -> set[str]:
    """The plugin names and plugin flags in a module's strings (help, flags, messages), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None}
    strings = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(PLUGIN_NAMES) + r"|--index|--k|--to)(?![\w-])")
    return {match for text in strings for match in pattern.findall(text)}


def test_the_plugins_are_found():
    assert {"search", "sentiment", "translate"} <= set(PLUGIN_NAMES)
    assert said(ROOT / "bot" / "cli" / "index.py") == INDEX_COMMANDS  # the check sees what is there


@pytest.mark.parametrize("path", CLI_FILES, ids=lambda path: path.name)
def test_no_cli_module_names_a_plugin_or_its_options(path):
    found = said(path) - (INDEX_COMMANDS if path.name == "index.py" else set())
    assert not found, f"bot/cli/{path.name} names {sorted(found)}: let the plugin declare it (predict_options, ...)"
