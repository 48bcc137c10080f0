"""Reading training files: JSON lines checked line by line, every problem reported with file and line."""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.errors import UserInputError

MAX_REPORTED = 20


class Problems:
    """Collects what is wrong with a data file so that one error lists them all (up to a limit).

    Example::

        problems = Problems()
        problems.add("train.jsonl:3", "not valid JSON")
        problems.raise_if_any()   # UserInputError: "1 problem in the training data:\\n  train.jsonl:3: not valid JSON"
    """

    def __init__(self, limit: int = MAX_REPORTED) -> None:
        self.limit = limit
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self, hint: str = "") -> None:
        if not self.items:
            return
        count = len(self.items)
        lines = [f"{count} problem{'s' if count != 1 else ''} in the training data:"]
        lines += [f"  {item}" for item in self.items[: self.limit]]
        if count > self.limit:
            lines.append(f"  and {count - self.limit} more")
        if hint:
            lines.append(hint)
        raise UserInputError("\n".join(lines))


def open_data(path: str | Path) -> Path:
    """The data file, or a clear error when it is missing, a folder or empty."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{path}: no such data file")
    if not path.is_file():
        raise UserInputError(f"{path}: is a folder, not a data file")
    if path.stat().st_size == 0:
        raise UserInputError(f"{path}: the file is empty; it needs one example per line")
    return path


def read_jsonl(path: Path, problems: Problems) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ("FILE:LINE", object) for every non-blank line that is a JSON object; report the others."""
    raw = path.read_bytes()
    raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # a UTF-8 byte order mark
    for number, encoded in enumerate(raw.splitlines(), start=1):
        where = f"{path}:{number}"
        try:
            line = encoded.decode("utf-8")  # line by line: every bad line is named, not just the file
        except UnicodeDecodeError as exc:
            problems.add(where, f"not UTF-8 text ({exc.reason} at byte {exc.start} of the line)")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            problems.add(where, f"expected a JSON object like {{\"text\": ...}}, got {type(value).__name__}")
            continue
        yield where, value


def read_records(path: Path, problems: Problems) -> Iterator[tuple[str, dict[str, Any]]]:
    """Records from JSON lines, or from a CSV or TSV file (by its suffix) whose header names the columns."""
    if path.suffix.lower() in {".csv", ".tsv"}:
        return read_table(path, problems, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    return read_jsonl(path, problems)


def read_table(path: Path, problems: Problems, *, delimiter: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ("FILE:LINE", row) for every row of a CSV/TSV file with a header line (e.g. "text,label")."""
    import csv

    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        problems.add(f"{path}:{line}", f"not UTF-8 text ({exc.reason}); save the file as UTF-8")
        return
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    if "text" not in columns:
        problems.add(f"{path}:1", f"the header names no \"text\" column (it has: {', '.join(columns) or 'none'})")
        return
    for row in reader:
        if None in row:
            problems.add(f"{path}:{reader.line_num}", f"{len(row[None])} value(s) more than the header has columns")
            continue
        yield f"{path}:{reader.line_num}", {key.strip(): value for key, value in row.items() if key is not None}


def text_field(record: dict[str, Any], key: str, where: str, problems: Problems, *,
               required: bool = True) -> str | None:
    """record[key] as a non-empty string, or None after reporting why not."""
    if key not in record:
        if required:
            problems.add(where, f'missing "{key}"')
        return None
    value = record[key]
    if not isinstance(value, str):
        problems.add(where, f'"{key}" must be a string, got {type(value).__name__} {json.dumps(value)[:40]}')
        return None
    if not value.strip():
        problems.add(where, f'"{key}" is empty')
        return None
    return value


def check_labels(found: dict[str, list[str]], allowed: Sequence[str] | None, path: Path, problems: Problems) -> None:
    """Report labels outside the declared set, each with the first lines that use it."""
    if allowed is None:
        return
    for label in sorted(set(found) - set(allowed)):
        lines = found[label]
        shown = ", ".join(where.rsplit(":", 1)[1] for where in lines[:5]) + (", ..." if len(lines) > 5 else "")
        problems.add(
            str(path),
            f"unknown label {label!r} on {len(lines)} line(s) ({shown}); the labels are {', '.join(allowed)}",
        )


def require_examples(records: list, path: Path, problems: Problems, *, minimum: int = 1) -> None:
    if not problems and len(records) < minimum:
        problems.add(str(path), f"has {len(records)} example(s); at least {minimum} needed")


def sha256(path: str | Path | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hold_out(records: list[dict], *, fraction: float, seed: int, key: str | None = None,
             together: str | None = None) -> tuple[list[dict], list[dict]]:
    """Split off a deterministic held-out part (stratified by `key` when given): the same seed, the same split.

    Records with the same `together` value (a query with several relevant passages) land on the same side,
    so a held-out query was never seen in training.
    """
    units: dict[Any, list[int]] = {}
    for index, record in enumerate(records):
        units.setdefault(record[together] if together else index, []).append(index)
    groups: dict[Any, list[list[int]]] = {}
    for unit in units.values():
        groups.setdefault(records[unit[0]].get(key) if key else None, []).append(unit)
    rng = random.Random(seed)
    held: set[int] = set()
    for _, members in sorted(groups.items(), key=lambda item: str(item[0])):
        rng.shuffle(members)
        take = round(len(members) * fraction)
        if len(members) > 1:
            take = min(max(take, 1), len(members) - 1)
        for unit in members[:take]:
            held.update(unit)
    if not held or len(held) == len(records):
        raise UserInputError(
            f"{len(records)} example(s) are too few to hold some out for evaluation; give more data or --eval-data FILE"
        )
    train = [r for i, r in enumerate(records) if i not in held]
    return train, [r for i, r in enumerate(records) if i in held]


def write_jsonl(path: Path, records: Sequence[dict]) -> None:
    """Write records as JSON lines via a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)
