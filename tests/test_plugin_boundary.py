"""Plugins cannot see Slack: they import no adapter or Slack library, read no token, and neither parse nor write
Slack markup (bot.format renders a channel or a link for them)."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support.bots import ROOT

PLUGIN_FILES = sorted((ROOT / "plugins").glob("*.py"))
SLACK_MODULES = ("bot.adapters", "slack_sdk", "slack_bolt")
# What only code that knows Slack says: an env token, a token prefix, a file link, or Slack's markup for a person
# (<@U1>), a channel (<#C1|general>), a broadcast or date (<!here>, <!date^...>) or a link (<https://x|label>), in
# any string: a literal, an f-string (each value read as "{}": f"<#{channel}>" says "<#{}>") or a "+" of them.
SLACK_WORDS = re.compile(r"SLACK_BOT_TOKEN|xox[bpa]-|url_private|<[@#!]|<(?:https?:|mailto:|\{\})[^<>\s]*\|")


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
def test_a_plugin_reads_no_token_and_neither_parses_nor_writes_slack_markup(path):
    found = slack_words(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, (f"{path.name} knows Slack ({found}): files and messages arrive plain from the adapter, and "
                       "bot.format renders a channel (channel_link) or a link (link) in a reply")


def rendered(node: ast.AST) -> str | None:
    """The text a string expression makes, a value in it as "{}"; None for anything that is not a string."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.FormattedValue):
        return "{}"
    if isinstance(node, ast.JoinedStr):
        return "".join(rendered(part) or "" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = rendered(node.left), rendered(node.right)
        return None if left is None and right is None else (left or "{}") + (right or "{}")
    return None


def slack_words(tree: ast.AST) -> set[str]:
    strings = [text for node in ast.walk(tree) if (text := rendered(node)) is not None]
    return {match.group(0) for text in strings for match in SLACK_WORDS.finditer(text)}


def test_the_checks_catch_a_plugin_that_knows_slack():
    sneaky = ast.parse('from slack_sdk import WebClient\nimport os\nTOKEN = os.environ["SLACK_BOT_TOKEN"]\n'
                       'MENTION = r"^<@[A-Z0-9]+> summarize"\n')
    assert "slack_sdk.WebClient" in imported_modules(sneaky)
    assert slack_words(sneaky) == {"SLACK_BOT_TOKEN", "<@"}


@pytest.mark.parametrize("line", [
    'f"<#{channel}|{name}>"', 'f"in <#{channel_id}>."', 'f"ask <@{user}>"', '"<!here> " + text', 'f"<!date^{ts}^{{date}}|x>"',
    '"<#" + channel + ">"', 'f"<{url}|open>"', '"see <https://x.io|the doc>"', '"<#%s>" % channel', '"<@{}>".format(user)',
])
def test_the_checks_catch_slack_markup_written_in_any_form(line):
    assert slack_words(ast.parse(f"TEXT = {line}\n")), line


@pytest.mark.parametrize("line", ['f"{count} < {limit}"', '"a <= b"', 'f"`{name}` #{number}"', '"x<y and y>z"',
                                  'f"<b>{title}</b>"'])
def test_the_checks_leave_plain_text_alone(line):
    assert not slack_words(ast.parse(f"TEXT = {line}\n")), line
