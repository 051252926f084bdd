"""gunicorn's own logs as JSON lines (gunicorn.conf.py: `logger_class`), like the portal's.

The access line has the method, the path without its query string and with a password reset
token masked (portal.log_format.safe_path), the status, the time and the bytes sent, and the
request id the portal returned: no query string (the desk's search `?q=` holds names), no
user agent, no referrer. The client address is in the portal's own access line
(portal.request_log), from the trusted proxy header; gunicorn only sees nginx.
"""

import logging

from gunicorn.glogging import Logger

from portal.log_format import JsonFormatter, safe_path


def _header(headers, name: str) -> str | None:
    for key, value in headers or ():
        if key.lower() == name.lower():
            return value
    return None


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        status = getattr(resp, "status_code", None)
        if status is None:
            status = int(str(resp.status).split(" ", 1)[0])
        self.access_log.log(
            logging.INFO,
            "request",
            extra={
                "method": req.method,
                "path": safe_path(req.path or ""),
                "status": status,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "request_id": _header(resp.headers, "X-Request-ID"),
            },
        )
