"""Logs: one JSON object per line, UTC times, a request id, and nothing a person typed.

A report is filed with a unique marker in its text and the desk searches for the marker
(`?q=`): no captured log line (the portal's, Django's, the access line) contains it, and
every line parses as JSON. gunicorn's access line drops the query string too.
"""

import io
import json
import logging
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.constants import IncidentType
from incidents.models import Incident
from portal.gunicorn_logging import JsonLogger
from portal.log_format import JsonFormatter, safe_path
from tests.conftest import verified_login

MARKER = f"Marker{uuid.uuid4().hex[:12]}"


@pytest.fixture
def log_lines():
    """Every record at INFO or above, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.mark.django_db
def test_no_typed_text_and_no_query_string_reaches_the_log(
    client, officeholder, registrar, log_lines
):
    client.force_login(officeholder)
    filed = client.post(
        reverse("incidents:quick"),
        {
            "submission_token": str(uuid.uuid4()),
            "types": [IncidentType.INTIMIDATION],
            "occurred_on": timezone.localdate().isoformat(),
            "occurred_at": "",
            "summary": f"Iemand volgde mij. {MARKER}",
        },
    )
    assert filed.status_code == 302
    assert MARKER in Incident.objects.get().summary
    desk = verified_login(client, registrar)
    searched = desk.get(reverse("desk:queue"), {"q": MARKER})
    missing = desk.get(f"/bestaat-niet/{MARKER}/?q={MARKER}")

    lines = log_lines()

    assert searched.status_code == 200 and missing.status_code == 404
    assert lines, "nothing was logged"
    entries = [json.loads(line) for line in lines]
    assert all(MARKER not in line for line in lines), [line for line in lines if MARKER in line]
    access = [entry for entry in entries if entry["logger"] == "portal.access"]
    assert {entry["route"] for entry in access} >= {"/meldingen/snel/", "/meldpunt/"}
    assert all("?" not in entry["route"] for entry in access)
    assert [(entry["route"], entry["status"]) for entry in access][-2:] == [
        ("/meldpunt/", 200),
        ("-", 404),
    ]
    assert "Not Found: -" in [entry["message"] for entry in entries]


@pytest.mark.django_db
def test_each_line_has_utc_time_and_the_request_id_the_response_returns(client, log_lines):
    response = client.get("/account/inloggen/")
    given = client.get("/account/inloggen/", headers={"x-request-id": "nginx-id-123"})
    forged = client.get("/account/inloggen/", headers={"x-request-id": "<script>" + "x" * 80})

    entries = [json.loads(line) for line in log_lines()]
    access = [entry for entry in entries if entry["logger"] == "portal.access"]

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert given["X-Request-ID"] == "nginx-id-123"
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
    assert [entry["request_id"] for entry in access] == [
        response["X-Request-ID"],
        "nginx-id-123",
        forged["X-Request-ID"],
    ]
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]), entry
    assert access[0]["view"] == "login" and access[0]["method"] == "GET"
    assert access[0]["client_ip"] == "127.0.0.1"


def test_an_exception_is_one_line_with_its_traceback():
    logger = logging.getLogger("portal.tests")
    record = None
    try:
        raise ValueError("kapot")
    except ValueError:
        record = logger.makeRecord(
            "portal.tests", logging.ERROR, __file__, 1, "failed %s", ("x",), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed x" and entry["level"] == "ERROR"
    assert "ValueError: kapot" in entry["exception"]


def test_safe_path_drops_the_query_string_and_masks_reset_tokens():
    assert safe_path(f"/meldpunt/?q={MARKER}") == "/meldpunt/"
    assert safe_path("/account/wachtwoord-herstellen/MQ/abc-123/") == (
        "/account/wachtwoord-herstellen/<uid>/<token>/"
    )


def test_gunicorns_access_line_is_json_without_the_query_string():
    """gunicorn.conf.py's logger class: method, path, status, time, bytes and request id."""
    stream = io.StringIO()
    logger = JsonLogger(SimpleNamespace(**_gunicorn_cfg()))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.access_log.handlers = [handler]
    response = SimpleNamespace(
        status="200 OK", status_code=200, sent=512, headers=[("X-Request-ID", "abc")]
    )
    request = SimpleNamespace(method="GET", path="/meldpunt/", query=f"q={MARKER}")

    logger.access(response, request, {"QUERY_STRING": f"q={MARKER}"}, timedelta(seconds=0.25))

    line = stream.getvalue().strip()
    assert MARKER not in line
    entry = json.loads(line)
    assert entry["logger"] == "gunicorn.access"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/meldpunt/", 200)
    assert entry["duration_ms"] == 250.0 and entry["request_id"] == "abc"


def _gunicorn_cfg() -> dict:
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    config.set("errorlog", "-")
    return {
        name: getattr(config, name)
        for name in (
            "accesslog",
            "errorlog",
            "loglevel",
            "capture_output",
            "syslog",
            "logconfig_dict",
            "logconfig_json",
            "logconfig",
            "disable_redirect_access_to_syslog",
            "access_log_format",
        )
    }


def test_the_celery_worker_and_beat_keep_the_json_logging():
    from celery.signals import setup_logging

    from portal.celery import use_django_logging

    assert any(receiver() is use_django_logging for _, receiver in setup_logging.receivers)
