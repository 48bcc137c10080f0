"""The model registry: trained versions under models/PLUGIN/VERSION/, and which one serves."""

from __future__ import annotations

import json
import os
from pathlib import Path

SERVING_FILE = "serving.json"


def serving_version(models_dir: Path, plugin: str) -> str | None:
    """The version name that serves PLUGIN, or None when nothing was promoted yet."""
    pointer = Path(models_dir) / plugin / SERVING_FILE
    try:
        version = json.loads(pointer.read_text(encoding="utf-8"))["version"]
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return version if (Path(models_dir) / plugin / version).is_dir() else None


def set_serving(models_dir: Path, plugin: str, version: str, *, previous: str | None = None) -> None:
    """Point PLUGIN at VERSION atomically: readers see the old pointer or the new one, never half of one."""
    folder = Path(models_dir) / plugin
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{SERVING_FILE}.tmp"
    tmp.write_text(json.dumps({"version": version, "previous": previous}), encoding="utf-8")
    os.replace(tmp, folder / SERVING_FILE)
