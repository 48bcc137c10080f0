"""What search does with the [search] table (its schema is bot.config.SearchSettings): the Slack path check."""

from __future__ import annotations

from pathlib import Path

from bot.config import SearchSettings
from bot.errors import Forbidden

__all__ = ["SearchSettings", "check_allowed"]


def check_allowed(settings: SearchSettings, path: str | Path) -> Path:
    """For requests from Slack: the path must lie inside one of [search] allowed_paths."""
    resolved = Path(path).expanduser().resolve()
    for folder in settings.allowed_paths:
        if resolved == folder or folder in resolved.parents:
            return resolved
    if not settings.allowed_paths:
        raise Forbidden("indexing from Slack is off: list folders in [search] allowed_paths to allow it")
    allowed = ", ".join(str(folder) for folder in settings.allowed_paths)
    raise Forbidden(f"{path} is outside the folders that may be indexed ({allowed})")
