"""Training data for tests: a sentiment set learnable in seconds, JSON lines on disk, a config in a folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bot.config import Config, load_config

LABELS = ["negative", "neutral", "positive"]
POSITIVE = ["great", "love", "wonderful", "excellent", "happy", "delightful"]
NEGATIVE = ["awful", "hate", "terrible", "bad", "sad", "horrible"]
NEUTRAL = ["table", "blue", "tuesday", "paper", "window", "printer"]


def sentiment_examples(count: int, seed: int) -> list[dict]:
    """Sentences whose label is decided by one sentiment word (or its absence): learnable in seconds."""
    rng = random.Random(seed)
    words = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}
    examples = []
    for _ in range(count):
        label = rng.choice(LABELS)
        text = f"the {rng.choice(NEUTRAL)} was {rng.choice(words[label])} on {rng.choice(NEUTRAL)}"
        examples.append({"text": text, "label": label})
    return examples


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_config(folder: Path, extra: str = "") -> Config:
    path = folder / "config.toml"
    path.write_text(f'[models]\nmodels_dir = "models"\n{extra}', encoding="utf-8")
    return load_config(path)


TRIAGE = {"bug": ["crash", "error", "broken", "freezes"], "question": ["how", "where", "explain", "wondering"],
          "billing": ["invoice", "refund", "charged", "payment"]}
OFF_TOPIC = ["the weather is lovely", "my cat sleeps all day", "lunch was pasta", "the football match ended late"]


def triage_examples(count: int, seed: int, *, off_topic: int = 0, label: str = "oos") -> list[dict]:
    """Support requests whose team is decided by one word, and `off_topic` chatter labelled `label` (out of scope)."""
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        team = rng.choice(sorted(TRIAGE))
        examples.append({"text": f"the {rng.choice(NEUTRAL)} {rng.choice(TRIAGE[team])} {rng.choice(NEUTRAL)}",
                         "label": team})
    examples += [{"text": f"{rng.choice(OFF_TOPIC)} on {rng.choice(NEUTRAL)}", "label": label} for _ in range(off_topic)]
    rng.shuffle(examples)
    return examples
