"""Precision and recall of the recap rules (rules.py) on the labelled sentences beside them, per split.

sentences.jsonl: 190 Slack-like sentences, each with a label (decision, question, other) and a split (dev: the rules
were tuned on it; test: held out). The scores are written up in bench/recaps.md; tests/recaps holds the held-out ones.

    python -m bot.recaps.scores [--errors]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.recaps.rules import label

SENTENCES = Path(__file__).parent / "sentences.jsonl"
CLASSES = ("decision", "question")


def scores(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per class: precision, recall, F1 and support, the rules' label against the human one."""
    found = {}
    for name in CLASSES:
        predicted = [label(row["text"]) == name for row in rows]
        actual = [row["label"] == name for row in rows]
        hits = sum(p and a for p, a in zip(predicted, actual))
        precision = hits / max(sum(predicted), 1)
        recall = hits / max(sum(actual), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        found[name] = {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
                       "support": sum(actual)}
    return found


def sentences(split: str | None = None) -> list[dict]:
    """The labelled sentences, `{"text", "label", "split"}`, of one split ("dev", "test") or all."""
    rows = [json.loads(line) for line in SENTENCES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if split in (None, row["split"])]


def main() -> None:
    for split in ("dev", "test"):
        part = sentences(split)
        print(split, len(part), json.dumps(scores(part)))
        if "--errors" in sys.argv:
            for row in part:
                if label(row["text"]) != row["label"]:
                    print(f"  {row['label']:>8} -> {label(row['text']):<8} {row['text']}")


if __name__ == "__main__":
    main()
