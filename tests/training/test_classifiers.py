"""A classifier defined only in config.toml, from the command line: told how to train it, trained, gated, evaluated,
used in batch, and "not sure" exactly where its calibrated threshold says so; several labels per text from a CSV."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.support.classifiers import LABELS, copy_trained, nlpbot, triage_config
from tests.support.commandline import shown
from tests.support.trainingdata import triage_examples


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def triage(trained_triage: Path, tmp_path_factory, tiny_sentiment) -> Path:
    """This module's copy of the trained [classifiers.triage] (its config.toml)."""
    return copy_trained(trained_triage, tmp_path_factory.mktemp("triage-cli"), tiny_sentiment)


def test_before_its_first_training_the_command_says_how_to_train_it(tmp_path, tiny_sentiment):
    config = triage_config(tmp_path, tiny_sentiment)
    help = ok(nlpbot("ask", "/nlp help triage", config=config))
    assert "Which team should handle this request?" in help and "/triage TEXT" in help
    answer = nlpbot("ask", "/triage the printer crash on tuesday", config=config)
    assert "/triage has no trained model yet" in answer.stdout and "nlpbot train triage" in answer.stdout
    assert "data/triage.jsonl" in answer.stdout  # where `nlpbot train triage` takes its data from
    batch = nlpbot("predict", "triage", config=config, stdin='{"text": "refund my invoice"}\n')
    assert batch.returncode == 3 and "has no trained model yet" in batch.stderr  # exit 3: a missing model


def test_the_trained_version_knows_its_confidence_threshold_and_its_out_of_scope_label(triage: Path):
    [version] = json.loads(ok(nlpbot("models", "list", "triage", "--json", config=triage)))
    assert version["serving"] and version["primary_metric"] == "macro_f1"
    shown = json.loads(ok(nlpbot("models", "show", "triage", "--json", config=triage)))
    assert shown["labels"] == [*LABELS, "oos"]  # the configured labels, then the out-of-scope examples' own
    calibration = shown["calibration"]
    assert 0 <= calibration["threshold"] < 1 and calibration["out_of_scope_label"] == "oos"
    counts = Counter(example["label"] for example in triage_examples(240, seed=1, off_topic=40))
    assert calibration["held_out"] == sum(round(n * 0.1) for n in counts.values())  # 10% of each label, held out
    assert set(shown["metrics"]["per_label"]) == {*LABELS, "oos"}


def test_eval_reports_every_label_and_the_out_of_scope_recall(triage: Path):
    report = json.loads(ok(nlpbot("eval", "triage", "--data", "data/test.jsonl", "--json", config=triage)))
    assert report["plugin"] == "triage" and report["examples"] == 75
    metrics = report["metrics"]
    assert {"accuracy", "macro_f1", "oos_recall", "in_scope_accuracy", "per_label"} <= set(metrics)
    assert set(metrics["per_label"]) == {*LABELS, "oos"}
    assert all(set(row) == {"precision", "recall", "f1", "support"} for row in metrics["per_label"].values())
    assert metrics["per_label"]["oos"]["support"] == 15
    assert sum(row["support"] for row in metrics["per_label"].values()) == 75
    assert metrics["macro_f1"] > 0.6  # the tiny model learned the words that decide the team


def test_predict_answers_or_says_not_sure_exactly_as_the_threshold_says(triage: Path):
    threshold = json.loads(ok(nlpbot("models", "show", "triage", "--json", config=triage)))["calibration"]["threshold"]
    examples = triage_examples(40, seed=7, off_topic=20)
    lines = "".join(json.dumps({"text": example["text"]}) + "\n" for example in examples)
    rows = [json.loads(line) for line in ok(nlpbot("predict", "triage", config=triage, stdin=lines)).splitlines()]
    assert [row["text"] for row in rows] == [example["text"] for example in examples]
    for row in rows:
        assert [guess["label"] for guess in row["top"]] and {g["label"] for g in row["top"]} <= set(LABELS)
        assert row["top"] == sorted(row["top"], key=lambda guess: -guess["score"])
        assert row["score"] == row["top"][0]["score"]
        if row["label"] is not None:
            assert row["label"] == row["top"][0]["label"] and row["score"] >= threshold
    answered = [(row, example) for row, example in zip(rows, examples)
                if row["label"] is not None and example["label"] != "oos"]
    assert sum(row["label"] == example["label"] for row, example in answered) >= 0.7 * len(answered)
    off_topic = [row for row, example in zip(rows, examples) if example["label"] == "oos"]
    assert sum(row["label"] is None for row in off_topic) >= len(off_topic) / 2  # chatter that fits no team


