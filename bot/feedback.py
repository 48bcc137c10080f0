"""What people may correct in a plugin's answers (`Feedback`), their clicks in SQLite, and the training data they make.

Every answer that offers buttons is remembered first (`remember`: the text, what the model said, which model
version said it); a click (`record`) stores who corrected it to which label, and when. The export writes the
latest correction per answer in the record shape of the plugin's declaration: {"text", "label"} for a label,
{"text", "labels": [...]} for a set of labels, {"text", FIELD: [{"start", "end", "type"}]} for spans (the shapes
the training kinds read).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.training.data import write_jsonl

OUTSIDE = "O"  # token classification's "outside any span": the label of a click that says "not one at all"
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, plugin TEXT NOT NULL, text TEXT NOT NULL,
    output TEXT NOT NULL, model_version TEXT NOT NULL, user_id TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers(id),
    plugin TEXT NOT NULL, text TEXT NOT NULL, label TEXT NOT NULL, entity INTEGER, model_version TEXT NOT NULL,
    user_id TEXT NOT NULL, at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Feedback:
    """What people may correct in a plugin's answers, and the training example each correction becomes.

    A plugin declares it per instance (`Plugin.feedback()`), so a classifier's labels can come from its config or
    its trained version. An answer offers it when its data holds "text" and "model_version" (what answered).
    Three shapes, the records the classification training kinds read::

        Feedback(labels=("negative", "neutral", "positive"))
        # data["label"] is wrong (None: not sure): the other labels are offered, the answer's "top" guesses first;
        # a correction is {"text": ..., "label": "negative"}

        Feedback(labels=("bug", "billing", "urgent"), multiple=True)
        # data["labels"] (a list) is wrong: a menu of every label, the answer's selected; {"text": ..., "labels": [...]}

        Feedback(labels=("PERSON", "ORG", "GPE"), spans="entities", remove="not a name")
        # each span in data["entities"] ({"start", "end", "type", "text"}) may have another type or be none at
        # all; the corrections make {"text": ..., "entities": [{"start", "end", "type"}, ...]}
    """

    labels: tuple[str, ...]
    spans: str | None = None  # the answer's data field listing the spans, and the record's; None: labels
    remove: str = "none of these"  # spans: the choice that says a span is not one at all
    multiple: bool = False  # a set of labels per text (data["labels"]) rather than one

    def accepts(self, label: str, output: dict[str, Any], span: int | None) -> bool:
        """Whether a click may correct this answer to LABEL (a forged payload may say anything); with `multiple`,
        LABEL is a JSON list of labels."""
        if self.multiple:
            chosen = _label_list(label)
            return span is None and chosen is not None and set(chosen) <= set(self.labels)
        if self.spans is None:
            return span is None and label in self.labels
        found = output.get(self.spans) or []
        if span is None or not 0 <= span < len(found):
            return False
        return label == OUTSIDE or label in self.labels or label in {item.get("type") for item in found}


def _label_list(stored: str) -> list[str] | None:
    try:
        chosen = json.loads(stored)
    except json.JSONDecodeError:
        return None
    return chosen if isinstance(chosen, list) and all(isinstance(label, str) for label in chosen) else None


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

    def answer(self, answer_id: str) -> tuple[str, dict[str, Any]] | None:
        """(plugin, output) of a remembered answer; None when it is unknown (a button from another install, or forged)."""
        with self._lock:
            row = self._db.execute("SELECT plugin, output FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def record(self, answer_id: str, *, label: str, user_id: str, entity: int | None = None) -> dict[str, Any] | None:
        """Store one click (`entity`: which span it corrects); None when the answer is unknown."""
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

    def examples(self, plugin: str, feedback: Feedback | None = None) -> list[dict[str, Any]]:
        """The training examples the clicks make, one per corrected answer (the latest click per label or span wins),
        in the record shape of the plugin's declaration (default: one label)."""
        feedback = feedback or Feedback(labels=())
        spans = feedback.spans
        with self._lock:
            answers = {row[0]: (row[1], json.loads(row[2])) for row in self._db.execute(
                "SELECT id, text, output FROM answers WHERE plugin = ? AND id IN (SELECT answer_id FROM feedback)",
                (plugin,))}
            clicks = self._db.execute("SELECT answer_id, label, entity FROM feedback WHERE plugin = ? ORDER BY id",
                                      (plugin,)).fetchall()
        corrected: dict[str, Any] = {}
        for answer_id, label, entity in clicks:
            text, output = answers[answer_id]
            if feedback.multiple:
                chosen = _label_list(label)
                if entity is None and chosen is not None:
                    corrected[answer_id] = {"text": text, "labels": chosen}
            elif spans is None:
                if entity is None:
                    corrected[answer_id] = {"text": text, "label": label}
            else:
                record = corrected.setdefault(answer_id, {"text": text, spans: [
                    {"start": e["start"], "end": e["end"], "type": e["type"]} for e in output.get(spans) or []]})
                if entity is not None and 0 <= entity < len(record[spans]):
                    record[spans][entity]["type"] = label
        if spans is not None and not feedback.multiple:
            for record in corrected.values():
                record[spans] = [e for e in record[spans] if e["type"] != OUTSIDE]
        return list(corrected.values())

    def export(self, plugin: str, out: Path, feedback: Feedback | None = None) -> int:
        examples = self.examples(plugin, feedback)
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
