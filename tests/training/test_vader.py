"""`nlpbot data vader` turns the VADER sdist's rated sentences into 3-label train/eval files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from bot.errors import NlpbotError
from bot.training import vader
from bot.cli import main
from tests.support.trainingdata import add_file, fake_sdist


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_vader_becomes_three_labels_with_a_neutral_band(tmp_path: Path) -> None:
    report = vader.build(tmp_path / "out", sdist=fake_sdist(tmp_path))
    train, held = read(tmp_path / "out/train.jsonl"), read(tmp_path / "out/eval.jsonl")
    outside = read(tmp_path / "out/eval_out_of_domain.jsonl")
    assert {r["source"] for r in train} == {r["source"] for r in held} == {"tweets", "movie_reviews"}
    assert {r["source"] for r in outside} == {"amazon_reviews", "nyt_editorials"}
    assert len(train) + len(held) == 80 and len(outside) == 80
    assert len(held) == 8  # 10 % of each label, held out
    by_rating = {r["rating"]: r["label"] for r in train + held + outside}
    assert by_rating == {-2.5: "negative", -1.0: "neutral", 0.3: "neutral", 1.0: "neutral", 1.2: "positive"}
    assert train[0]["text"].endswith("& more")
    assert report["counts"]["eval_out_of_domain"] == {"negative": 16, "neutral": 48, "positive": 16}
    assert not {r["text"] for r in train} & {r["text"] for r in held}
    again = vader.build(tmp_path / "again", sdist=tmp_path / vader.SDIST_NAME)
    assert read(tmp_path / "again/train.jsonl") == train and again["counts"] == report["counts"]


def test_cached_sdist_is_used_without_downloading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data/vader"
    out.mkdir(parents=True)
    fake_sdist(out)  # already in the cache folder: no pip download happens
    config = tmp_path / "config.toml"
    config.write_text("")
    assert main(["--config", str(config), "data", "vader"]) == 0
    printed = capsys.readouterr().out
    assert f"{out}/train.jsonl: 72 examples: negative 14 (19%), neutral 44 (61%), positive 14 (19%)" in printed
    assert "neutral = mean human rating within ±1" in printed


def test_a_wrong_archive_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "other.tar.gz"
    with tarfile.open(bogus, "w:gz") as outer:
        add_file(outer, "x/setup.py", b"")
    with pytest.raises(NlpbotError, match="has no additional_resources/hutto_ICWSM_2014.tar.gz"):
        vader.build(tmp_path / "out", sdist=bogus)
    assert main(["data", "vader", "--sdist", str(tmp_path / "missing.tar.gz"), "--out", str(tmp_path)]) == 2
    assert "missing.tar.gz: no such file" in capsys.readouterr().err
