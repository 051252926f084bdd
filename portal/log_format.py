"""Logs as one JSON object per line, UTC times, and a request id on every line of a request.

`JsonFormatter` is the formatter of every handler (settings.LOGGING, gunicorn.conf.py):
`{"time": "2026-12-03T14:02:03.123Z", "level": "INFO", "logger": "...", "message": "...",
"request_id": "..."}` plus the record's `extra` fields, and `exception` with the traceback
(files, lines and code; no variables). Messages are the code's own sentences with ids,
counts and class names: free text an officeholder typed is never logged (the services log no
field values; docs/architecture.md, "Logs").

The request id comes from `portal.request_log` (a context variable), so lines logged while a
request runs carry it, also those of libraries.
"""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "portal_request_id", default=None
)

# Attributes every LogRecord has: whatever else is on a record came in through `extra=`.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

# Path segments that are secrets: the password reset link's uid and token.
_SECRET_PATHS = (re.compile(r"^(/account/wachtwoord-herstellen/)[^/]+/[^/]+/"),)


def safe_path(path: str) -> str:
    """A path for a log line: no query string (the desk's search `?q=` holds names) and no
    password reset token."""
    path = path.split("?", 1)[0]
    for pattern in _SECRET_PATHS:
        path = pattern.sub(r"\1<uid>/<token>/", path)
    return path


def utc_timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def route_of(request) -> str:
    """The URL pattern that answered (e.g. "/meldingen/<str:reference>/"); "-" when none
    did: a path that matched nothing may hold anything someone typed."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "-"
    return "/" + match.route


def _message(record: logging.LogRecord) -> str:
    """The record's message; Django's request loggers ("Not Found: /path") name the URL
    pattern instead of the path."""
    request = getattr(record, "request", None)
    if request is not None and isinstance(record.args, tuple) and record.args:
        paths = {getattr(request, "path", None), getattr(request, "path_info", None)}
        args = tuple(route_of(request) if arg in paths else arg for arg in record.args)
        return str(record.msg) % args
    return record.getMessage()


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        # Django's request logger puts the request object itself in `extra`.
        entry.pop("request", None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
