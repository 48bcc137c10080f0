"""Bad training data is refused before any training, with every problem named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import UserInputError
from bot.training.data import hold_out
from bot.training.kinds import get_kind

from tests.support.trainingdata import LABELS, sentiment_examples

sentiment = get_kind("sequence-classification")


def read_error(path: Path, labels: list[str] | None = LABELS) -> str:
    with pytest.raises(UserInputError) as caught:
        sentiment.read(path, labels=labels)
    return str(caught.value)


def test_every_bad_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"text": "fine", "label": "positive"}\n'
        '{"text": "broken", "label": "positive"\n'
        '\n'
        '{"label": "negative"}\n'
        '{"text": "   ", "label": "neutral"}\n'
        '{"text": 42, "label": "neutral"}\n'
        '["not", "an", "object"]\n',
        encoding="utf-8",
    )
    message = read_error(path)
    assert message.startswith("5 problems in the training data:")
    assert f"{path}:2: not valid JSON" in message
    assert f'{path}:4: missing "text"' in message
    assert f'{path}:5: "text" is empty' in message
    assert f'{path}:6: "text" must be a string, got int 42' in message
    assert f"{path}:7: expected a JSON object" in message
    assert f"{path}:1" not in message


def test_unknown_labels_are_listed_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    lines = ['{"text": "ok", "label": "positive"}', '{"text": "hm", "label": "Positive"}',
             '{"text": "no", "label": "mixed"}', '{"text": "no", "label": "mixed"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = read_error(path)
    assert "unknown label 'Positive' on 1 line(s) (2)" in message
    assert "unknown label 'mixed' on 2 line(s) (3, 4)" in message
    assert "the labels are negative, neutral, positive" in message


def test_many_problems_are_cut_at_twenty_with_a_count(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text("not json\n" * 25, encoding="utf-8")
    message = read_error(path)
    assert message.startswith("25 problems")
    assert f"{path}:20: not valid JSON" in message
    assert f"{path}:21:" not in message
    assert "and 5 more" in message


def test_empty_and_missing_files_say_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert "the file is empty" in read_error(empty)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    assert "has 0 example(s)" in read_error(blank)
    assert "no such data file" in read_error(tmp_path / "nope.jsonl")


def test_held_out_split_is_deterministic_and_stratified() -> None:
    records = sentiment_examples(100, seed=3)
    train_a, eval_a = hold_out(records, fraction=0.2, seed=7, key="label")
    train_b, eval_b = hold_out(records, fraction=0.2, seed=7, key="label")
    assert eval_a == eval_b and train_a == train_b
    assert len(train_a) + len(eval_a) == 100
    assert {r["label"] for r in eval_a} == set(LABELS)
    _, eval_c = hold_out(records, fraction=0.2, seed=8, key="label")
    assert eval_c != eval_a
    with pytest.raises(UserInputError, match="too few"):
        hold_out(records[:1], fraction=0.2, seed=7)


def test_a_query_with_several_positives_is_held_out_whole() -> None:
    records = [{"query": f"q{i // 3}", "positive": f"p{i}"} for i in range(60)]  # 20 queries, 3 passages each
    train, held = hold_out(records, fraction=0.1, seed=7, together="query")
    assert len(held) == 6 and not {r["query"] for r in train} & {r["query"] for r in held}
    assert hold_out(records, fraction=0.1, seed=7, together="query") == (train, held)


def test_lines_that_are_not_utf8_are_named_and_the_good_lines_still_read(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    good = b'{"text": "fine", "label": "positive"}\n'
    path.write_bytes(good * 3 + b'{"text": "caf\xe9", "label": "neutral"}\n' + good + b"\xff\xfe\n" + good)
    message = read_error(path)
    assert message.startswith("2 problems in the training data:")
    assert f"{path}:4: not UTF-8 text (invalid continuation byte at byte 13 of the line)" in message
    assert f"{path}:6: not UTF-8 text (invalid start byte at byte 0 of the line)" in message
