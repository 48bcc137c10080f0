"""Labelled feedback from Slack's buttons, in SQLite, exported as the training data `nlpbot train` reads.

Every answer that offers buttons is remembered first (`remember`: the text, what the model said, which model
version said it); a click (`record`) stores who corrected it to which label, and when. The export writes the
latest correction per answer in the plugin's training format:

    sentiment: {"text": "...", "label": "negative"}
    ner:       {"text": "...", "entities": [{"start": 0, "end": 3, "type": "ORG"}]}
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.training.data import write_jsonl

NOT_AN_ENTITY = "O"  # the label of a click that says "this is not a name at all"
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, plugin TEXT NOT NULL, text TEXT NOT NULL,
    output TEXT NOT NULL, model_version TEXT NOT NULL, user_id TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers(id),
    plugin TEXT NOT NULL, text TEXT NOT NULL, label TEXT NOT NULL, entity INTEGER, model_version TEXT NOT NULL,
    user_id TEXT NOT NULL, at REAL NOT NULL);
"""


class FeedbackStore:
    """One SQLite file shared by the server's threads (and read by `nlpbot data feedback`)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")  # the CLI may export while the server writes
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    @classmethod
    def for_config(cls, config: Config) -> FeedbackStore:
        return cls(config.resolve_path(config.bot.feedback_db))

    def remember(self, *, plugin: str, text: str, output: dict[str, Any], model_version: str, user_id: str) -> str:
        """Store an answer that offers buttons; the returned id is what its buttons carry."""
        answer_id = uuid.uuid4().hex[:16]
        with self._lock:
            self._db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (answer_id, plugin, text, json.dumps(output), model_version, user_id, time.time()))
        return answer_id

    def record(self, answer_id: str, *, label: str, user_id: str, entity: int | None = None) -> dict[str, Any] | None:
        """Store one click; None when the answer is unknown (a button from another install, or a forged payload)."""
        with self._lock:
            row = self._db.execute("SELECT plugin, text, model_version FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if row is None:
                return None
            plugin, text, version = row
            self._db.execute("INSERT INTO feedback (answer_id, plugin, text, label, entity, model_version, user_id, at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (answer_id, plugin, text, label, entity, version,
                                                                 user_id, time.time()))
        return {"plugin": plugin, "text": text, "label": label, "entity": entity, "model_version": version}

    def counts(self) -> dict[str, int]:
        """Clicks per plugin."""
        with self._lock:
            return dict(self._db.execute("SELECT plugin, COUNT(*) FROM feedback GROUP BY plugin ORDER BY plugin"))

    def examples(self, plugin: str) -> list[dict[str, Any]]:
        """The training examples the clicks make, one per corrected answer (the latest click per label wins)."""
        with self._lock:
            answers = {row[0]: (row[1], json.loads(row[2])) for row in self._db.execute(
                "SELECT id, text, output FROM answers WHERE plugin = ? AND id IN (SELECT answer_id FROM feedback)",
                (plugin,))}
            clicks = self._db.execute("SELECT answer_id, label, entity FROM feedback WHERE plugin = ? ORDER BY id",
                                      (plugin,)).fetchall()
        corrected: dict[str, Any] = {}
        for answer_id, label, entity in clicks:
            text, output = answers[answer_id]
            if entity is None:
                corrected[answer_id] = {"text": text, "label": label}
                continue
            record = corrected.setdefault(answer_id, {"text": text, "entities": [
                {"start": e["start"], "end": e["end"], "type": e["type"]} for e in output.get("entities", [])]})
            if 0 <= entity < len(record["entities"]):
                record["entities"][entity]["type"] = label
        for record in corrected.values():
            if "entities" in record:
                record["entities"] = [e for e in record["entities"] if e["type"] != NOT_AN_ENTITY]
        return list(corrected.values())

    def export(self, plugin: str, out: Path) -> int:
        examples = self.examples(plugin)
        write_jsonl(out, examples)
        return len(examples)

    def close(self) -> None:
        self._db.close()


def feedback_line(config: Config, plugins: list[str]) -> str:
    """`/nlp-admin models`' line of feedback clicks per plugin."""
    store = FeedbackStore.for_config(config)
    try:
        counts = store.counts()
    finally:
        store.close()
    shown = ", ".join(f"{plugin} {counts.get(plugin, 0)}" for plugin in plugins)
    return f"Feedback clicks: {shown} (export: `nlpbot data feedback PLUGIN --out FILE`)"
