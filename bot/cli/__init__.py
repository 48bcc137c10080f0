"""The `nlpbot` command line: the parser, and `main`, the one place an error becomes an exit code.

Each family of commands is one module here with `register(subparsers)`, listed in COMMAND_MODULES: serving and
conversation (`run`: run, chat, ask), batch use (`predict`), `train`, `eval`, trained versions (`models`),
training data (`data`), documents (`index`: index and search), scheduled jobs (`jobs`) and the Slack app
(`slack`: its manifest). A command parses
its arguments, calls the library (bot.training, bot.search, ...) and prints; every handler takes the parsed
args and sets itself up with `bot.bootstrap.bootstrap(args.config)`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

from bot import __version__
from bot.errors import NlpbotError

# Families of subcommands, in the order `nlpbot --help` lists them.
COMMAND_MODULES = ("bot.cli.run", "bot.cli.predict", "bot.cli.train", "bot.cli.eval", "bot.cli.models", "bot.cli.data",
                   "bot.cli.index", "bot.cli.jobs", "bot.cli.slack")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nlpbot", description="A multi-task NLP Slack bot.")
    top.add_argument("--version", action="version", version=f"nlpbot {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        register: Callable = importlib.import_module(name).register
        register(sub)
    _add_config_everywhere(top)
    return top


def _add_config_everywhere(parser: argparse.ArgumentParser) -> None:
    """Every command and subcommand takes --config PATH, wherever it is written on the line."""
    if "--config" not in parser._option_string_actions:
        parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                            help="config file (default: $NLPBOT_CONFIG, else ./config.toml)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_config_everywhere(child)


def main(argv: list[str] | None = None) -> int:
    """Exit codes (DESIGN.md): 0 ok; 1 some inputs failed, the rest done; 2 usage error; 3 runtime error."""
    args = parser().parse_args(argv)  # a malformed command line exits 2 here, as argparse does
    args.config = getattr(args, "config", None)
    try:
        return args.handler(args) or 0
    except NlpbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "parser"]
