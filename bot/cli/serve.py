"""`nlpbot run`, `nlpbot chat` and `nlpbot ask`: serve Slack or the console, or answer one message."""

from __future__ import annotations

import argparse
import os

from bot.bootstrap import bootstrap
from bot.errors import ConfigError
from bot.logs import quiet_for_console


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="serve Slack (Socket Mode or HTTP) or the console")
    run.add_argument("--adapter", choices=["socket", "http", "console"])
    run.add_argument("--port", type=int)
    run.add_argument("--host")
    run.add_argument("--warm", action="store_true", help="load every model before serving (default: in the background)")
    run.set_defaults(handler=cmd_run)

    chat = subparsers.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--user", default="console", help="act as this Slack user id (admins are listed by id)")
    chat.set_defaults(handler=cmd_chat)

    ask = subparsers.add_parser("ask", help='one message, e.g. nlpbot ask "/sentiment I love this"')
    ask.add_argument("--json", action="store_true", help='print {"plugin", "text", "blocks", "data"}')
    ask.add_argument("--user", default="console", help="act as this Slack user id")
    ask.add_argument("text", nargs="+")
    ask.set_defaults(handler=cmd_ask)


def _bot(args: argparse.Namespace, *, console: bool):
    config = bootstrap(args.config)
    if console:
        quiet_for_console()  # before the scheduler and the models start: their INFO lines are not replies
    from bot.core import Nlpbot

    return Nlpbot(config)


def cmd_run(args: argparse.Namespace) -> int:
    adapter = args.adapter or (
        "socket" if os.environ.get("SLACK_APP_TOKEN") else "http" if os.environ.get("SLACK_SIGNING_SECRET") else "console"
    )
    bot = _bot(args, console=adapter == "console")
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

        print("No Slack credentials in the environment: serving the console (see README: Connect Slack).")
        return chat(bot)
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) comes from the environment")
    from bot.adapters.slack import SlackAdapter

    if args.warm:
        bot.warm_up()
    else:
        bot.warm_up_in_background()  # Slack connects meanwhile; the hub makes an early request wait for its model
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

    return chat(_bot(args, console=True), user_id=args.user)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.adapters.console import ask

    return ask(_bot(args, console=True), " ".join(args.text), user_id=args.user, as_json=args.json)
