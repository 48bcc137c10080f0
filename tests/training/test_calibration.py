"""The confidence threshold: a right answer +1, a wrong one -1; "not sure" 0, or with out-of-scope examples +1 for
them and -1 for other text (the most right answers on held-out data)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.training.calibration import calibrate_multi, calibrate_single, choose_threshold, report


def test_the_threshold_keeps_the_answers_that_are_more_often_right_than_wrong():
    best = np.array([0.95, 0.9, 0.8, 0.45, 0.4, 0.35])
    right = np.array([True, True, True, False, True, True])
    none = np.zeros(6, dtype=bool)
    assert choose_threshold(best, right, none, none) == 0.0  # one wrong answer at 0.45 among right ones: answer all
    wrong_below = np.array([True, True, True, False, False, False])
    assert choose_threshold(best, wrong_below, none, none) == 0.625  # between 0.45 and 0.8


def test_out_of_scope_examples_pull_the_threshold_up():
    best = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    right = np.array([True, True, True, True, False])
    out_of_scope = np.array([False, False, False, True, True])  # right is False for them: no label is right
    none = np.zeros(5, dtype=bool)
    assert choose_threshold(best, right & ~out_of_scope, out_of_scope, none) == 0.65


def test_with_out_of_scope_examples_not_sure_counts_as_wrong_for_text_that_has_a_label():
    best = np.array([0.9, 0.5, 0.45, 0.4])
    right = np.array([True, False, False, True])
    none = np.zeros(4, dtype=bool)
    assert choose_threshold(best, right, none, none) == 0.7  # no out-of-scope examples: quiet below the right 0.9
    with_chatter = np.append(best, 0.2), np.append(right, False), np.array([False] * 4 + [True])
    # the chatter at 0.2 is caught; "not sure" on the texts at 0.45 and 0.5 would be no more right than their answers
    assert choose_threshold(*with_chatter, np.zeros(5, dtype=bool)) == 0.3


def test_a_single_label_calibration_names_its_out_of_scope_label_and_its_metrics_follow_the_paper():
    labels = ["bug", "billing", "oos"]
    probabilities = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1], [0.1, 0.8, 0.1]])
    gold = ["bug", "billing", "oos", "oos", "bug"]
    calibration = calibrate_single(probabilities, gold, labels, "oos")
    assert calibration["out_of_scope_label"] == "oos" and calibration["out_of_scope_examples"] == 2
    assert 0.5 < calibration["threshold"] <= 0.7  # the out-of-scope text at 0.5 is no longer answered
    from bot.training.calibration import answers

    metrics = report(gold, answers(probabilities, labels, calibration), labels, "oos", multi_label=False)
    assert metrics["oos_recall"] == 1.0
    assert metrics["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-6)  # the bug text answered "billing"
    assert metrics["accuracy"] == 4 / 5
    assert metrics["per_label"]["oos"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert metrics["per_label"]["bug"]["recall"] == 0.5 and metrics["per_label"]["billing"]["precision"] == 0.5


def test_each_label_of_a_multi_label_classifier_gets_the_threshold_of_its_best_f1():
    labels = ["bug", "urgent"]
    probabilities = np.array([[0.9, 0.3], [0.6, 0.35], [0.2, 0.32], [0.1, 0.9]])
    gold = [["bug"], ["bug", "urgent"], [], ["urgent"]]
    calibration = calibrate_multi(probabilities, gold, labels)
    assert calibration["thresholds"] == {"bug": 0.6, "urgent": 0.35}
