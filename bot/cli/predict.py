"""`nlpbot predict PLUGIN`: JSON lines in, one JSON line out per input, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Callable

from bot.bootstrap import bootstrap
from bot.engines import add_engine_arguments
from bot.errors import EXIT_OK, EXIT_SOME_INPUTS_FAILED, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser("predict", help="batch: JSON lines in, JSON lines out")
    predict.add_argument("plugin")
    predict.add_argument("--input", metavar="FILE", help="JSON lines ({\"text\": ...}) or plain lines; default stdin")
    predict.add_argument("--output", metavar="FILE",
                         help="write the JSON lines here instead of stdout; a file left by an interrupted run is continued")
    predict.add_argument("--index", help="search: which index")
    predict.add_argument("--k", type=int, help="search: hits per query")
    predict.add_argument("--to", metavar="LANG", help="translate: target language (default: its default_target)")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar (there is none off a terminal)")
    add_engine_arguments(predict)
    predict.set_defaults(handler=cmd_predict)


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
    options = {key: value for key, value in (("index", args.index), ("k", args.k), ("target", args.to))
               if value is not None}
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
