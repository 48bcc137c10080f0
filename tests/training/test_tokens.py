"""NER training data: CoNLL and JSON lines become BIO tags on the tokenizer's pieces; a run scores entity F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import UserInputError
from bot.training.kinds import get_kind
from bot.training.run import train

from tests.support.trainingdata import make_config

ner = get_kind("token-classification")
PEOPLE = ["Ada", "Alan", "Grace", "Linus"]
PLACES = ["Paris", "London", "Berlin", "Oslo"]


def entity_lines(count: int) -> list[str]:
    lines = []
    for i in range(count):
        person, place = PEOPLE[i % 4], PLACES[(i // 4) % 4]
        text = f"{person} flew to {place} today"
        start = text.index(place)
        lines.append(json.dumps({"text": text, "entities": [
            {"start": 0, "end": len(person), "type": "PER"},
            {"start": start, "end": start + len(place), "type": "LOC"}]}))
    return lines


def test_entities_become_bio_tags_on_word_pieces(minilm_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    record = {"text": "Ada Lovelace visited Reykjavik", "entities": [
        {"start": 0, "end": 12, "type": "PER"}, {"start": 21, "end": 30, "type": "LOC"}]}
    labels = ner.labels([record], None)
    assert labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    encoded = ner._encode(tokenizer, [record], {k: i for i, k in enumerate(labels)}, 32)[0]
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    tags = [labels[i] if i >= 0 else None for i in encoded["labels"]]
    assert list(zip(pieces, tags))[:3] == [("[CLS]", None), ("ada", "B-PER"), ("love", "I-PER")]
    assert tags[pieces.index("visited")] == "O"
    assert tags[pieces.index("##lace")] == "I-PER"
    assert tags[pieces.index("reykjavik")] == "B-LOC"
    assert tags[-1] is None


def test_bad_ner_data_is_listed(tmp_path: Path) -> None:
    jsonl = tmp_path / "ner.jsonl"
    jsonl.write_text('{"text": "Ada", "entities": [{"start": 0, "end": 9, "type": "PER"}]}\n'
                     '{"text": "Ada Bo", "entities": [{"start": 0, "end": 3, "type": "PER"}, '
                     '{"start": 2, "end": 6, "type": "PER"}]}\n'
                     '{"text": "Ada"}\n')
    with pytest.raises(UserInputError) as caught:
        ner.read(jsonl)
    message = str(caught.value)
    assert f"{jsonl}:1: entity 1: start and end must be offsets with 0 <= start < end <= 3" in message
    assert f"{jsonl}:2: entities overlap" in message
    assert f'{jsonl}:3: "entities" must be a list' in message
    conll = tmp_path / "ner.conll"
    conll.write_bytes(b"-DOCSTART- O\n\nAda B-PER\nflew O\n\nParis LOCATION\nlonely\nZ\xfcrich B-LOC\n")
    with pytest.raises(UserInputError) as caught:
        ner.read(conll)
    assert f"{conll}:6: tag 'LOCATION' is not BIO" in str(caught.value)
    assert f"{conll}:7: expected a token and a tag" in str(caught.value)
    assert f"{conll}:8: not UTF-8 text (invalid start byte at byte 1 of the line)" in str(caught.value)


def test_ner_run_on_conll_and_jsonl(tmp_path: Path, tiny_base: Path) -> None:
    from transformers import pipeline

    train_file = tmp_path / "train.jsonl"
    train_file.write_text("\n".join(entity_lines(32)) + "\n")
    eval_file = tmp_path / "eval.conll"
    eval_file.write_text("Grace B-PER\nflew O\nto O\nOslo B-LOC\ntoday O\n\nAlan B-PER\nflew O\nto O\nParis B-LOC\n")
    config = make_config(tmp_path)
    result = train(config, plugin="ner", kind="token-classification", data=train_file, eval_data=eval_file,
                   base=str(tiny_base), max_steps=3, show_bar=False)
    assert result.primary_metric == "entity_f1" and result.promoted
    assert set(result.metrics) >= {"entity_f1", "entity_precision", "entity_recall", "token_accuracy"}
    tagger = pipeline("token-classification", model=str(result.path), device="cpu")
    assert tagger.model.config.id2label == {0: "O", 1: "B-LOC", 2: "I-LOC", 3: "B-PER", 4: "I-PER"}
