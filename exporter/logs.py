"""Structured logging: ``key=value`` pairs on the console, or one JSON object per line."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(_extras(record))
        return orjson.dumps(data, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """``level logger: message key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        pairs = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        text = f"{record.levelname.lower():7} {record.name}: {record.getMessage()}"
        return f"{text} {pairs}" if pairs else text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def setup(level: str, fmt: str) -> None:
    """Configure the root logger once for the CLI (stderr, so stdout stays machine-readable)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("opensearch", "urllib3", "botocore", "boto3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
