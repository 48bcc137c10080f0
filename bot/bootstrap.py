"""The set-up every command shares: read the config, then apply its logging and offline settings.

Every entry point (``nlpbot run``, ``nlpbot train``, ``nlpbot index``, ``nlpbot jobs``...) calls
`bootstrap` before anything imports transformers or huggingface_hub, so offline mode holds everywhere.

The command line is quiet by default (`bot.cli.main` says so with `quiet_by_default`): library INFO lines,
warnings and progress bars stay out of what a person reads, unless `--verbose` or `log_level = "DEBUG"`.

Example::

    config = bootstrap(args.config)   # --config PATH, else $NLPBOT_CONFIG, else ./config.toml
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import Config, load_config
from bot.logs import no_library_progress_bars, quiet_libraries, setup_logging

_QUIET = False  # the default of `bootstrap(quiet=None)`: False for library use, set by the command line


def quiet_by_default(quiet: bool) -> None:
    """What `bootstrap` does when not told: the command line quiets itself unless --verbose."""
    global _QUIET
    _QUIET = quiet


def bootstrap(config_path: str | Path | None = None, *, quiet: bool | None = None) -> Config:
    """The config named by PATH / $NLPBOT_CONFIG / ./config.toml, with logging and offline mode applied.

    `quiet`: only warnings and errors of our own reach stderr, none of the libraries' chatter (default: what the
    command line set with `quiet_by_default`); a server (`nlpbot run` on Slack) says quiet=False.
    """
    config = load_config(config_path)
    setup_logging(config.bot.log_level, config.bot.log_format)
    if _QUIET if quiet is None else quiet:
        quiet_libraries()  # before transformers is imported: it reads TRANSFORMERS_VERBOSITY once
    elif _QUIET and config.bot.log_level != "DEBUG":
        no_library_progress_bars()  # a server's log is no terminal: no "Loading weights" bars in it
    if config.models.offline:  # before transformers or huggingface_hub is imported anywhere
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return config