def test_the_answer_in_words_and_as_data(triage: Path):
    answer = json.loads(ok(nlpbot("ask", "--json", "/triage the paper invoice window", config=triage)))
    data = answer["data"]
    assert answer["plugin"] == "triage" and data["text"] == "the paper invoice window"
    assert set(data) >= {"text", "label", "score", "top", "model_version"}  # what a feedback click records
    if data["label"] is None:
        assert "Not sure" in answer["text"]
    else:
        assert f"{data['label']} ({data['score']:.0%} sure)" in answer["text"]  # --json's text is plain


def test_a_worse_run_is_not_promoted_and_a_rollback_restores_the_one_before(trained_triage: Path, tmp_path: Path,
                                                                             tiny_sentiment):
    triage = copy_trained(trained_triage, tmp_path, tiny_sentiment)  # its own copy: it adds versions
    worse = shown(nlpbot("train", "triage", "--quiet", "--max-steps", "1", config=triage))
    assert "not promoted" in worse and "worse" in worse
    first, second = (row["version"] for row in json.loads(ok(nlpbot("models", "list", "triage", "--json",
                                                                     config=triage))))
    ok(nlpbot("models", "promote", "triage", second, config=triage))
    assert (triage.parent / "models" / "triage" / second / "onnx" / "model.onnx").is_file()  # served on ONNX
    ok(nlpbot("models", "rollback", "triage", config=triage))
    serving = [row for row in json.loads(ok(nlpbot("models", "list", "triage", "--json", config=triage)))
               if row["serving"]]
    assert [row["version"] for row in serving] == [first]


def test_several_labels_per_text_from_a_csv_file(tmp_path: Path, tiny_sentiment):
    rows = ["text,labels"]
    for i in range(200):
        urgent, team = i % 3 == 0, ["bug", "billing"][i % 2]
        word = {"bug": "crash", "billing": "invoice"}[team]
        rows.append(f"\"the {word} number {i}{' asap' if urgent else ''}\",{team}{';urgent' if urgent else ''}")
    (tmp_path / "tags.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = triage_config(tmp_path, tiny_sentiment, {"classifiers": {"tags": {
        "multi_label": True, "data": "tags.csv", "base": str(tiny_sentiment)}},
        "training": {"tags": {"max_steps": 60, "lr": 2e-3, "batch_size": 16}}})
    ok(nlpbot("train", "tags", "--quiet", config=config))
    shown = json.loads(ok(nlpbot("models", "show", "tags", "--json", config=config)))
    assert shown["labels"] == ["billing", "bug", "urgent"]  # from the data, sorted
    assert set(shown["calibration"]["thresholds"]) == {"billing", "bug", "urgent"}
    report = json.loads(ok(nlpbot("eval", "tags", "--data", "tags.csv", "--json", config=config)))
    assert {"accuracy", "macro_f1", "micro_f1"} <= set(report["metrics"])
    assert report["metrics"]["per_label"]["urgent"]["support"] == 67
    [row] = [json.loads(line) for line in
             ok(nlpbot("predict", "tags", config=config, stdin='{"text": "the invoice number 7 asap"}\n')).splitlines()]
    assert isinstance(row["labels"], list) and set(row["labels"]) <= {"billing", "bug", "urgent"}
    assert {guess["label"] for guess in row["top"]} == {"billing", "bug", "urgent"}


def test_bad_rows_of_a_csv_file_are_named_and_nothing_is_trained(tmp_path: Path, tiny_sentiment):
    (tmp_path / "bad.csv").write_text('text,label\n"fine",bug\n"too many",bug,extra\n"",billing\n"meh",cats\n')
    config = triage_config(tmp_path, tiny_sentiment, {"classifiers": {"triage": {"data": "bad.csv"}}})
    result = nlpbot("train", "triage", "--quiet", config=config)
    assert result.returncode == 2
    assert "bad.csv:3: 1 value(s) more than the header has columns" in result.stderr
    assert 'bad.csv:4: "text" is empty' in result.stderr
    assert "unknown label 'cats' on 1 line(s) (5); the labels are bug, question, billing, oos" in result.stderr
    assert not (tmp_path / "models" / "triage").exists() or not any((tmp_path / "models" / "triage").iterdir())
