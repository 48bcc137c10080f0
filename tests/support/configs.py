"""The shipped config.toml, copied into a test's folder with a few keys changed: tests run what a user runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config.toml"


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _tables(prefix: str, table: dict[str, Any], out: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_table_list(v)}
    if prefix and (scalars or not table):
        out.append(f"[{prefix}]")
    out.extend(f"{json.dumps(key)} = {_value(value)}" for key, value in scalars.items())
    for key, value in table.items():
        name = f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)
        if isinstance(value, dict):
            _tables(name, value, out)
        elif _is_table_list(value):
            for item in value:
                out.append(f"[[{name}]]")
                out.extend(f"{json.dumps(k)} = {_value(v)}" for k, v in item.items())


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def dumps(data: dict[str, Any]) -> str:
    """TOML for the plain values a config holds (tables, arrays of tables, strings, numbers, lists)."""
    out: list[str] = []
    _tables("", data, out)
    return "\n".join(out) + "\n"


def shipped_config(folder: Path, changes: dict[str, Any] | None = None) -> Path:
    """config.toml as shipped, with `changes` merged in, written to folder/config.toml (its relative paths then
    resolve inside folder: models/, indexes/, state/, data/)."""
    data = merged(tomllib.loads(SHIPPED.read_text(encoding="utf-8")), changes or {})
    path = folder / "config.toml"
    path.write_text(dumps(data), encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == data
    return path
