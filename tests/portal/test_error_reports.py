"""Error reports never carry what frames and forms hold: Sentry (optional, SENTRY_DSN) is
started without local variables, request bodies or personal data, and Django's error e-mails
to ADMINS leave out frame variables and form data."""

import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

import portal
from portal import sentry
from portal.error_reports import PortalExceptionReporterFilter

MARKER = "geheime-tekst-uit-een-melding-7f3a"


def test_sentry_is_started_without_local_variables_or_personal_data(monkeypatch):
    seen = {}
    monkeypatch.setattr(sentry.sentry_sdk, "init", lambda **options: seen.update(options))

    sentry.sentry_init("https://key@sentry.example.nl/1", environment="acceptatie")

    assert seen["dsn"] == "https://key@sentry.example.nl/1"
    assert seen["include_local_variables"] is False
    assert seen["send_default_pii"] is False
    assert seen["max_request_body_size"] == "never"
    assert seen["release"] == portal.__version__
    assert seen["environment"] == "acceptatie"


def test_sentry_events_lose_the_request_content_before_sending():
    event = {
        "request": {
            "url": f"https://meldpunt.example.nl/meldpunt/?q={MARKER}",
            "query_string": f"q={MARKER}",
            "data": {"summary": MARKER},
            "cookies": {"sessionid": MARKER},
            "headers": {"Referer": MARKER},
            "method": "POST",
        },
        "user": {"ip_address": "192.0.2.1"},
    }

    cleaned = sentry.sentry_options("https://k@s/1", environment="p")["before_send"](event, {})

    assert MARKER not in repr(cleaned)
    assert cleaned["request"] == {"url": "https://meldpunt.example.nl/meldpunt/", "method": "POST"}
    assert "user" not in cleaned


def test_the_error_email_to_admins_has_no_frame_variables_and_no_form_data(settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = (
        "portal.error_reports.PortalExceptionReporterFilter"
    )
    request = RequestFactory().post("/meldingen/nieuw/", {"summary": MARKER})

    def fails(summary):
        raise ValueError("Kapot")

    try:
        fails(MARKER)
    except ValueError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    text = reporter.get_traceback_text()

    assert "ValueError" in text and "Kapot" in text
    assert MARKER not in text
    assert isinstance(reporter.filter, PortalExceptionReporterFilter)
