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
import os
import sys
from typing import Callable

from bot import __version__
from bot.bootstrap import quiet_by_default
from bot.errors import EXIT_OK, NlpbotError

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
    """Every command and subcommand takes --config PATH and --verbose, wherever they are written on the line, and
    knows its parser, so a mistake on the line is answered with that command's usage."""
    if "--config" not in parser._option_string_actions:
        parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                            help="config file (default: $NLPBOT_CONFIG, else ./config.toml)")
    if "--verbose" not in parser._option_string_actions:
        parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                            help="also show the libraries' log lines, warnings and progress bars")
    parser.set_defaults(usage_parser=parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_config_everywhere(child)


def main(argv: list[str] | None = None) -> int:
    """Exit codes (DESIGN.md): 0 ok; 1 some inputs failed, the rest done; 2 usage error; 3 runtime error."""
    args, extra = parser().parse_known_args(argv)  # a malformed command line exits 2 here, as argparse does
    if extra:  # answered with the usage of the command it was meant for (`nlpbot ask --jsn`), not the top level's
        args.usage_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", False)
    quiet_by_default(not args.verbose)  # a command's output is what it prints; libraries speak with --verbose
    try:
        code = args.handler(args) or EXIT_OK
        sys.stdout.flush()  # a reader gone shows here (below), not as a trace in the interpreter's clean-up
        return code
    except NlpbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `nlpbot models show sentiment | head -2`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is left unflushed goes nowhere
        return EXIT_OK


__all__ = ["main", "parser"]
