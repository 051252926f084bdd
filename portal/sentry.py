"""Optional error reporting to Sentry (SENTRY_DSN; README, "Monitoring").

Frames of the portal hold decrypted incident text, and requests hold what officeholders
typed: Sentry gets the error's type, message and stack (file, line, function) only. No local
variables, no request body, no cookies or headers, no query string, no user or IP address.
"""

import sentry_sdk

import portal

REMOVED_REQUEST_KEYS = ("data", "query_string", "cookies", "headers", "env")


def _without_request_content(event, hint):
    """Sentry's last step before sending: drop whatever of the request is still there."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in REMOVED_REQUEST_KEYS:
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    return event


def sentry_options(dsn: str, *, environment: str) -> dict:
    """The options `sentry_sdk.init` gets (tested: no local variables, no personal data)."""
    return {
        "dsn": dsn,
        "environment": environment,
        "release": portal.__version__,
        "include_local_variables": False,
        "send_default_pii": False,
        "max_request_body_size": "never",
        "before_send": _without_request_content,
        # Errors only: no performance traces (they would name URLs with references).
        "traces_sample_rate": 0.0,
    }


def sentry_init(dsn: str, *, environment: str) -> None:
    """Start the Sentry SDK (its Django and Celery integrations switch on by themselves)."""
    sentry_sdk.init(**sentry_options(dsn, environment=environment))
