"""`nlpbot run`, `nlpbot chat` and `nlpbot ask`: serve Slack or the console, or answer one message."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager
from typing import Any

from bot.bootstrap import bootstrap
from bot.config import Config
from bot.errors import ModelUnavailable, NlpbotError

log = logging.getLogger(__name__)


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
    # On the console the replies are the output: library INFO lines and warnings stay out of them (--verbose shows
    # them); quieted before the scheduler and the models start. A server logs at [bot] log_level.
    config = bootstrap(args.config, quiet=console)
    from bot.core import Nlpbot

    return Nlpbot(config, recap_source=slack_recaps)  # recaps read and post through Slack, whatever serves


def slack_recaps(config: Config, team: str | None = None) -> Any:
    """The Slack adapter's recap source for a workspace, imported when a recap runs (`nlpbot ask` never loads
    slack_sdk for it)."""
    from bot.adapters.slack.recaps import recap_source

    return recap_source(config, team)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.adapters.slack.startup import Credentials

    # Checked before anything loads: half-set Slack variables stop here, in one line (exit 3).
    credentials = Credentials.from_environment(os.environ, adapter=args.adapter)
    for name in [name for name, value in os.environ.items() if name.startswith("SLACK_") and not value.strip()]:
        del os.environ[name]  # empty is unset, for bolt too (it reads an empty SLACK_CLIENT_ID as "use OAuth")
    console = credentials.adapter == "console"
    bot = _bot(args, console=console and not args.verbose)
    _check_models(bot)
    if console:
        if bot.config.bot.missing_models == "stop":
            _start(bot, None, warm=False)
        print("No Slack credentials in the environment: serving the console (see README: Connect a Slack workspace).")
        with _scheduler(bot):
            return chat(bot)
    try:
        with _scheduler(bot, start=False) as scheduler:
            code = _serve(args, bot, credentials, scheduler)
    except NlpbotError as exc:  # a refused token, an unreachable Slack: one line, then leave as below
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    # Stopped: leave now. With models loaded, the interpreter's own clean-up took 8.7 s (measured 2026-11-29, tiny
    # model, idle machine), longer than many orchestrators' grace period, and a model's threads could abort it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_models(bot) -> None:
    """[bot] missing_models, before Slack is asked anything: with "stop" a plugin whose model is not there stops the
    bot (exit 3, naming it and the fix); with "degrade" it is filed on /healthz, and its answers say what is missing."""
    missing = bot.check_models()  # looked for, not loaded: a second at most
    if bot.config.bot.missing_models == "stop":
        _refuse(missing)


def _refuse(missing: dict[str, str]) -> None:
    if missing:
        raise ModelUnavailable("; ".join(f"plugin {name}: {problem}" for name, problem in sorted(missing.items()))
                               + ' ([bot] missing_models = "stop": fix it, disable the plugin with [plugins.NAME] '
                               'enabled = false, or set missing_models = "degrade" to serve without it)')


@contextmanager
def _scheduler(bot, *, start: bool = True):
    """The bot's one scheduler ([schedule] enabled), shut down on the way out; `start=False` leaves starting it to
    the caller, once Slack has accepted the bot's credentials."""
    scheduler = bot.services.scheduler if bot.config.schedule.enabled else None
    if scheduler is not None and start:
        scheduler.start()
    try:
        yield scheduler
    finally:
        if scheduler is not None:
            scheduler.shutdown()


def _serve(args: argparse.Namespace, bot, credentials, scheduler) -> int:
    from bot.adapters.slack.app import SlackAdapter

    api_url = os.environ.get("SLACK_API_URL")
    settings = bot.config.slack
    host = args.host or settings.host
    if credentials.adapter == "socket":
        from bot.adapters.slack.socket_mode import serve_socket_mode
        from bot.adapters.slack.startup import socket_url

        slack = SlackAdapter(bot, token=credentials.bot_token, api_url=api_url, socket_mode=True)  # auth.test
        url = socket_url(slack.client, credentials.app_token)  # the app token, checked before anything starts
        loads_now = args.warm or bot.config.bot.missing_models == "stop"
        _start(bot, scheduler, warm=args.warm)
        print("Connecting to Slack in Socket Mode.", flush=True)
        serve_socket_mode(slack, app_token=credentials.app_token, host=host, health_port=settings.health_port,
                          ready=lambda bound: print(f"health on http://{host}:{bound}/healthz", flush=True),
                          url=None if loads_now else url)  # after loading every model, a fresh one
        return 0
    from bot.adapters.slack.http import serve_http

    settings_oauth = None
    if credentials.oauth:
        from bot.adapters.slack.oauth import oauth_settings

        settings_oauth = oauth_settings(bot.config, client_id=credentials.client_id,
                                        client_secret=credentials.client_secret)
        print("OAuth: install into a workspace at /slack/install", flush=True)
    slack = SlackAdapter(bot, token="" if credentials.oauth else credentials.bot_token,  # with OAuth each workspace's
                         signing_secret=credentials.signing_secret, api_url=api_url,  # token is installed
                         oauth_settings=settings_oauth)
    _start(bot, scheduler, warm=args.warm)
    port = settings.port if args.port is None else args.port
    serve_http(slack, host=host, port=port, path=settings.path,
               ready=lambda bound: print(f"listening on http://{host}:{bound}{settings.path}", flush=True))
    return 0


def _start(bot, scheduler, *, warm: bool) -> None:
    """Slack accepted the bot: say which plugins lack a model ("degrade"), load the models (all of them now with
    --warm or missing_models = "stop", which refuses a model that does not load; else in the background) and start
    the scheduler."""
    for name, problem in sorted(bot.unavailable().items()):  # the operator reads it here and on /healthz
        log.warning("plugin %s is unavailable (/healthz says degraded): %s", name, problem)
    if warm or bot.config.bot.missing_models == "stop":
        bot.warm_up(log_failures=bot.config.bot.missing_models != "stop")  # "stop" says it in its error
        if bot.config.bot.missing_models == "stop":
            _refuse(bot.unavailable())
    else:
        bot.warm_up_in_background()  # Slack connects meanwhile; the hub makes an early request wait for its model
    if scheduler is not None:
        scheduler.start()


def cmd_chat(args: argparse.Namespace) -> int:
    return chat(_bot(args, console=not args.verbose), user_id=args.user)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.adapters.console import ask

    return ask(_bot(args, console=not args.verbose), " ".join(args.text), user_id=args.user, as_json=args.json)


def chat(bot, **kwargs) -> int:
    from bot.adapters.console import chat as console_chat

    return console_chat(bot, **kwargs)
