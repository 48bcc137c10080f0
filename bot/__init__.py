"""nlpbot: a multi-task NLP Slack bot built from plugins."""

__version__ = "0.1.0"
