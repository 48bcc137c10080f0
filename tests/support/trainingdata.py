"""Training data for tests: a sentiment set learnable in seconds, JSON lines on disk, a config in a folder, and a
stand-in for the VADER archive `nlpbot data vader` reads."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

from bot.config import Config, load_config
from bot.training import vader

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


def add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def fake_sdist(folder: Path, per_source: int = 40) -> Path:
    """A vaderSentiment-3.3.2.tar.gz with the real layout: an inner hutto_ICWSM_2014.tar.gz of tab-separated files."""
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as archive:
        for source, name in vader.SOURCES.items():
            rows = []
            for i in range(per_source):
                rating = [-2.5, -1.0, 0.3, 1.0, 1.2][i % 5]
                rows.append(f"{i + 1}\t{rating}\t{source} sentence {i} &amp; more\r\n")
            rows.append("broken line without tabs\r\n")
            add_file(archive, f"hutto_ICWSM_2014/{name}", "".join(rows).encode())
        add_file(archive, "hutto_ICWSM_2014/_README_.txt", b"readme")
    path = folder / vader.SDIST_NAME
    with tarfile.open(path, "w:gz") as outer:
        add_file(outer, "vaderSentiment-3.3.2/setup.py", b"")
        add_file(outer, f"vaderSentiment-3.3.2/{vader.RATINGS_ARCHIVE}", inner.getvalue())
    return path


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
