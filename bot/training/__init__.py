"""Training: data validation per kind, fine-tuning, evaluation, versions and promotion (`nlpbot train`).

Example::

    from bot.training import train
    result = train(config, plugin="sentiment", kind="sequence-classification",
                   labels=["negative", "neutral", "positive"], progress=print)   # data from [training.sentiment]
    result.promoted, result.reason, result.metrics
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainResult", "train"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `nlpbot ask` builds the whole command line (bot.cli.train, ...) and must not pay for
    # the training stack (measured: 0.6 s of a 2 s start).
    if name in __all__:
        from bot.training import run

        return getattr(run, name)
    raise AttributeError(name)
