"""Logging set-up: text or JSON lines, and secrets from the environment redacted from every record."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys

TOKEN_SHAPE = re.compile(r"xox[abpre]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}")
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "HF_TOKEN")


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RedactSecrets(logging.Filter):
    """Replaces the value of every secret variable, and anything shaped like a Slack token, with [redacted]."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = [os.environ[name] for name in SECRET_VARIABLES if len(os.environ.get(name, "")) >= 8]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TOKEN_SHAPE.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()  # every line logged while a request runs carries its id
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "request_id": getattr(record, "request_id", "-"), "message": record.getMessage()}
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


class LibraryRootRecords(logging.Filter):
    """Records logged on the root logger come from libraries that call `logging.info(...)` themselves (ONNX Runtime's
    quantizer writes about 40 lines per model): below ERROR they show only at DEBUG. The bot logs on named loggers."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root" or record.levelno >= logging.ERROR or self.level <= logging.DEBUG


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LibraryRootRecords(logging.getLevelName(level)))
    handler.addFilter(RedactSecrets())
    handler.setLevel(level)  # a library that sets its own logger to DEBUG (bm25s does, on import) stays at `level`
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their INFO lines are not the bot's news; APScheduler's ("Running job ...", twice per model check every 10 s)
    # repeat what the scheduler logs itself about the jobs that matter (bot.scheduler).
    for noisy in ("urllib3", "filelock", "httpx", "huggingface_hub", "sentence_transformers", "transformers", "faiss",
                  "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


LIBRARIES = ("apscheduler", "urllib3", "filelock", "httpx", "huggingface_hub", "sentence_transformers",
             "transformers", "torch", "py.warnings")


def quiet_libraries() -> None:
    """For a person at the command line: what a command prints is its output, and library INFO lines, warnings and
    progress bars ("Loading weights", the Trainer's) would bury it.

    The bot's own warnings and errors still show; `--verbose` or `log_level = "DEBUG"` in config shows everything.
    Call before transformers is imported: it reads TRANSFORMERS_VERBOSITY once, on import.
    """
    root = logging.getLogger()
    if root.level <= logging.DEBUG:
        return
    root.setLevel(max(root.level, logging.WARNING))
    for handler in root.handlers:  # a library that sets its own logger to DEBUG on import (bm25s does) stays quiet
        handler.setLevel(max(handler.level, logging.WARNING))
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    no_library_progress_bars()
    logging.captureWarnings(True)  # warnings.warn(...) from libraries becomes a "py.warnings" log record
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" in sys.modules:  # imported already (a test, a library user): the variable comes too late
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()


def no_library_progress_bars() -> None:
    """No progress bars from transformers and huggingface_hub ("Loading weights", "Writing model shards"): set before
    they are imported, which read HF_HUB_DISABLE_PROGRESS_BARS once; the bot's own bars are its to show."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
