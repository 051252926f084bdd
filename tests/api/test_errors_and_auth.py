"""The API's errors, authentication and throttling.

- One JSON error shape, {"error": {"status", "code", "message", "fields"?}}, for every error.
- Field errors follow the request's language (Accept-Language), Dutch by default. The test
  uses DRF's own built-in messages, whose English and Dutch texts ship with DRF.
- A stale `version` is refused with 409, for incidents and for support cases alike.
- Personal tokens (`Authorization: Token <key>`) work, record their last use, and stop
  working once revoked; the browser session works too, but only with a CSRF token for writes.
- Throttling per user and per anonymous IP address, with the rates from the settings.
"""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from incidents.constants import MessageAudience, Status
from incidents.models import Incident
from portal.models import ApiToken
from portal.services import api_token_revoke
from support.constants import CaseStatus
from support.models import SupportCase
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

REQUIRED_NL = "Dit veld is vereist."  # DRF's Dutch catalogue
REQUIRED_EN = "This field is required."


def _url(name: str, incident=None, **kwargs) -> str:
    if incident is not None:
        kwargs["reference"] = incident.reference
    return reverse(f"api:{name}", kwargs=kwargs or None)


def _assert_error_shape(response, status: int, code: str | None = None) -> dict:
    """The body is exactly the one error shape, with the response's own status in it."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"status", "code", "message", "fields"}
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# --- one error shape ----------------------------------------------------------------------


def test_400_has_the_error_shape_with_field_errors(world, client_for):
    """Invalid input: 400, code `invalid`, and per field what is wrong."""
    response = client_for("owner").post(
        _url("incident-messages", world.incidents["submitted"]), {}, format="json"
    )
    error = _assert_error_shape(response, 400, "invalid")
    assert error["fields"] == {"body": [REQUIRED_NL]}


def test_401_has_the_error_shape_and_names_the_token_scheme(world):
    """No credentials: 401 with a `WWW-Authenticate: Token` challenge."""
    response = APIClient().get(_url("incident-list"))
    _assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_403_has_the_error_shape(world, client_for):
    """In scope, not for this role (an officeholder reading internal notes): 403."""
    response = client_for("owner").get(_url("incident-notes", world.incidents["submitted"]))
    _assert_error_shape(response, 403, "permission_denied")


def test_404_has_the_error_shape_and_is_the_same_for_missing_and_out_of_scope(world, client_for):
    """Another desk's real incident answers exactly like a reference that does not exist."""
    client = client_for("other_registrar")
    out_of_scope = client.get(_url("incident-detail", world.incidents["submitted"]))
    missing = client.get(_url("incident-detail", reference="MWB-2026-999999"))
    _assert_error_shape(out_of_scope, 404, "not_found")
    assert out_of_scope.json() == missing.json()


def test_404_for_an_unknown_api_url_is_json_too(world, client_for):
    """A path under /api/ that matches nothing (a reference no reference can be) is JSON 404."""
    response = client_for("owner").get("/api/v1/incidents/not%20a%20reference/")
    _assert_error_shape(response, 404, "not_found")


def test_409_has_the_error_shape_when_the_workflow_refuses(world, client_for):
    """A step that the workflow table does not allow: 409 `transition_not_allowed`."""
    incident = world.incidents["escalated"]
    response = client_for("owner").post(
        _url("incident-transitions", incident),
        {"to_status": Status.WITHDRAWN, "version": incident.version},
        format="json",
    )
    _assert_error_shape(response, 409, "transition_not_allowed")


def test_400_when_a_reason_is_missing_names_the_field(world, client_for):
    """Escalating by hand without a reason: 400 naming `reason`, the action's documented input
    (the deprecated endpoint and the action endpoint alike); nothing changes."""
    incident = world.incidents["submitted"]
    client = client_for("registrar")
    for url in (
        _url("incident-transitions", incident),
        reverse("api:incident-action-escalate", kwargs={"reference": incident.reference}),
    ):
        response = client.post(
            url, {"to_status": Status.ESCALATED, "version": incident.version}, format="json"
        )
        error = _assert_error_shape(response, 400, "invalid")
        assert set(error["fields"]) == {"reason"}
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


@pytest.mark.parametrize(
    "query", ["?date_to=9999-12-31", "?date_from=0001-01-01", "?date_from=2026-02-30"]
)
def test_queue_dates_outside_the_portals_life_are_a_400_not_a_server_error(
    world, client_for, query
):
    """Dates the time-zone arithmetic cannot handle are refused like the web queue does."""
    response = client_for("registrar").get(_url("incident-list") + query)
    error = _assert_error_shape(response, 400, "invalid")
    assert set(error["fields"]) <= {"date_from", "date_to"}


@pytest.mark.parametrize(
    "query",
    [
        "?organisation=99999999999999999999",
        "?organisation=-1",
        "?organisation=1.5",
        "?organisation=1e400",
    ],
)
def test_query_parameters_out_of_range_are_a_400_not_a_server_error(world, client_for, query):
    """The attack: `?organisation=99999999999999999999` overflowed the database's integer
    and gave a 500. Now every out-of-range number is a 400 in the API's error shape."""
    response = client_for("registrar").get(_url("incident-list") + query)
    error = _assert_error_shape(response, 400, "invalid")
    assert set(error["fields"]) == {"organisation"}


