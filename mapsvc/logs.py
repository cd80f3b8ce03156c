"""Logs as one JSON object per line, each carrying the id of the request it belongs to.

The access log (logger ``mapsvc.access``) is written by the request middleware
(``api.metrics.RequestMetrics``) with method, route template, status, duration, bytes and
cache hit; application logs get the request id from a context variable, so a line from deep in
an upload is found with the proxy's ``X-Request-ID``.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# What a proxy may hand us as a request id: anything else is replaced (no log injection).
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACCESS = "mapsvc.access"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", …extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(kind: str, level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn's loggers and ours): json or text."""
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if kind == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            # Our access log replaces uvicorn's (it knows the route, the cache and the bytes).
            "uvicorn.access": {"handlers": [], "propagate": False},
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
        },
    }
