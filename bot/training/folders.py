"""A plugin's models folder during training: one run at a time, and no scratch left by a killed run."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from bot.errors import NlpbotError

TMP_PREFIX = ".tmp-"  # a run's scratch folder, renamed to its version only when complete


@contextlib.contextmanager
def training_lock(folder: Path) -> Iterator[None]:
    """One training per plugin at a time; a second one is refused rather than queued."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NlpbotError(f"another training of {folder.name} is running; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean_leftovers(folder: Path) -> list[str]:
    """Remove scratch folders of runs that crashed or were killed (only called under the lock)."""
    removed = []
    for path in folder.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed
