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


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets())
    handler.setLevel(level)  # a library that sets its own logger to DEBUG (bm25s does, on import) stays at `level`
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "filelock", "httpx", "huggingface_hub", "sentence_transformers", "transformers", "faiss"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


LIBRARIES = ("apscheduler", "urllib3", "filelock", "httpx", "huggingface_hub", "sentence_transformers",
             "transformers", "torch", "py.warnings")


def quiet_for_console() -> None:
    """On the console the replies are the output: library INFO lines and warnings would interleave with them.

    The bot's own warnings and errors still show; `log_level = "DEBUG"` in config shows everything.
    Call before transformers is imported: it reads TRANSFORMERS_VERBOSITY once, on import.
    """
    root = logging.getLogger()
    if root.level <= logging.DEBUG:
        return
    root.setLevel(max(root.level, logging.WARNING))
    for handler in root.handlers:  # a library that sets its own logger to DEBUG on import (bm25s does) stays quiet
        handler.setLevel(max(handler.level, logging.WARNING))
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.captureWarnings(True)  # warnings.warn(...) from libraries becomes a "py.warnings" log record
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
