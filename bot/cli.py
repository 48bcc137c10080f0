"""The `nlpbot` command line: run, chat, ask, predict, and the train / models / index / search / jobs families."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Callable

from bot.bootstrap import bootstrap
from bot.config import Config
from bot.errors import ConfigError, NlpbotError

log = logging.getLogger("bot")

# Families of subcommands that live beside their feature; each module has register(subparsers).
COMMAND_MODULES = ("bot.training.cli", "bot.search.cli", "bot.scheduler")


def load(args: argparse.Namespace) -> Config:
    """The config named by --config / $NLPBOT_CONFIG / ./config.toml, set up by `bot.bootstrap`."""
    return bootstrap(getattr(args, "config", None))


def build_bot(args: argparse.Namespace):
    from bot.core import Nlpbot

    return Nlpbot(load(args))


def quiet_console() -> None:
    """On the console the replies are the output: INFO lines would interleave with them (DEBUG still shows all)."""
    root = logging.getLogger()
    if root.level == logging.INFO:
        root.setLevel(logging.WARNING)


def cmd_run(args: argparse.Namespace) -> int:
    adapter = args.adapter or (
        "socket" if os.environ.get("SLACK_APP_TOKEN") else "http" if os.environ.get("SLACK_SIGNING_SECRET") else "console"
    )
    bot = build_bot(args)
    scheduler = None
    if bot.config.schedule.enabled:
        from bot.scheduler import Scheduler

        scheduler = Scheduler(bot.config, bot=bot)
        scheduler.start()
        bot.services.scheduler = scheduler
    try:
        return _serve(args, bot, adapter)
    finally:
        if scheduler is not None:
            scheduler.shutdown()


def _serve(args: argparse.Namespace, bot, adapter: str) -> int:
    if adapter == "console":
        from bot.adapters.console import chat

        quiet_console()
        print("No Slack credentials in the environment: serving the console (see README: Connect Slack).")
        return chat(bot)
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) comes from the environment")
    from bot.adapters.slack import SlackAdapter

    if args.warm:
        bot.warm_up()
    if adapter == "socket":
        app_token = os.environ.get("SLACK_APP_TOKEN")
        if not app_token:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...)")
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        slack = SlackAdapter(bot, token=token, api_url=os.environ.get("SLACK_API_URL"), socket_mode=True)
        print("Connecting to Slack in Socket Mode.", flush=True)
        SocketModeHandler(slack.app, app_token).start()
        return 0
    secret = os.environ.get("SLACK_SIGNING_SECRET")
    if not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it")
    from bot.adapters.http import serve_http

    slack = SlackAdapter(bot, token=token, signing_secret=secret, api_url=os.environ.get("SLACK_API_URL"))
    settings = bot.config.slack
    port = settings.port if args.port is None else args.port
    host = args.host or settings.host
    serve_http(slack, host=host, port=port, path=settings.path,
               ready=lambda bound: print(f"listening on http://{host}:{bound}{settings.path}", flush=True))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.adapters.console import chat

    bot = build_bot(args)
    quiet_console()
    return chat(bot, user_id=args.user)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.adapters.console import ask

    bot = build_bot(args)
    quiet_console()
    return ask(bot, " ".join(args.text), user_id=args.user, as_json=args.json)


def cmd_predict(args: argparse.Namespace) -> int:
    from bot.predict import predict_stream

    bot = build_bot(args)
    options = {key: value for key, value in (("index", args.index), ("k", args.k), ("target", args.to))
               if value is not None}
    if args.input and args.input != "-":
        path = Path(args.input)
        try:
            with path.open(encoding="utf-8", errors="strict") as lines:
                failed = predict_stream(bot, args.plugin, lines, sys.stdout, source=str(path), options=options)
        except UnicodeDecodeError as exc:
            raise NlpbotError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise NlpbotError(f"{path}: cannot read ({exc.strerror})") from None
    else:
        failed = predict_stream(bot, args.plugin, sys.stdin, sys.stdout, options=options)
    if failed:
        print(f"{failed} input(s) could not be scored; their lines carry an \"error\".", file=sys.stderr)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: $NLPBOT_CONFIG, else ./config.toml)")
    top = argparse.ArgumentParser(prog="nlpbot", description="A multi-task NLP Slack bot.", parents=[common])
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", parents=[common], help="serve Slack (Socket Mode or HTTP) or the console")
    run.add_argument("--adapter", choices=["socket", "http", "console"])
    run.add_argument("--port", type=int)
    run.add_argument("--host")
    run.add_argument("--warm", action="store_true", help="load every model before serving")
    run.set_defaults(handler=cmd_run)

    chat = sub.add_parser("chat", parents=[common], help="talk to the bot in the terminal")
    chat.add_argument("--user", default="console", help="act as this Slack user id (admins are listed by id)")
    chat.set_defaults(handler=cmd_chat)

    ask = sub.add_parser("ask", parents=[common], help='one message, e.g. nlpbot ask "/sentiment I love this"')
    ask.add_argument("--json", action="store_true", help='print {"plugin", "text", "blocks", "data"}')
    ask.add_argument("--user", default="console", help="act as this Slack user id")
    ask.add_argument("text", nargs="+")
    ask.set_defaults(handler=cmd_ask)

    predict = sub.add_parser("predict", parents=[common], help="batch: JSON lines in, JSON lines out")
    predict.add_argument("plugin")
    predict.add_argument("--input", metavar="FILE", help="JSON lines ({\"text\": ...}) or plain lines; default stdin")
    predict.add_argument("--index", help="search: which index")
    predict.add_argument("--k", type=int, help="search: hits per query")
    predict.add_argument("--to", metavar="LANG", help="translate: target language (default: its default_target)")
    predict.set_defaults(handler=cmd_predict)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that feature is not installed in this build
            raise
        register: Callable = module.register
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
    args = parser().parse_args(argv)
    args.config = getattr(args, "config", None)
    try:
        return args.handler(args) or 0
    except NlpbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
