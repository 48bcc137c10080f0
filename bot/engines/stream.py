"""Batch use of any plugin on either engine: JSON lines (or plain lines) in, one JSON line out per input, in order.

Both engines run through `predict_stream`: it reads and checks the inputs, writes each result in its input's
place (a bad line gets its "error" there) and continues an interrupted --output; only the plugin's `predict`
differs (this process, or `bot.engines.ray` on a cluster).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TextIO

from bot.errors import UserInputError
from bot.plugin import Plugin
from bot.request import require_words

if TYPE_CHECKING:
    from bot.core import Nlpbot

log = logging.getLogger(__name__)


def decode_line(line: bytes | str, number: int, *, source: str) -> tuple[str, str | None]:
    """(text, problem): each line is decoded on its own, so one bad byte costs one line, not the file.

    An undecodable line's text keeps its readable parts (U+FFFD for the bad bytes) to show which line it was.
    """
    if isinstance(line, str):
        return line, None
    if number == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]  # a UTF-8 byte order mark
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return line.decode("utf-8", errors="replace"), f"{source}:{number}: not UTF-8 text ({exc.reason} at byte {exc.start})"


def read_inputs(lines: Iterable[bytes | str], *, source: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, problem): a JSON object needs a string "text"; any other line is the text itself."""
    for number, raw in enumerate(lines, start=1):
        line, problem = decode_line(raw, number, source=source)
        line = line.rstrip("\r\n")
        if problem is not None:
            yield number, line, problem
            continue
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"{source}:{number}: not valid JSON ({exc.msg})"
                continue
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, str):
                yield number, None, f'{source}:{number}: a JSON line needs a "text" string'
                continue
            yield number, text, None
        else:
            yield number, line, None


@dataclass(frozen=True)
class Resume:
    """What an earlier, interrupted run left in the output file: its complete lines."""

    done: int = 0
    failed: int = 0
    last_text: str | None = None


def resume_output(path: Path) -> Resume:
    """Read an output file left by an interrupted run, cutting off a half-written last line.

    Lines are written whole and in input order, so the complete lines are exactly the first inputs' results.
    """
    if not path.exists():
        return Resume()
    done = failed = 0
    last_text = None
    complete = 0  # bytes up to the end of the last complete line
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                row = json.loads(line)
            except ValueError:
                raise UserInputError(f"{path}:{done + 1} is not a JSON line from `nlpbot predict`; "
                                     "delete the file or choose another --output") from None
            complete += len(line)
            done += 1
            failed += "error" in row
            last_text = row.get("text") if isinstance(row, dict) else None
    if complete < path.stat().st_size:
        with open(path, "rb+") as handle:
            handle.truncate(complete)
    return Resume(done, failed, last_text)


def has_batch_use(plugin: Any) -> bool:
    """Whether PLUGIN's class has a `predict` of its own (the base class's refuses)."""
    return type(plugin).predict is not Plugin.predict


def batch_plugin(bot: Any, plugin_name: str) -> Any:
    """The enabled plugin PLUGIN_NAME, if it has batch use; else UserInputError naming the ones that do."""
    plugin = bot.plugins.get(plugin_name)
    if plugin is None:
        raise UserInputError(f"no enabled plugin {plugin_name!r} (enabled: {', '.join(sorted(bot.plugins))})")
    if not has_batch_use(plugin):
        batch = sorted(name for name, other in bot.plugins.items() if has_batch_use(other))
        raise UserInputError(f"the {plugin_name} plugin has no batch use; these have: {', '.join(batch)}")
    return plugin


def check_options(plugin_name: str, plugin: Any, options: dict[str, Any]) -> None:
    """Options PLUGIN does not declare in `predict_options` are refused, naming the ones it does."""
    unknown = sorted(set(options) - {option.name for option in plugin.predict_options})
    if unknown:
        raise UserInputError(f"the {plugin_name} plugin has no option --{unknown[0].replace('_', '-')}; "
                             f"{option_list(plugin.predict_options)}")


def option_list(options: Iterable[Any]) -> str:
    """How an error names a plugin's options: "its options: --index NAME, --k N", or that it has none."""
    shown = [f"{option.flag} {option.metavar or option.name.upper()}" for option in options]
    return f"its options: {', '.join(shown)}" if shown else "it takes no options of its own"


def predict_stream(bot: Nlpbot, plugin_name: str, lines: Iterable[bytes | str], out: TextIO, *,
                   source: str = "<stdin>", options: dict[str, Any] | None = None, chunk: int | None = None,
                   progress: Callable[[int], object] | None = None, resume: Resume = Resume()) -> int:
    """Score every input through the plugin's batch path; returns how many inputs failed.

    Inputs are read and scored in chunks, so a million-line file streams; models load once.
    `progress(n)` is told after each chunk how many more input lines are done. With `resume`, the first
    `resume.done` inputs are skipped (their results are already written); the last of them must be the
    input whose text the output's last line holds, else the output belongs to other input.
    """
    plugin = batch_plugin(bot, plugin_name)
    check_options(plugin_name, plugin, options or {})
    chunk = chunk or max(plugin.settings.batch_size * 8, 64)
    failed, lines_done = resume.failed, 0
    pending: list[tuple[int, str | None, str | None]] = []

    def check(number: int, text: str | None, problem: str | None) -> str | None:
        if problem is not None:
            return problem
        try:
            require_words(text or "")
        except UserInputError as exc:
            return f"{source}:{number}: {exc}"
        if len(text) > plugin.max_text_chars:
            return f"{source}:{number}: text is {len(text):,} characters; the limit is {plugin.max_text_chars:,}"
        return None

    def flush() -> None:
        nonlocal failed, lines_done
        checked = [(text, check(number, text, problem)) for number, text, problem in pending]
        good = [text for text, problem in checked if problem is None]
        results = iter(plugin.predict(good, **(options or {})) if good else [])
        for text, problem in checked:
            if problem is None:
                out.write(json.dumps(next(results), ensure_ascii=False) + "\n")
            else:
                failed += 1
                out.write(json.dumps({"text": text, "error": problem}, ensure_ascii=False) + "\n")
        out.flush()
        if progress is not None:
            progress(pending[-1][0] - lines_done)
            lines_done = pending[-1][0]
        pending.clear()

    for position, item in enumerate(read_inputs(lines, source=source), start=1):
        if position <= resume.done:
            if position == resume.done and None not in (item[1], resume.last_text) and item[1] != resume.last_text:
                raise UserInputError(f"the output file's line {position} is not the result of {source}:{item[0]}: "
                                     "it belongs to other input; delete it or choose another --output")
            lines_done = item[0]
            continue
        if position == resume.done + 1 and lines_done and progress is not None:
            progress(lines_done)
        pending.append(item)
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return failed

