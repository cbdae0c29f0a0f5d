"""Log formats (text or JSON) and the request id every log record of one answer carries."""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the answer being worked on; asyncio tasks and asyncio.to_thread copy it, so
# every log record of one answer carries the same id.
request_id: ContextVar[str | None] = ContextVar("careerbot_request_id", default=None)


def new_request_id() -> str:
    """A short random id for one answer."""
    return uuid.uuid4().hex[:12]


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or None) and `request` (" [id]" or "") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        record.request_id = rid
        record.request = f" [{rid}]" if rid else ""
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(stream: Any, fmt: str) -> logging.Handler:
    """A stream handler in the chosen format ('text' or 'json') that stamps request ids."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler
