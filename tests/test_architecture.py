"""The shape of bot/: layers that import only downward, Slack only in the adapters, no import cycles (function-level
imports included), no module over 250 lines without a reason."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.bots import ROOT

PACKAGE = ROOT / "bot"
MAX_LINES = 250
REASON = "long because"  # a module over MAX_LINES says why in its docstring, with these words


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The bot modules `name` imports anywhere in its body: top level, in functions, under TYPE_CHECKING, and by
    name (a string such as "bot.cli.jobs", as `importlib.import_module` takes it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MODULES:
            targets = [node.value]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from bot.search import index` imports the module bot.search.index; `from bot.x import f` imports bot.x
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `import bot.search.index.Thing` -> the module part
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph.get(node, ()):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _ancestors(name: str) -> set[str]:
    """Importing bot.a.b runs bot/__init__ and bot/a/__init__ first: not an edge a reader can untangle."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_the_graph_sees_function_level_imports():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert "bot.adapters.console" in graph["bot.cli.run"]  # imported inside cmd_chat
    assert "bot.config" in graph["bot.scheduler"]
    assert "bot.cli.jobs" in graph["bot.cli"]  # by name, through importlib
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_bot_has_no_import_cycle():
    graph = {name: _imports(name, path) - _ancestors(name) for name, path in MODULES.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles in bot/ (put the shared part lower): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_only_the_command_line_builds_an_adapter_into_the_core():
    """The core, the scheduler and bot.recaps see plain Requests and a RecapSource; only bot/cli wires in Slack."""
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    outside = {name: sorted(t for t in targets if t.startswith("bot.adapters")) for name, targets in graph.items()
               if not name.startswith(("bot.adapters", "bot.cli"))}
    assert not {name: found for name, found in outside.items() if found}
    assert "bot.adapters.slack.recaps" in graph["bot.cli.run"] | graph["bot.cli.jobs"]  # the recap source, injected


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_long_without_saying_why(name):
    path = MODULES[name]
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert REASON in docstring, (f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES}): split it where its "
                                 f"rooms divide, or say in its docstring why it is {REASON} ...")


# The layers, lowest first: a module may import its own layer and those below it, never one above (function-level
# imports and TYPE_CHECKING imports included). Plugins (plugins/*.py) sit between the plugin API and the adapters.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors, config and text", ("bot", "bot.errors", "bot.config", "bot.text", "bot.logs", "bot.metrics", "bot.reply",
                                 "bot.format", "bot.request", "bot.bootstrap", "bot.workers", "bot.state")),
    ("models, search, training, recaps", ("bot.models", "bot.search", "bot.training", "bot.recaps", "bot.feedback")),
    ("services", ("bot.scheduler",)),
    ("plugin API", ("bot.declarations", "bot.plugin", "bot.plugin_manager", "bot.exports", "bot.router", "bot.core")),
    ("plugins", ("plugins",)),
    ("adapters", ("bot.adapters", "bot.engines")),
    ("cli", ("bot.cli", "bot.__main__")),
]
PLUGIN_MODULES = {f"plugins.{path.stem}": path for path in sorted((ROOT / "plugins").glob("*.py"))
                  if path.stem != "__init__"}


def layer_of(module: str) -> int:
    """The layer whose longest prefix names the module (bot.search.index -> "models, search, ...")."""
    best, length = -1, -1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or (prefix != "bot" and module.startswith(prefix + "."))) and len(prefix) > length:
                best, length = number, len(prefix)
    if best < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_architecture.py")
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
                  for name, targets in graph.items() for target in targets if layer_of(target) > layer_of(name))


def test_every_module_is_in_a_layer_and_no_import_runs_upward():
    graph = {name: _imports(name, path) - _ancestors(name) for name, path in {**MODULES, **PLUGIN_MODULES}.items()}
    assert upward_imports(graph) == [], "imports that run upward (move the shared part down, or hand it in):"
    # the check itself: an import from the core into the Slack adapter is caught, and so is one from a model
    assert upward_imports({"bot.core": {"bot.adapters.slack.app"}, "bot.models.hub": {"plugins.search"}}) == [
        "bot.core (plugin API) imports bot.adapters.slack.app (adapters)",
        "bot.models.hub (models, search, training, recaps) imports plugins.search (plugins)"]


SLACK_LIBRARIES = ("slack_sdk", "slack_bolt")


def reads_slack_markup(pattern: str) -> bool:
    """A regular expression that matches Slack's markup for a person, a channel or a broadcast (<@U1>, <#C1|x>,
    <!here>); a lookbehind such as (?<!x) is not one."""
    return re.search(r"(?<!\(\?)<\[?[@#!]", pattern) is not None


def test_the_markup_check_knows_slack_markup_from_regex_syntax():
    assert reads_slack_markup(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>") and reads_slack_markup(r"<#([CGD][A-Z0-9]+)")
    assert reads_slack_markup(r"<!(here|channel|everyone)") and reads_slack_markup(r"<[@#]\w+>")
    assert not reads_slack_markup(r"(?<![\w*])\*(?P<bold>[^*]+)\*") and not reads_slack_markup(r"<b>(.*?)</b>")


@pytest.mark.parametrize("name", sorted(name for name in {**MODULES, **PLUGIN_MODULES}
                                        if not name.startswith("bot.adapters")))
def test_only_the_adapters_know_slack(name):
    """No module outside bot/adapters imports Slack's libraries or an adapter (but the CLI, which wires them in), or
    uses a pattern that reads Slack's markup (bot.format renders a reply's mrkdwn; reading what people typed in
    Slack is bot/adapters/slack/markup.py's job)."""
    path = {**MODULES, **PLUGIN_MODULES}[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    slack = sorted(module for module in imported if module.split(".")[0] in SLACK_LIBRARIES
                   or (module.startswith("bot.adapters") and not name.startswith("bot.cli")))  # the CLI wires them in
    assert not slack, f"{name} imports {slack}: Slack lives in bot/adapters/slack"
    patterns = [node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") in {"compile", "sub", "match", "search", "finditer", "findall"}
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    parsing = [pattern for pattern in patterns if reads_slack_markup(pattern)]
    assert not parsing, f"{name} parses Slack markup with {parsing}: bot/adapters/slack/markup.py does that"
