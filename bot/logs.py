"""Logging for operators: what the assistant did, never who said what.

A finance support channel's logs must not hold the bot token, customers' texts or raw chat ids. Our
own log lines are written that way; two libraries are not:

* httpx logs every request URL at INFO, and Bot API URLs contain the token;
* python-telegram-bot logs whole updates and request parameters (texts, chat ids) at DEBUG.

So those loggers never go below WARNING, whatever ``LOG_LEVEL`` says, and every record passes a filter
that replaces the configured secrets by ``<secret>`` as a last line of defence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CHATTY_LIBRARIES = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio")
"""Loggers that put request URLs, payloads or SQL below WARNING."""


class SecretFilter(logging.Filter):
    """Replaces each secret in a record's formatted message (and traceback) by ``<secret>``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = record.exc_text = None
        for secret in self.secrets:
            message = message.replace(secret, "<secret>")
        record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """Logs to ``stream`` (standard error) at ``level``; returns the handler, so tests can remove it."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
