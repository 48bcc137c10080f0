"""A classifier's answer from every label's score: the label when the version is sure enough, else none, with the top guesses.

A trained version stores its calibration in metadata.json (`bot.training.calibration` writes it); the hub reads
it with the model, so a promotion swaps both at once. Without one (a model from a path, the hub or a package)
the best label is the answer, and a multi-label model's labels are those scored 0.5 or more.

Example::

    decide([{"label": "bug", "score": 0.41}, {"label": "question", "score": 0.33}], {"threshold": 0.5})
    # {"label": None, "score": 0.41, "top": [{"label": "bug", "score": 0.41}, {"label": "question", "score": 0.33}]}
"""

from __future__ import annotations

from typing import Any

TOP = 5  # guesses an answer carries


def decide(scores: list[dict[str, Any]], calibration: dict[str, Any] | None) -> dict[str, Any]:
    """`scores`: every label's {"label", "score"} (softmax, or sigmoid for multi-label). Returns {"label": LABEL or
    None, "score", "top"}, and "labels" for a multi-label model; an out-of-scope label is never a guess."""
    calibration = calibration or {}
    out_of_scope = calibration.get("out_of_scope_label")
    ranked = sorted(({"label": str(s["label"]), "score": round(float(s["score"]), 4)} for s in scores),
                    key=lambda s: -s["score"])
    guesses = [s for s in ranked if s["label"] != out_of_scope]
    best = guesses[0] if guesses else {"label": None, "score": 0.0}
    if "thresholds" in calibration or calibration.get("multi_label"):
        limits = calibration.get("thresholds") or {}
        chosen = [s["label"] for s in guesses if s["score"] >= limits.get(s["label"], 0.5)]
        return {"label": chosen[0] if chosen else None, "score": best["score"], "labels": chosen, "top": guesses[:TOP]}
    sure = bool(guesses) and ranked[0]["label"] != out_of_scope and best["score"] >= calibration.get("threshold", 0.0)
    return {"label": best["label"] if sure else None, "score": best["score"], "top": guesses[:TOP]}
