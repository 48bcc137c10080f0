"""The set-up every command shares: read the config, then apply its logging and offline settings.

Every entry point (``nlpbot run``, ``nlpbot train``, ``nlpbot index``, ``nlpbot jobs``...) calls
`bootstrap` before anything imports transformers or huggingface_hub, so offline mode holds everywhere.

Example::

    config = bootstrap(args.config)   # --config PATH, else $NLPBOT_CONFIG, else ./config.toml
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import Config, load_config
from bot.logs import setup_logging


def bootstrap(config_path: str | Path | None = None) -> Config:
    """The config named by PATH / $NLPBOT_CONFIG / ./config.toml, with logging and offline mode applied."""
    config = load_config(config_path)
    setup_logging(config.bot.log_level, config.bot.log_format)
    if config.models.offline:  # before transformers or huggingface_hub is imported anywhere
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return config
