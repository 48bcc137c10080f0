"""A classifier's answer from every label's score: the label when sure enough, else "not sure" with the top guesses."""

from __future__ import annotations

from bot.models.decisions import decide

SCORES = [{"label": "question", "score": 0.30}, {"label": "bug", "score": 0.55}, {"label": "billing", "score": 0.15}]


def test_the_best_label_answers_when_it_reaches_the_calibrated_threshold():
    answer = decide(SCORES, {"threshold": 0.5})
    assert answer == {"label": "bug", "score": 0.55, "top": [{"label": "bug", "score": 0.55},
                                                             {"label": "question", "score": 0.3},
                                                             {"label": "billing", "score": 0.15}]}


def test_below_the_threshold_it_is_not_sure_and_keeps_the_guesses():
    answer = decide(SCORES, {"threshold": 0.6})
    assert answer["label"] is None and answer["score"] == 0.55
    assert [guess["label"] for guess in answer["top"]] == ["bug", "question", "billing"]


def test_without_a_calibration_the_best_label_answers():
    assert decide(SCORES, None)["label"] == "bug"


def test_out_of_scope_is_never_a_guess_and_when_it_wins_the_answer_is_not_sure():
    scores = [*SCORES[:2], {"label": "oos", "score": 0.70}]
    answer = decide(scores, {"threshold": 0.1, "out_of_scope_label": "oos"})
    assert answer["label"] is None and answer["score"] == 0.55
    assert [guess["label"] for guess in answer["top"]] == ["bug", "question"]
    assert decide(scores, {"threshold": 0.1})["label"] == "oos"  # a model whose calibration has no out-of-scope label


def test_several_labels_each_against_its_own_threshold():
    scores = [{"label": "bug", "score": 0.62}, {"label": "billing", "score": 0.41}, {"label": "urgent", "score": 0.2}]
    answer = decide(scores, {"multi_label": True, "thresholds": {"bug": 0.7, "billing": 0.4, "urgent": 0.1}})
    assert answer["labels"] == ["billing", "urgent"] and answer["label"] == "billing"
    nothing = decide(scores, {"multi_label": True, "thresholds": {"bug": 0.9, "billing": 0.9, "urgent": 0.9}})
    assert nothing["labels"] == [] and nothing["label"] is None and nothing["top"][0]["label"] == "bug"
    assert decide(scores, {"multi_label": True})["labels"] == ["bug"]  # no thresholds: 0.5 each
