"""The default sentiment data: VADER's human-rated sentences (vadersentiment 3.3.2 sdist) as 3-label JSON lines.

Hutto & Gilbert (ICWSM 2014) had every sentence rated by about 20 people from -4 (extremely negative)
to +4 (extremely positive); the files hold the mean. We label a sentence

- ``negative`` when its mean rating is below -1,
- ``positive`` when it is above +1,
- ``neutral`` when it lies in [-1, +1] (NEUTRAL_BAND): at most "slightly" positive or negative
  on the raters' scale. A narrower band (±0.5) leaves under 10 % neutral in tweets and movie reviews;
  ±1 gives about 21 % neutral, 36 % negative, 43 % positive there.

Splits (deterministic, seeded): ``train.jsonl`` and ``eval.jsonl`` come from the tweets and movie reviews
(eval = 10 % held out, stratified by source and label); ``eval_out_of_domain.jsonl`` holds the Amazon
reviews and NYT editorial snippets. Each line: {"text", "label", "source", "rating"}.

Example::

    report = build(Path("data/vader"))          # downloads the sdist once, caches it under data/vader/
    report["counts"]["train"]                    # {"negative": ..., "neutral": ..., "positive": ...}
"""

from __future__ import annotations

import html
import io
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from bot.errors import NlpbotError, UsageError
from bot.training.data import write_jsonl

VERSION = "3.3.2"
SDIST_NAME = f"vaderSentiment-{VERSION}.tar.gz"
RATINGS_ARCHIVE = "additional_resources/hutto_ICWSM_2014.tar.gz"
NEUTRAL_BAND = 1.0
LABELS = ("negative", "neutral", "positive")
SOURCES = {
    "tweets": "tweets_GroundTruth.txt",
    "movie_reviews": "movieReviewSnippets_GroundTruth.txt",
    "amazon_reviews": "amazonReviewSnippets_GroundTruth.txt",
    "nyt_editorials": "nytEditorialSnippets_GroundTruth.txt",
}
IN_DOMAIN = ("tweets", "movie_reviews")


def label_for(rating: float) -> str:
    if rating < -NEUTRAL_BAND:
        return "negative"
    return "positive" if rating > NEUTRAL_BAND else "neutral"


def fetch_sdist(data_dir: Path, *, sdist: Path | None = None) -> Path:
    """The sdist: the caller's file, else the cached copy under data_dir, else downloaded once with pip."""
    if sdist is not None:
        if not Path(sdist).is_file():
            raise UsageError(f"{sdist}: no such file (expected the {SDIST_NAME} source distribution)")
        return Path(sdist)
    cached = data_dir / SDIST_NAME
    if cached.is_file():
        return cached
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   f"vadersentiment=={VERSION}", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        found = sorted(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not found:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise NlpbotError(
                f"could not download vadersentiment=={VERSION} from the package index ({' '.join(tail)}); "
                f"download {SDIST_NAME} where the index is reachable and pass it with --sdist FILE"
            )
        shutil.move(str(found[0]), cached)
    return cached


def read_ratings(sdist: Path) -> dict[str, list[dict[str, Any]]]:
    """Every rated sentence per source: {"tweets": [{"text", "rating", "id"}, ...], ...}."""
    try:
        with tarfile.open(sdist, "r:gz") as outer:
            member = next((m for m in outer.getmembers() if m.name.endswith(RATINGS_ARCHIVE)), None)
            if member is None:
                raise NlpbotError(f"{sdist}: has no {RATINGS_ARCHIVE}; is it the vadersentiment {VERSION} sdist?")
            inner_bytes = outer.extractfile(member).read()  # type: ignore[union-attr]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise NlpbotError(f"{sdist}: not a readable .tar.gz ({exc})") from None
    found: dict[str, list[dict[str, Any]]] = {}
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:gz") as inner:
        by_name = {Path(m.name).name: m for m in inner.getmembers() if m.isfile()}
        for source, name in SOURCES.items():
            if name not in by_name:
                raise NlpbotError(f"{sdist}: {RATINGS_ARCHIVE} has no {name}")
            raw = inner.extractfile(by_name[name]).read().decode("utf-8", errors="replace")  # type: ignore[union-attr]
            found[source] = list(_parse(raw))
    return found


def _parse(raw: str) -> Any:
    for line in raw.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        try:
            rating = float(parts[1])
        except ValueError:
            continue
        text = " ".join(html.unescape(parts[2]).split())
        if text:
            yield {"id": parts[0], "text": text, "rating": rating}


def build(out_dir: Path, *, sdist: Path | None = None, eval_fraction: float = 0.1, seed: int = 13) -> dict[str, Any]:
    """Write train.jsonl, eval.jsonl and eval_out_of_domain.jsonl under out_dir; return counts per split and label."""
    out_dir = Path(out_dir)
    ratings = read_ratings(fetch_sdist(out_dir, sdist=sdist))
    rng = random.Random(seed)
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "eval": [], "eval_out_of_domain": []}
    for source, rows in ratings.items():
        records = [{"text": r["text"], "label": label_for(r["rating"]), "source": source, "rating": r["rating"]}
                   for r in rows]
        if source not in IN_DOMAIN:
            splits["eval_out_of_domain"] += records
            continue
        for label in LABELS:
            group = [r for r in records if r["label"] == label]
            rng.shuffle(group)
            cut = round(len(group) * eval_fraction)
            splits["eval"] += group[:cut]
            splits["train"] += group[cut:]
    rng.shuffle(splits["train"])
    counts: dict[str, dict[str, int]] = {}
    for name, records in splits.items():
        write_jsonl(out_dir / f"{name}.jsonl", records)
        counts[name] = {label: sum(r["label"] == label for r in records) for label in LABELS}
    return {"out_dir": str(out_dir), "neutral_band": NEUTRAL_BAND, "counts": counts,
            "files": {name: str(out_dir / f"{name}.jsonl") for name in splits}}