def test_an_id_out_of_range_in_a_path_is_a_404(world, client_for):
    """A huge evidence or notification id finds nothing, like any unknown id."""
    reference = world.incidents["submitted"].reference
    owner = client_for("owner")
    download = owner.get(
        reverse(
            "api:incident-evidence-download",
            kwargs={"reference": reference, "pk": 99999999999999999999},
        )
    )
    read = owner.post(reverse("api:notification-read", kwargs={"pk": 99999999999999999999}))
    _assert_error_shape(download, 404, "not_found")
    _assert_error_shape(read, 404, "not_found")


# --- language ------------------------------------------------------------------------------


def test_field_errors_are_dutch_by_default(world, client_for):
    """Without Accept-Language the field errors are Dutch, the portal's language."""
    response = client_for("registrar").post(
        _url("incident-triage", world.incidents["submitted"]), {}, format="json"
    )
    fields = _assert_error_shape(response, 400, "invalid")["fields"]
    assert fields["version"] == [REQUIRED_NL]
    assert fields["triage_severity"] == [REQUIRED_NL]


def test_field_errors_are_english_with_accept_language_en(world, client_for):
    """With `Accept-Language: en` the same errors come in English."""
    response = client_for("registrar").post(
        _url("incident-triage", world.incidents["submitted"]),
        {},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    fields = _assert_error_shape(response, 400, "invalid")["fields"]
    assert fields["version"] == [REQUIRED_EN]
    assert fields["triage_severity"] == [REQUIRED_EN]


def test_other_errors_follow_the_language_too(world):
    """The 401 message is English with `Accept-Language: en` and Dutch without."""
    english = APIClient().get(_url("incident-list"), HTTP_ACCEPT_LANGUAGE="en")
    dutch = APIClient().get(_url("incident-list"))
    assert english.json()["error"]["message"] == "Authentication credentials were not provided."
    assert dutch.json()["error"]["message"] == "Authenticatiegegevens zijn niet opgegeven."


# --- stale versions ------------------------------------------------------------------------


def test_incident_transition_with_a_stale_version_is_409_and_changes_nothing(world, client_for):
    """Taking an incident with the version before someone else's change: 409, still submitted."""
    incident = world.incidents["submitted"]
    client = client_for("registrar")
    assign = client.post(
        _url("incident-assign", incident),
        {"assignee": world.users["registrar"].pk, "version": incident.version},
        format="json",
    )
    assert assign.status_code == 200
    assert assign.json()["version"] == incident.version + 1
    response = client.post(
        _url("incident-transitions", incident),
        {"to_status": Status.IN_TRIAGE, "version": incident.version},
        format="json",
    )
    _assert_error_shape(response, 409, "stale_version")
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


def test_incident_transition_with_the_current_version_goes_through(world, client_for):
    """The same step with the version just returned is taken, and the version goes up."""
    incident = world.incidents["submitted"]
    response = client_for("registrar").post(
        _url("incident-transitions", incident),
        {"to_status": Status.IN_TRIAGE, "version": incident.version},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == Status.IN_TRIAGE
    assert response.json()["version"] == incident.version + 1


def test_support_case_transition_with_a_stale_version_is_409_and_changes_nothing(world, client_for):
    """Acknowledging a case with an old version: 409, and the case stays new."""
    case = world.cases["new"]
    client = client_for("support")
    reference = case.incident.reference
    assign = client.post(
        _url("support-case-assign", reference=reference),
        {"handler": world.users["support"].pk, "version": case.version},
        format="json",
    )
    assert assign.status_code == 200
    response = client.post(
        _url("support-case-transitions", reference=reference),
        {"to_status": CaseStatus.ACKNOWLEDGED, "version": case.version},
        format="json",
    )
    _assert_error_shape(response, 409, "stale_version")
    assert SupportCase.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_support_case_cannot_be_assigned_or_planned_once_returned(world, client_for):
    """A case given back to the desk is finished for the team: assign and plan answer 409."""
    case = world.cases["in_progress"]
    client = client_for("support")
    reference = case.incident.reference
    returned = client.post(
        _url("support-case-transitions", reference=reference),
        {"to_status": CaseStatus.RETURNED, "version": case.version, "text": "Lokaal oppakken."},
        format="json",
    )
    assert returned.status_code == 200
    version = returned.json()["version"]
    assign = client.post(
        _url("support-case-assign", reference=reference),
        {"handler": world.users["support"].pk, "version": version},
        format="json",
    )
    _assert_error_shape(assign, 409, "transition_not_allowed")
    update = client.post(
        _url(
            "support-case-update-action",
            reference=reference,
            action_id=world.actions["in_progress"].pk,
        ),
        {"status": "done", "shared_with_desk": False, "version": version},
        format="json",
    )
    _assert_error_shape(update, 409, "transition_not_allowed")


# --- personal tokens -----------------------------------------------------------------------


def test_a_token_authenticates_as_its_user_and_records_its_last_use(world):
    """`Authorization: Token <key>` works for the token's user and stamps last_used_at."""
    token = ApiToken.objects.get(user=world.users["owner"])
    assert token.last_used_at is None
    response = token_client(world.tokens["owner"]).get(_url("incident-list"))
    assert response.status_code == 200
    references = {row["reference"] for row in response.json()["results"]}
    assert world.incidents["submitted"].reference in references
    assert world.incidents["zwolle"].reference not in references
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_a_revoked_token_is_refused_with_401(world):
    """After revoking, the same key gets 401, with the error shape and the token challenge."""
    owner = world.users["owner"]
    token = ApiToken.objects.get(user=owner)
    assert api_token_revoke(user=owner, token_id=token.pk)
    response = token_client(world.tokens["owner"]).get(_url("incident-list"))
    _assert_error_shape(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header",
    ["Token", "Token one two", "Token not-a-real-key", "token not-a-real-key"],
    ids=["no key", "two keys", "unknown key", "lowercase scheme, unknown key"],
)
def test_a_malformed_or_unknown_token_is_refused_with_401(world, header):
    """A token header without exactly one known key: 401, never a server error."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    _assert_error_shape(client.get(_url("incident-list")), 401, "authentication_failed")


def test_the_token_of_a_deactivated_user_is_refused(world):
    """Deactivating an account stops its tokens at once."""
    owner = world.users["owner"]
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    response = token_client(world.tokens["owner"]).get(_url("incident-list"))
    _assert_error_shape(response, 401, "authentication_failed")


def test_token_requests_need_no_csrf_token(world):
    """A token is not a cookie, so a POST with a token needs (and gets) no CSRF check."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['owner']}")
    response = client.post(
        _url("incident-messages", world.incidents["submitted"]),
        {"body": "Graag even bellen."},
        format="json",
    )
    assert response.status_code == 201


# --- browser session -----------------------------------------------------------------------


def test_a_session_can_read_without_a_csrf_token(world):
    """A logged-in browser session reads the API like any page."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    assert client.get(_url("incident-list")).status_code == 200


def test_a_session_post_without_a_csrf_token_is_refused(world):
    """A session POST without the CSRF token: 403 in the error shape, nothing written."""
    incident = world.incidents["submitted"]
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    response = client.post(
        _url("incident-messages", incident), {"body": "Graag even bellen."}, format="json"
    )
    error = _assert_error_shape(response, 403, "permission_denied")
    assert "CSRF" in error["message"]
    assert not incident.messages.exists()


def test_a_session_post_with_the_csrf_token_is_accepted(world):
    """With the token from the csrftoken cookie in X-CSRFToken, the same POST goes through."""
    incident = world.incidents["submitted"]
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    assert client.get(reverse("profile")).status_code == 200  # sets the CSRF cookie
    csrf_token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post(
        _url("incident-messages", incident),
        {"body": "Graag even bellen."},
        format="json",
        HTTP_X_CSRFTOKEN=csrf_token,
    )
    assert response.status_code == 201, response.content
    assert incident.messages.get().audience == MessageAudience.OFFICEHOLDER_THREAD


# --- throttling ----------------------------------------------------------------------------


def test_throttles_count_in_the_configured_cache_with_the_configured_rates():
    """DRF's throttles use the default cache, which is configured (Django's LocMemCache when
    CACHES is not set), and the rates (API_THROTTLE_ANON / _USER) are valid DRF rates."""
    assert django_settings.CACHES["default"]["BACKEND"]
    rates = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) == {"anon", "user"}
    for rate in rates.values():
        number, seconds = UserRateThrottle().parse_rate(rate)
        assert number > 0 and seconds > 0


def test_a_user_over_the_rate_gets_429_and_another_user_does_not(world, throttle_rates):
    """With `user` at 3/minute the fourth request is 429 (with Retry-After); others go on."""
    throttle_rates(anon="100/minute", user="3/minute")
    owner = token_client(world.tokens["owner"])
    url = _url("incident-list")
    assert [owner.get(url).status_code for _ in range(3)] == [200, 200, 200]
    throttled = owner.get(url)
    _assert_error_shape(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert token_client(world.tokens["registrar"]).get(url).status_code == 200


def test_an_anonymous_ip_over_the_rate_gets_429_and_another_ip_does_not(
    world, throttle_rates, settings
):
    """With `anon` at 3/minute an address gets three public answers, then 429; others go on.

    The only endpoint that can be public is the schema (with API_DOCS_PUBLIC); the others
    refuse anonymous callers (401) before any throttle counts.
    """
    settings.API_DOCS_PUBLIC = True
    throttle_rates(anon="3/minute", user="100/minute")
    client, url = APIClient(), reverse("api:schema")
    codes = [client.get(url, REMOTE_ADDR="192.0.2.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get(url, REMOTE_ADDR="192.0.2.2").status_code == 200
