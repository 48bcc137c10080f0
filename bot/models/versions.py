"""Trained model versions under models/PLUGIN/VERSION/, which one serves, and how a version's metrics read.

Layout::

    models/sentiment/serving.json                 {"version": "v0002-...", "previous": "v0001-...", "history": [...]}
    models/sentiment/v0001-20261128T1530/         model, tokenizer, metadata.json, history.json, training.png
    models/sentiment/.tmp-*/                      a run in progress (or a crashed one, removed by the next run)

Example::

    for info in list_versions(config.models_dir, "sentiment"):
        print(info.version, info.serving, metric_summary(info.metadata))
    rollback(config.models_dir, "sentiment")      # back to the version that served before
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.errors import NlpbotError, UsageError

SERVING_FILE = "serving.json"
METADATA_FILE = "metadata.json"
VERSION_PATTERN = re.compile(r"^v(\d{4,})-\d{8}T\d{4,6}$")
_BOOKKEEPING = ("runtime", "per_second", "epoch", "_loss")  # what a run logs besides its scores


@dataclass(frozen=True)
class VersionInfo:
    """One trained version: its folder, whether it serves, and its metadata.json."""

    version: str
    path: Path
    serving: bool
    metadata: dict[str, Any] = field(default_factory=dict)


def _pointer(models_dir: Path, plugin: str) -> dict[str, Any]:
    try:
        data = json.loads((Path(models_dir) / plugin / SERVING_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def serving_version(models_dir: Path, plugin: str) -> str | None:
    """The version name that serves PLUGIN, or None when nothing was promoted yet."""
    version = _pointer(models_dir, plugin).get("version")
    if not isinstance(version, str):
        return None
    return version if (Path(models_dir) / plugin / version).is_dir() else None


def set_serving(models_dir: Path, plugin: str, version: str, *, previous: str | None = None,
                history: list[str] | None = None) -> None:
    """Point PLUGIN at VERSION atomically: readers see the old pointer or the new one, never half of one."""
    folder = Path(models_dir) / plugin
    folder.mkdir(parents=True, exist_ok=True)
    history = list(history) if history is not None else ([previous] if previous else [])
    payload = json.dumps({"version": version, "previous": previous, "history": history}, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=f".{SERVING_FILE}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / SERVING_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _history(models_dir: Path, plugin: str) -> list[str]:
    """Versions that served before the current one, oldest first (older pointers only know "previous")."""
    pointer = _pointer(models_dir, plugin)
    history = pointer.get("history")
    if not isinstance(history, list):
        history = [pointer["previous"]] if isinstance(pointer.get("previous"), str) else []
    return [v for v in history if isinstance(v, str)]


def read_metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def list_versions(models_dir: Path, plugin: str) -> list[VersionInfo]:
    """Every complete version of PLUGIN, oldest first."""
    folder = Path(models_dir) / plugin
    if not folder.is_dir():
        return []
    serving = serving_version(models_dir, plugin)
    found = [p for p in folder.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)]
    found.sort(key=lambda p: int(VERSION_PATTERN.match(p.name).group(1)))  # type: ignore[union-attr]
    return [VersionInfo(p.name, p, p.name == serving, read_metadata(p)) for p in found]


def next_version(models_dir: Path, plugin: str, *, now: datetime | None = None) -> str:
    """The name for a new version: v + a number one above every existing one + the UTC time."""
    folder = Path(models_dir) / plugin
    numbers = [0]
    if folder.is_dir():
        numbers += [int(m.group(1)) for p in folder.iterdir() if (m := VERSION_PATTERN.match(p.name))]
    stamp = (now or datetime.now().astimezone()).strftime("%Y%m%dT%H%M")
    return f"v{max(numbers) + 1:04d}-{stamp}"


def _require(models_dir: Path, plugin: str, version: str) -> Path:
    path = Path(models_dir) / plugin / version
    if not VERSION_PATTERN.match(version) or not path.is_dir():
        known = ", ".join(info.version for info in list_versions(models_dir, plugin)) or "none yet"
        raise UsageError(f"{plugin} has no version {version!r} in {Path(models_dir) / plugin} (versions: {known})")
    return path


def show(models_dir: Path, plugin: str, version: str | None = None) -> dict[str, Any]:
    """metadata.json of VERSION (default: the serving one), plus "version", "path" and "serving"."""
    if version is None:
        version = serving_version(models_dir, plugin)
        if version is None:
            raise NlpbotError(f"no {plugin} version is serving; `nlpbot models list {plugin}` shows the versions")
    path = _require(models_dir, plugin, version)
    serving = serving_version(models_dir, plugin) == version
    return {**read_metadata(path), "version": version, "path": str(path), "serving": serving}


def promote(models_dir: Path, plugin: str, version: str) -> str | None:
    """Serve VERSION from now on; returns the version that served before (None if none)."""
    _require(models_dir, plugin, version)
    current = serving_version(models_dir, plugin)
    history = _history(models_dir, plugin)
    if current is not None and current != version:
        history.append(current)
    set_serving(models_dir, plugin, version, previous=history[-1] if history else None, history=history)
    return current


def rollback(models_dir: Path, plugin: str) -> str:
    """Serve the version that served before the current one; returns its name."""
    current = serving_version(models_dir, plugin)
    history = _history(models_dir, plugin)
    while history and not (Path(models_dir) / plugin / history[-1]).is_dir():
        history.pop()  # a deleted version cannot serve again
    if not history:
        what = f"{current} is the first version that served" if current else "nothing is serving yet"
        raise NlpbotError(f"cannot roll {plugin} back: {what}; `nlpbot models promote {plugin} VERSION` picks one")
    target = history.pop()
    set_serving(models_dir, plugin, target, previous=history[-1] if history else None, history=history)
    return target


def metric_summary(metadata: dict[str, Any], *, limit: int = 4) -> str:
    """A version's scores as people read them, the primary one first: "macro_f1 0.7000, accuracy 0.7200".

    Losses, runtimes and epochs are left out; `limit` caps how many scores are shown ("no metrics" if none).
    Every place that shows a version (CLI, admin commands, App Home, training summaries) uses this line.
    """
    metrics = metadata.get("metrics") or {}
    primary = metadata.get("primary_metric")
    names = [name for name, value in metrics.items() if isinstance(value, (int, float)) and not isinstance(value, bool)
             and name != "loss" and not name.endswith(_BOOKKEEPING)]
    names.sort(key=lambda name: name != primary)  # stable: the primary first, the rest as the run wrote them
    shown = [f"{name} {metrics[name]:.4f}" if abs(metrics[name]) < 100 else f"{name} {metrics[name]:.1f}"
             for name in names[:limit]]
    return ", ".join(shown) or "no metrics"
