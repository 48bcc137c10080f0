"""`nlpbot slack manifest`: the Slack app manifest for the enabled plugins, to paste into the app's settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.bootstrap import bootstrap
from bot.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    slack = subparsers.add_parser("slack", help="the Slack app: its manifest for the enabled plugins")
    actions = slack.add_subparsers(dest="slack_action", metavar="ACTION", required=True)
    manifest = actions.add_parser(
        "manifest", help="write the app manifest (slash commands, shortcuts, scopes, events) for the enabled plugins",
        description="The Slack app manifest of the bot this config builds: paste it at api.slack.com/apps (App "
                    "Manifest) again after adding a command.")
    manifest.add_argument("--out", metavar="FILE", help="write it here (default: print it)")
    manifest.add_argument("--url", metavar="BASE",
                          help="HTTP mode: the bot's public base URL, e.g. https://nlpbot.example.org "
                               "(default: Socket Mode, with example URLs)")
    manifest.set_defaults(handler=cmd_manifest)


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.adapters.slack.manifest import manifest_yaml
    from bot.core import Nlpbot

    if args.url is not None and not args.url.startswith(("https://", "http://")):
        raise UsageError(f"--url takes the bot's base URL, https://HOST, not {args.url!r}")
    text = manifest_yaml(Nlpbot(bootstrap(args.config)), url=args.url)
    if not args.out:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write ({exc.strerror})") from None
    print(f"{args.out}: the manifest for {text.count(chr(10) + '    - command: ')} slash commands; paste it at "
          "api.slack.com/apps (your app, App Manifest)", file=sys.stderr)
    return 0
