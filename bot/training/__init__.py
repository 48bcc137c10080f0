"""Training: data validation per kind, fine-tuning, evaluation, versions and promotion (`nlpbot train`).

Example::

    from bot.training import train
    result = train(config, plugin="sentiment", kind="sequence-classification",
                   labels=["negative", "neutral", "positive"], progress=print)   # data from [training.sentiment]
    result.promoted, result.reason, result.metrics
"""

from bot.training.run import TrainResult, train

__all__ = ["TrainResult", "train"]
