"""Batch use of any plugin: JSON lines (or plain lines) in, one JSON line out per input, in order."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable, Iterator, TextIO

from bot.core import Nlpbot
from bot.errors import UserInputError
from bot.plugin import Plugin
from bot.request import require_words

log = logging.getLogger(__name__)


def read_inputs(lines: Iterable[str], *, source: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, problem): a JSON object needs a string "text"; any other line is the text itself."""
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
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


def predict_stream(bot: Nlpbot, plugin_name: str, lines: Iterable[str], out: TextIO, *, source: str = "<stdin>",
                   options: dict[str, Any] | None = None, chunk: int | None = None,
                   progress: Callable[[int], object] | None = None) -> int:
    """Score every input through the plugin's batch path; returns how many inputs failed.

    Inputs are read and scored in chunks, so a million-line file streams; models load once.
    `progress(n)` is told after each chunk how many more input lines are done.
    """
    plugin = bot.plugins.get(plugin_name)
    if plugin is None:
        raise UserInputError(f"no enabled plugin {plugin_name!r} (enabled: {', '.join(sorted(bot.plugins))})")
    if type(plugin).predict is Plugin.predict:
        batch = sorted(name for name, other in bot.plugins.items() if type(other).predict is not Plugin.predict)
        raise UserInputError(f"the {plugin_name} plugin has no batch use; these have: {', '.join(batch)}")
    chunk = chunk or max(plugin.settings.batch_size * 8, 64)
    failed = lines_done = 0
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

    for item in read_inputs(lines, source=source):
        pending.append(item)
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return failed

