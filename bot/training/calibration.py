"""Knowing when a classifier does not know: confidence thresholds chosen on held-out data, and the metrics of the answers.

One label per text: an answer below the threshold is "not sure" (`bot.models.decisions`). The threshold is the one
that scores best on the held-out examples when a right answer counts +1 and a wrong one -1. With out-of-scope
examples among them, they say what "not sure" is for: it is the right answer (+1) for out-of-scope text and a wrong
one (-1) for any other, so the threshold makes the most held-out answers right (the accuracy `nlpbot eval` reports,
as the CLINC150 paper counts it). Without them, "not sure" scores 0: the classifier stays quiet where its guesses at
that confidence are more often wrong than right.

Several labels per text: each label gets the threshold that gives it the best F1 on the held-out examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.models.decisions import decide

RULES = {False: "right +1, wrong -1, not sure 0",
         True: "right +1, wrong -1; not sure +1 for out-of-scope text, -1 for other text (held-out accuracy)"}


def choose_threshold(best: np.ndarray, answered_right: np.ndarray, out_of_scope: np.ndarray,
                     never_answered: np.ndarray) -> float:
    """The threshold on the best in-scope score. `answered_right`: the best label is the gold one; `out_of_scope`:
    the gold label is out of scope; `never_answered`: the model's top label is out of scope (no threshold answers)."""
    candidates = ~never_answered
    scores = best[candidates]
    # Raising the threshold past an example turns its answer into "not sure". An answer scores +1 if right, -1 if
    # wrong (always, for out-of-scope text); "not sure" scores +1 for out-of-scope text, and for other text -1 when
    # the held-out data has out-of-scope examples, else 0. Choose the cut with the best total.
    not_sure = -1 if out_of_scope.any() else 0
    gain_if_answered = np.where(out_of_scope[candidates], -2, np.where(answered_right[candidates], 1, -1) - not_sure)
    order = np.argsort(scores, kind="stable")
    scores, gain_if_answered = scores[order], gain_if_answered[order]
    kept = np.concatenate([np.cumsum(gain_if_answered[::-1])[::-1], [0]])  # kept[k]: answer examples k.. only
    cut = int(np.argmax(kept))  # the first of equal totals: the lowest threshold
    if cut == 0:
        return 0.0
    if cut == len(scores):
        return round(float(scores[-1]) + 1e-4, 4)
    return round(float(scores[cut - 1] + scores[cut]) / 2, 4)


def calibrate_single(probabilities: np.ndarray, gold: Sequence[str], labels: Sequence[str],
                     out_of_scope_label: str | None) -> dict[str, Any]:
    """The calibration of a one-label classifier: its threshold, and what it was chosen on."""
    top = probabilities.argmax(axis=1)
    names = np.asarray(labels, dtype=object)
    in_scope = np.asarray([label != out_of_scope_label for label in labels])
    best = np.where(in_scope[None, :], probabilities, -1.0).max(axis=1) if in_scope.any() else np.zeros(len(gold))
    gold_array = np.asarray(gold, dtype=object)
    oos = gold_array == out_of_scope_label if out_of_scope_label else np.zeros(len(gold), dtype=bool)
    threshold = choose_threshold(best, names[top] == gold_array, oos,
                                 ~in_scope[top] if out_of_scope_label else np.zeros(len(gold), dtype=bool))
    calibration: dict[str, Any] = {"threshold": threshold, "held_out": len(gold),
                                   "rule": RULES[bool(oos.any())]}
    if out_of_scope_label and (oos.any() or out_of_scope_label in labels):
        calibration.update(out_of_scope_label=out_of_scope_label, out_of_scope_examples=int(oos.sum()))
    return calibration


def calibrate_multi(probabilities: np.ndarray, gold: Sequence[Sequence[str]], labels: Sequence[str]) -> dict[str, Any]:
    """Per label, the threshold with the best F1 on the held-out examples (0.5 for a label they never have)."""
    thresholds = {}
    for column, label in enumerate(labels):
        truth = np.asarray([label in wanted for wanted in gold])
        scores = probabilities[:, column]
        best_f1, best_cut = -1.0, 0.5
        if truth.any():
            for cut in np.unique(np.round(scores, 4)):
                chosen = scores >= cut
                tp = float((chosen & truth).sum())
                f1 = 2 * tp / (chosen.sum() + truth.sum())
                if f1 > best_f1:
                    best_f1, best_cut = f1, float(cut)
        thresholds[label] = round(best_cut, 4)
    return {"multi_label": True, "thresholds": thresholds, "held_out": len(gold), "rule": "best F1 per label"}


def answers(probabilities: np.ndarray, labels: Sequence[str], calibration: dict[str, Any] | None) -> list[dict]:
    """What serving answers for each row of scores, as `bot.models.decisions.decide` does it."""
    return [decide([{"label": label, "score": float(score)} for label, score in zip(labels, row)], calibration)
            for row in probabilities]


def _f1(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def per_label(gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]) -> dict[str, dict]:
    """precision, recall, F1 and support of each label (an out-of-scope label: the texts answered with no label)."""
    table = {}
    for label in labels:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted))
        precision, recall, f1 = _f1(tp, fp, fn)
        table[label] = {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
                        "support": sum(label in g for g in gold)}
    return table


def report(gold: Sequence[Any], answered: Sequence[dict], labels: Sequence[str], out_of_scope_label: str | None,
           *, multi_label: bool) -> dict[str, Any]:
    """accuracy, macro_f1, per_label, and for held-out text that fits no label, oos_recall and in_scope_accuracy.

    One label: accuracy counts "not sure" as right for out-of-scope text only (as the CLINC150 paper does).
    Several labels: accuracy is the share of texts given exactly their labels; micro_f1 pools every decision.
    """
    oos = out_of_scope_label
    if multi_label:
        gold_sets = [set(g) - {oos} for g in gold]
        predicted = [set(a["labels"]) for a in answered]
    else:
        gold_sets = [{g} for g in gold]
        predicted = [{a["label"] if a["label"] is not None else oos} for a in answered]
    names = [label for label in labels if label != oos]
    table = per_label(gold_sets, predicted, names + ([oos] if not multi_label and oos in set().union(*gold_sets)
                                                     else []))
    scored = [name for name in table if table[name]["support"] or any(name in p for p in predicted)]
    metrics: dict[str, Any] = {
        "accuracy": float(np.mean([g == p for g, p in zip(gold_sets, predicted)])) if gold_sets else 0.0,
        "macro_f1": float(np.mean([table[name]["f1"] for name in scored])) if scored else 0.0,
    }
    if multi_label:
        tp = sum(len(g & p) for g, p in zip(gold_sets, predicted))
        metrics["micro_f1"] = _f1(tp, sum(len(p - g) for g, p in zip(gold_sets, predicted)),
                                  sum(len(g - p) for g, p in zip(gold_sets, predicted)))[2]
    outside = [i for i, g in enumerate(gold_sets) if (not g if multi_label else g == {oos})]
    if oos is not None and outside:
        inside = sorted(set(range(len(gold_sets))) - set(outside))
        nothing = set() if multi_label else {oos}
        metrics["oos_recall"] = float(np.mean([predicted[i] == nothing for i in outside]))
        metrics["in_scope_accuracy"] = float(np.mean([predicted[i] == gold_sets[i] for i in inside])) if inside else 0.0
    metrics = {key: round(value, 6) for key, value in metrics.items()}
    metrics["per_label"] = table
    return metrics
