"""`nlpbot run`, `nlpbot chat` and `nlpbot ask`: serve Slack or the console, or answer one message."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from bot.bootstrap import bootstrap
from bot.config import Config
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

    ask = subparsers.add_parser("ask", help='one message as typed in Slack, e.g. nlpbot ask "help"')
    ask.add_argument("--json", action="store_true", help='print {"plugin", "text", "blocks", "data"}')
    ask.add_argument("--user", default="console", help="act as this Slack user id")
    ask.add_argument("text", nargs="+")
    ask.set_defaults(handler=cmd_ask)


def _bot(args: argparse.Namespace, *, console: bool):
    config = bootstrap(args.config)
    if console:
        quiet_for_console()  # before the scheduler and the models start: their INFO lines are not replies
    from bot.core import Nlpbot

    return Nlpbot(config, recap_source=slack_recaps)  # recaps read and post through Slack, whatever serves


def slack_recaps(config: Config, team: str | None = None) -> Any:
    """The Slack adapter's recap source for a workspace, imported when a recap runs (`nlpbot ask` never loads
    slack_sdk for it)."""
    from bot.adapters.slack.recaps import recap_source

    return recap_source(config, team)


def cmd_run(args: argparse.Namespace) -> int:
    adapter = args.adapter or (
        "socket" if os.environ.get("SLACK_APP_TOKEN") else "http" if os.environ.get("SLACK_SIGNING_SECRET") else "console"
    )
    bot = _bot(args, console=adapter == "console")
    scheduler = None
    if bot.config.schedule.enabled:
        scheduler = bot.services.scheduler  # the one the plugins see, started now
        scheduler.start()
    try:
        code = _serve(args, bot, adapter)
    finally:
        if scheduler is not None:
            scheduler.shutdown()
    if adapter != "console":
        # Drained and stopped: leave now. With models loaded, the interpreter's own clean-up took 8.7 s
        # (measured 2026-11-29, tiny model, idle machine), longer than many orchestrators' grace period.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _serve(args: argparse.Namespace, bot, adapter: str) -> int:
    if adapter == "console":
        from bot.adapters.console import chat

        print("No Slack credentials in the environment: serving the console (see README: Connect Slack).")
        return chat(bot)
    oauth = adapter == "http" and bool(os.environ.get("SLACK_CLIENT_ID") and os.environ.get("SLACK_CLIENT_SECRET"))
    token = "" if oauth else os.environ.get("SLACK_BOT_TOKEN")  # with OAuth each workspace's token is installed
    if not token and not oauth:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) comes from the environment")
    from bot.adapters.slack.app import SlackAdapter

    if args.warm:
        bot.warm_up()
    else:
        bot.warm_up_in_background()  # Slack connects meanwhile; the hub makes an early request wait for its model
    if adapter == "socket":
        app_token = os.environ.get("SLACK_APP_TOKEN")
        if not app_token:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...)")
        from bot.adapters.slack.socket_mode import serve_socket_mode

        slack = SlackAdapter(bot, token=token, api_url=os.environ.get("SLACK_API_URL"), socket_mode=True)
        settings = bot.config.slack
        print("Connecting to Slack in Socket Mode.", flush=True)
        serve_socket_mode(slack, app_token=app_token, host=args.host or settings.host, health_port=settings.health_port,
                          ready=lambda bound: print(f"health on http://{args.host or settings.host}:{bound}/healthz",
                                                    flush=True))
        return 0
    secret = os.environ.get("SLACK_SIGNING_SECRET")
    if not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it")
    from bot.adapters.slack.http import serve_http

    settings_oauth = None
    if oauth:
        from bot.adapters.slack.oauth import oauth_settings

        settings_oauth = oauth_settings(bot.config, client_id=os.environ["SLACK_CLIENT_ID"],
                                        client_secret=os.environ["SLACK_CLIENT_SECRET"])
        print("OAuth: install into a workspace at /slack/install", flush=True)
    slack = SlackAdapter(bot, token=token, signing_secret=secret, api_url=os.environ.get("SLACK_API_URL"),
                         oauth_settings=settings_oauth)
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
