"""Logs as one JSON object per line, each carrying the id of the request it belongs to.

The access log (logger ``mapsvc.access``) is written by the request middleware
(``api.metrics.RequestMetrics``) with method, route template, status, duration, bytes and
cache hit; application logs get the request id from a context variable, so a line from deep in
an upload is found with the proxy's ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# What a proxy may hand us as a request id: anything else is replaced (no log injection).
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACCESS = "mapsvc.access"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", …extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        fields = dict(getattr(record, "fields", {}))
        if record.exc_info:
            fields["error"] = self.formatException(record.exc_info)
        when = datetime.fromtimestamp(record.created, UTC)
        return json_line(when, record.levelname, record.name, record.getMessage(), fields).decode()


def json_line(
    when: datetime, level: str, logger: str, message: str, fields: dict[str, Any]
) -> bytes:
    """One log entry as JSON (no newline), with the current request's id when there is one."""
    entry: dict[str, Any] = {
        "time": when.isoformat(timespec="milliseconds"),
        "level": level.lower(),
        "logger": logger,
        "message": message,
    }
    request_id = REQUEST_ID.get()
    if request_id is not None:
        entry["request_id"] = request_id
    return orjson.dumps(entry | fields, default=str)


# Paths that carry a secret (a one-time password link's token): logged without it.
SECRET_PATHS = ("/staff/setup/",)


def loggable_path(path: str) -> str:
    """The path as logs may keep it: a one-time link's token is cut off.

    Examples
    --------
    >>> loggable_path("/staff/setup/Xy3-secret")
    '/staff/setup/[redacted]'
    >>> loggable_path("/api/layers")
    '/api/layers'
    """
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return f"{prefix}[redacted]"
    return path


_access_log = logging.getLogger(ACCESS)
# JSON access lines bypass the logging machinery: at thousands of requests a second per worker
# its records and locks cost a fifth of the CPU and stretched the slowest answers past 5 s.
_fast_json_access = False


def access(route: str, fields: dict[str, Any]) -> None:
    """Write one access log line (``mapsvc.access``), if that logger is on."""
    if _fast_json_access:
        message = f"{fields['method']} {route} {fields['status']}"
        # One write per line: whole lines even with several workers on one file or pipe.
        os.write(1, json_line(datetime.now(UTC), "info", ACCESS, message, fields) + b"\n")
    elif _access_log.isEnabledFor(logging.INFO):
        _access_log.info(
            "%s %s %s", fields["method"], route, fields["status"], extra={"fields": fields}
        )


class JsonAccessToStdout(logging.Handler):
    """The access log's handler in the server's JSON logging config (made in every worker).

    Making it turns on the direct path of ``access``; records still logged through the logger
    are written the same way.
    """

    def __init__(self) -> None:
        super().__init__()
        global _fast_json_access  # one switch, set once per worker at start-up
        _fast_json_access = True

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record as one JSON line."""
        os.write(1, (JsonFormatter().format(record) + "\n").encode())


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
        "handlers": {"main": handler, "access": {"()": f"{__name__}.JsonAccessToStdout"}},
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            # Our access log replaces uvicorn's (it knows the route, the cache and the bytes).
            "uvicorn.access": {"handlers": [], "propagate": False},
            **({ACCESS: {"handlers": ["access"], "propagate": False}} if kind == "json" else {}),
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
        },
    }
