"""`nlpbot predict PLUGIN`: JSON lines in, one JSON line out per input, with a progress bar on a terminal.

The plugin named on the line brings its own flags: the `predict_options` its class declares (`bot.plugin.Option`)
are parsed here and passed to its `predict(texts, **options)` on either engine. A flag the plugin does not
declare is a usage error naming the ones it does; `nlpbot predict PLUGIN --help` lists them.
"""

from __future__ import annotations

import argparse
import copy
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO, Callable, Sequence

from bot.bootstrap import bootstrap
from bot.engines import add_engine_arguments
from bot.errors import EXIT_OK, EXIT_SOME_INPUTS_FAILED, UsageError

DESCRIPTION = ("Batch use of any plugin: JSON lines in, one JSON line out per input, in order, models loaded once. "
               "A plugin's own options: nlpbot predict PLUGIN --help.")
OPTION_DEST = "plugin_option_"  # where argparse keeps a plugin's option until it moves into args.plugin_options


def register(subparsers: argparse._SubParsersAction) -> None:
    listed = subparsers.add_parser("predict", help="batch: JSON lines in, JSON lines out")  # its line in --help
    # The parsing is PredictParser's: it reads the plugin's name off the line before the plugin's flags are known.
    predict = subparsers.choices["predict"] = PredictParser(prog=listed.prog, description=DESCRIPTION)
    _arguments(predict, None, ())


def _arguments(parser: argparse.ArgumentParser, plugin: str | None, options: Sequence[Any]) -> None:
    parser.add_argument("plugin", help="an enabled plugin with batch use; `nlpbot predict PLUGIN --help` shows its options")
    parser.add_argument("--input", metavar="FILE", help="JSON lines ({\"text\": ...}) or plain lines; default stdin")
    parser.add_argument("--output", metavar="FILE",
                        help="write the JSON lines here instead of stdout; a file left by an interrupted run is continued")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none off a terminal)")
    add_engine_arguments(parser)
    parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="config file (default: $NLPBOT_CONFIG, else ./config.toml)")
    if options:
        group = parser.add_argument_group(f"the {plugin} plugin's options")
        for option in options:
            group.add_argument(option.flag, dest=OPTION_DEST + option.name, type=option.type, default=option.default,
                               metavar=option.metavar or option.name.upper(), help=option.help)
    parser.set_defaults(handler=cmd_predict)


class PredictParser(argparse.ArgumentParser):
    """Parses `nlpbot predict PLUGIN ...` with the options PLUGIN declares: the plugin is found on the line first."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        from bot.engines.stream import option_list
        from bot.plugin_manager import discover

        args = list(sys.argv[1:] if args is None else args)
        installed = discover()
        name = _plugin_on_line(args, self._own_flags())
        declared = _declared(installed, name)
        full = argparse.ArgumentParser(prog=self.prog, description=self.description)
        try:
            _arguments(full, name, declared)
        except argparse.ArgumentError as exc:
            self.error(f"the {name} plugin declares an option that nlpbot predict has itself: {exc}")
        parsed, extras = full.parse_known_args(args, copy.copy(namespace))
        if extras:
            if name not in installed:
                full.error(f"no plugin {name!r} (installed: {', '.join(sorted(installed))}); "
                           f"unrecognized arguments: {' '.join(extras)}")
            unknown = next((extra.split("=", 1)[0] for extra in extras if extra.startswith("-")), None)
            said = f"has no option {unknown}" if unknown else f"takes no arguments {' '.join(extras)}"
            full.error(f"the {name} plugin {said}; {option_list(declared)}")
        parsed.plugin_options = {option.name: value for option in declared
                                 if (value := vars(parsed).pop(OPTION_DEST + option.name)) is not None}
        return parsed, extras

    def _own_flags(self) -> dict[str, bool]:
        """The flags of `nlpbot predict` itself, and whether each takes a value (`--input FILE`)."""
        return {flag: action.nargs != 0 for action in self._actions for flag in action.option_strings}


def _declared(installed: dict[str, Callable[[], Any]], name: str | None) -> tuple[Any, ...]:
    """The predict options plugin NAME declares; none for a name that is not installed (the command says so)."""
    try:
        return tuple(installed[name]().predict_options) if name in installed else ()
    except Exception:  # noqa: BLE001 - a plugin that does not load is reported when the bot starts, with its reason
        return ()


def _plugin_on_line(args: list[str], own_flags: dict[str, bool]) -> str | None:
    """The plugin a line names: its first word that is neither a flag nor the value after one. A flag that is not
    `nlpbot predict`'s own is the plugin's, and the word after it may be its value (`--opt VALUE PLUGIN`)."""
    words: list[tuple[str, bool]] = []  # (word, whether it may be the value of a plugin's flag)
    skip = maybe_value = False
    for position, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--":
            words += [(word, False) for word in args[position + 1:]]
            break
        elif arg.startswith("-") and arg != "-":
            skip, maybe_value = own_flags.get(arg, False), arg not in own_flags and "=" not in arg
            continue
        else:
            words.append((arg, maybe_value))
        maybe_value = False
    return next((word for word, maybe in words if not maybe), words[0][0] if words else None)


def _open_input(name: str | None) -> tuple[BinaryIO, str]:
    """(lines as bytes, name for messages): stdin, or the file named. Lines are decoded one by one later."""
    if not name or name == "-":
        return sys.stdin.buffer, "<stdin>"
    try:
        return open(name, "rb"), name
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror})") from None


def _progress_bar(stack: ExitStack, lines: BinaryIO, show: bool) -> Callable[[int], object] | None:
    """tqdm on stderr, only when stderr is a terminal: piped or logged runs stay clean."""
    if not show or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    total = None
    if lines is not sys.stdin.buffer:  # a file is counted first, so the bar has an end
        with open(lines.name, "rb") as raw:
            total = sum(1 for _ in raw)
    bar = stack.enter_context(tqdm(total=total, unit="line", file=sys.stderr, dynamic_ncols=True))
    return bar.update


def cmd_predict(args: argparse.Namespace) -> int:
    from bot.core import Nlpbot
    from bot.engines.stream import Resume, predict_stream, resume_output

    bot = Nlpbot(bootstrap(args.config))
    chunk = None
    if args.engine == "ray":  # the plugin's model calls go to the cluster; reading and writing stay here
        from bot.engines.ray import RAY_CHUNK, on_ray

        bot, chunk = on_ray(bot, args.plugin, address=args.ray_address), RAY_CHUNK
    options = getattr(args, "plugin_options", {})  # the plugin's own flags (PredictParser)
    with ExitStack() as stack:
        lines, source = _open_input(args.input)
        if lines is not sys.stdin.buffer:
            stack.enter_context(lines)
        out, resume = sys.stdout, Resume()
        if args.output:
            try:
                resume = resume_output(Path(args.output))
                out = stack.enter_context(open(args.output, "a", encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"{args.output}: cannot write ({exc.strerror})") from None
            if resume.done:
                print(f"{args.output} holds {resume.done} line(s) from an earlier run; continuing after them",
                      file=sys.stderr)
        progress = _progress_bar(stack, lines, not args.no_progress)
        failed = predict_stream(bot, args.plugin, lines, out, source=source, options=options, progress=progress,
                                chunk=chunk, resume=resume)
    if failed:
        print(f"{failed} input(s) could not be scored; their lines carry an \"error\".", file=sys.stderr)
    return EXIT_SOME_INPUTS_FAILED if failed else EXIT_OK
