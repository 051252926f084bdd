"""Who gets what at every URL of the portal: generated from the URL configuration.

Every URL pattern of `portal.urls` (web and API, through every include) must have a row in
TABLE for GET and for POST, with the exact status for each role. The only URLs left out are
the Django admin's own (one rule: the `admin` namespace; its access is the admin site's
`has_permission`, tested with the two-factor tests). A new URL without rows fails
`test_every_url_has_rows` with its name, so nobody ships a page without writing down who
may open it.

Each URL is called on real objects of the API tests' world (see `tests.api.conftest`): the
owner's incidents, evidence, support case and action, so that the other officeholder, the
registrar of the other desk, support and admin try real references that are not theirs. POST
sends an empty body: it shows who gets as far as validation (200 with the form again, or 400
in the API) and who is stopped before (302 to the login, 401/403, 404 out of scope, 405).

Web pages are called with a session (staff with a verified second factor; the last column
is a registrar with only a password); the API with each role's personal token (the last
column: the same password-only session).
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from portal.models import ApiToken
from tests.api.conftest import token_client
from tests.security.conftest import log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shared_world):
    """One world for this module, each test in a savepoint of its own: these tests change it
    only through requests (see `module_world` in tests/api/conftest.py)."""
    return shared_world


ROLES = (
    "anonymous",
    "owner",  # the officeholder who filed the incidents
    "other_officeholder",  # of another organisation, served by another desk
    "registrar",  # of the desk that serves the owner's organisation
    "other_registrar",  # of the other desk
    "support",
    "admin",
    "analyst",  # read-only, aggregates only (the statistics), national
    "staff_without_second_factor",  # the registrar, logged in with a password only
)


@dataclass(frozen=True)
class Redirect:
    """A 302 to the page named `url_name` (query string ignored)."""

    url_name: str

    def __str__(self):
        return f"302→{self.url_name}"


LOGIN = Redirect("login")
CODE = Redirect("two_factor_verify")
HOME = Redirect("home")
PROFILE = Redirect("profile")
NOTIFICATIONS = Redirect("notifications")

# (URL name, method, one status per role in the order of ROLES)
# fmt: off
TABLE = [
    # --- site and account ----------------------------------------------------------------------
    ("home", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("home", "POST", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    # Probes and metrics, answered before the login middleware (portal.middleware.
    # ProbeMiddleware): the same for everyone. /metrics needs METRICS_TOKEN, not configured
    # here, so it is not there; with and without the token: tests/portal/test_health.py.
    ("healthz", "GET", 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("healthz", "POST", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ("readyz", "GET", 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("readyz", "POST", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ("metrics", "GET", 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("metrics", "POST", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ("privacy", "GET", 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("privacy", "POST", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # The weekly desk mailbox link: a page with one button for anyone holding the link; a
    # damaged (here: made up) token confirms nothing and says why.
    ("desk_mailbox_confirm", "GET", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("desk_mailbox_confirm", "POST", 400, 400, 400, 400, 400, 400, 400, 400, CODE),
    ("accessibility", "GET", 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("accessibility", "POST", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ("set_language", "GET", HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    ("set_language", "POST", HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    ("notifications", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("notifications", "POST", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("notifications_read_all", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("notifications_read_all", "POST", LOGIN, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS,
     NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, CODE),
    # The owner's notification: everyone else gets 404.
    ("notification_open", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("notification_open", "POST", LOGIN, HOME, 404, 404, 404, 404, 404, 404, CODE),
    # "Ingelogd blijven": starts a session's idle time again; without the page's script the
    # form goes back to the page it came from (here none, so home).
    ("keep_alive", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("keep_alive", "POST", LOGIN, HOME, HOME, HOME, HOME, HOME, HOME, HOME, CODE),
    # Invitations: a made-up link is "not found" for anyone holding it; asking for a new link
    # only by POST. After accepting, the welcome page (passkey or app) is for the logged-in.
    ("invitation_accept", "GET", 404, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("invitation_accept", "POST", 404, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("invitation_renewal_request", "GET", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("invitation_renewal_request", "POST", 404, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("account_welcome", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("account_welcome", "POST", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    # A coordinator's Beheer pages: nobody in this world is a coordinator, so 404 for all
    # (the coordinator's own scope: tests/portal/test_manage.py).
    *[
        (name, method, LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE)
        for name in (
            "manage:people",
            "manage:invite",
            "manage:person",
            "manage:person_invitation_resend",
            "manage:person_deactivate",
            "manage:person_identity_link",
            "manage:person_identity_unlink",
            "manage:import",
            "manage:import_detail",
            "replies:list",
            "replies:add",
            "replies:edit",
            "replies:deactivate",
        )
        for method in ("GET", "POST")
    ],
    ("login", "GET", 200, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    ("login", "POST", 200, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    # Logging in through an organisation: a public list, a provider that does not exist (back
    # to the login page, which sends the logged-in home) and a callback for a login that was
    # never started here (the same; nobody is logged out by it).
    ("sso_choose", "GET", *[200] * 9),
    ("sso_choose", "POST", *[405] * 9),
    ("sso_start", "GET", *[LOGIN] * 9),
    ("sso_start", "POST", *[405] * 9),
    ("sso_callback", "GET", *[LOGIN] * 9),
    ("sso_callback", "POST", *[405] * 9),
    ("invitation_sso", "GET", 404, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("invitation_sso", "POST", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("logout", "GET", 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ("logout", "POST", LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ("two_factor_verify", "GET", LOGIN, HOME, HOME, HOME, HOME, HOME, HOME, HOME, 200),
    ("two_factor_verify", "POST", LOGIN, HOME, HOME, HOME, HOME, HOME, HOME, HOME, 200),
    ("two_factor_setup", "GET", LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE,
     PROFILE, PROFILE),
    ("two_factor_setup", "POST", LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE,
     PROFILE, PROFILE),
    # Only officeholders may switch the code off; for staff the page does not exist.
    ("two_factor_remove", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("two_factor_remove", "POST", LOGIN, PROFILE, PROFILE, 404, 404, 404, 404, 404, CODE),
    ("two_factor_backup_codes_renew", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("two_factor_backup_codes_renew", "POST", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_change", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_change", "POST", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("profile", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("profile", "POST", LOGIN, 200, 200, 200, 200, 200, 200, 200, CODE),
    # The owner's token: revoking another person's token changes nothing and says the same.
    ("profile_contact", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("profile_contact", "POST", LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE,
     PROFILE, CODE),
    ("api_token_revoke", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("api_token_revoke", "POST", LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE,
     PROFILE, CODE),
    ("password_reset", "GET", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset", "POST", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset_done", "GET", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset_done", "POST", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("password_reset_confirm", "GET", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset_confirm", "POST", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset_complete", "GET", 200, 200, 200, 200, 200, 200, 200, 200, CODE),
    ("password_reset_complete", "POST", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("passkey_remove", "GET", LOGIN, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("passkey_remove", "POST", LOGIN, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE, PROFILE,
     PROFILE, CODE),
    # Passkey ceremonies (JSON). The test client's host is not PORTAL_BASE_URL's, so every
    # ceremony is refused there (403, GET too: the library checks before the method); adding a
    # passkey is not open before the code step.
    ("otp_webauthn:credential-registration-begin", "GET", *[403] * 8, CODE),
    ("otp_webauthn:credential-registration-begin", "POST", 403, 403, 403, 403, 403, 403, 403,
     403, CODE),
    ("otp_webauthn:credential-registration-complete", "GET", *[403] * 8, CODE),
    ("otp_webauthn:credential-registration-complete", "POST", 403, 403, 403, 403, 403, 403, 403,
     403, CODE),
    ("otp_webauthn:credential-authentication-begin", "GET", *[403] * 9),
    ("otp_webauthn:credential-authentication-begin", "POST", *[403] * 9),
    ("otp_webauthn:credential-authentication-complete", "GET", *[403] * 9),
    ("otp_webauthn:credential-authentication-complete", "POST", *[403] * 9),
    ("otp_webauthn:js-i18n-catalog", "GET", *[200] * 9),
    ("otp_webauthn:js-i18n-catalog", "POST", *[405] * 9),
    # --- the installable portal: public, nothing personal ---------------------------------------
    ("web_app_manifest", "GET", *[200] * 9),
    ("web_app_manifest", "POST", *[405] * 9),
    ("service_worker", "GET", *[200] * 9),
    ("service_worker", "POST", *[405] * 9),
    ("offline", "GET", *[200] * 9),
    ("offline", "POST", *[405] * 9),
    # --- the officeholder's pages (on the owner's submitted incident) ---------------------------
    # The share target takes a file without a session; an empty POST goes to the quick report.
    ("incidents:share", "GET", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    ("incidents:share", "POST", *[Redirect("incidents:quick")] * 8, CODE),
    ("incidents:share_discard", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:share_discard", "POST", LOGIN, Redirect("incidents:quick"),
     Redirect("incidents:quick"), 404, 404, 404, 404, 404, CODE),
    ("incidents:list", "GET", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:list", "POST", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:quick", "GET", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:quick", "POST", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:new", "GET", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:new", "POST", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:detail", "GET", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:detail", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:confirmation", "GET", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:confirmation", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:complete", "GET", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:complete", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:follow_up", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:follow_up", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:message", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:message", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:withdraw", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:withdraw", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    # Asking a security advice: an empty form goes back to the page with a message.
    ("incidents:security_advice", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:security_advice", "POST", LOGIN, 302, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:police_summary", "GET", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    ("incidents:police_summary", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    # Consent for the desk's police summary: an empty POST chooses nothing and goes back to
    # the incident with a message.
    ("incidents:summary_consent", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:summary_consent", "POST", LOGIN, 302, 404, 404, 404, 404, 404, 404, CODE),
    # The aangifte track: the owner only (their desk updates it on the desk's own page).
    ("incidents:aangifte", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:aangifte", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    # Own data: every officeholder exports their own; only the owner deletes (a withdrawn one;
    # an empty POST lacks the confirmation and shows the incident again).
    ("incidents:export", "GET", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:export", "POST", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:export_json", "GET", LOGIN, 200, 200, 404, 404, 404, 404, 404, CODE),
    ("incidents:export_json", "POST", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:delete", "GET", LOGIN, 405, 405, 404, 404, 404, 404, 404, CODE),
    ("incidents:delete", "POST", LOGIN, 200, 404, 404, 404, 404, 404, 404, CODE),
    # Evidence is served to whoever may see the incident: the owner and the owner's desk.
    ("incidents:evidence_download", "GET", LOGIN, 200, 404, 200, 404, 404, 404, 404, CODE),
    ("incidents:evidence_download", "POST", 405, 405, 405, 405, 405, 405, 405, 405, CODE),
    # --- the desk's pages (on the owner's submitted incident) -----------------------------------
    ("desk:queue", "GET", LOGIN, 404, 404, 200, 200, 404, 404, 404, CODE),
    ("desk:queue", "POST", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:overview", "GET", LOGIN, 404, 404, 200, 200, 404, 404, 404, CODE),
    ("desk:overview", "POST", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    # The statistics (aggregates only): the desks (their own organisations), the
    # Ondersteuningsteam and the analyst (national); nobody else.
    ("statistics", "GET", LOGIN, 404, 404, 200, 200, 200, 404, 200, CODE),
    ("statistics", "POST", LOGIN, 404, 404, 405, 405, 405, 404, 405, CODE),
    ("statistics_csv", "GET", LOGIN, 404, 404, 200, 200, 200, 404, 200, CODE),
    ("statistics_csv", "POST", LOGIN, 404, 404, 405, 405, 405, 404, 405, CODE),
    ("statistics_ods", "GET", LOGIN, 404, 404, 200, 200, 200, 404, 200, CODE),
    ("statistics_ods", "POST", LOGIN, 404, 404, 405, 405, 405, 404, 405, CODE),
    ("desk:export", "GET", LOGIN, 404, 404, 200, 200, 404, 404, 404, CODE),
    ("desk:export", "POST", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:file", "GET", LOGIN, 404, 404, 200, 200, 404, 404, 404, CODE),
    ("desk:file", "POST", LOGIN, 404, 404, 200, 200, 404, 404, 404, CODE),
    ("desk:detail", "GET", LOGIN, 404, 404, 200, 404, 404, 404, 404, CODE),
    ("desk:detail", "POST", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    # The incident page as a PDF: exactly who may open the page.
    ("desk:case_file", "GET", LOGIN, 404, 404, 200, 404, 404, 404, 404, CODE),
    ("desk:case_file", "POST", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    # The police summary for an aangifte by the employer: only with the officeholder's consent,
    # which nobody gave in this world (with consent: tests/incidents/test_police_summary.py).
    ("desk:police_summary", "GET", LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("desk:police_summary", "POST", LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE),
    # Taking back needs an offer to the own desk: the world's incidents were never moved.
    ("desk:take_back", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:take_back", "POST", LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE),
    # Saved views and bulk actions: an empty POST is refused with the queue and its message.
    ("desk:saved_view_save", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:saved_view_save", "POST", LOGIN, 404, 404, 400, 400, 404, 404, 404, CODE),
    ("desk:saved_view_delete", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:saved_view_delete", "POST", LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("desk:bulk", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:bulk", "POST", LOGIN, 404, 404, 400, 400, 404, 404, 404, CODE),
    # Absence cover: the person's own setting; an empty form comes back with its errors.
    ("desk:absence", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
    ("desk:absence", "POST", LOGIN, 404, 404, 400, 400, 404, 404, 404, CODE),
    *[
        row
        for step in ("take", "assign", "triage", "close", "reopen", "escalate", "note",
                     "message", "staff_message", "link", "duplicate", "set_callback",
                     "clear_callback", "phone_call", "aangifte")
        for row in (
            (f"desk:{step}", "GET", LOGIN, 404, 404, 405, 405, 404, 404, 404, CODE),
            (f"desk:{step}", "POST", LOGIN, 404, 404, 200, 404, 404, 404, 404, CODE),
        )
    ],
    # --- the Ondersteuningsteam's pages (on the owner's case in progress) -----------------------
    ("support:inbox", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:inbox", "POST", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    # "Same perpetrator" signals across desks: the team's alone.
    ("support:signals", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:signals", "POST", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    ("support:agenda", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:agenda", "POST", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    # Absence cover (as the desk's): an empty form comes back with its errors.
    ("support:absence", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:absence", "POST", LOGIN, 404, 404, 404, 404, 400, 404, 404, CODE),
    ("support:saved_view_save", "GET", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    ("support:saved_view_save", "POST", LOGIN, 404, 404, 404, 404, 400, 404, 404, CODE),
    ("support:saved_view_delete", "GET", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    ("support:saved_view_delete", "POST", LOGIN, 404, 404, 404, 404, 404, 404, 404, CODE),
    ("support:case", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:case", "POST", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    # The case page as a PDF: exactly who may open the page.
    ("support:case_file", "GET", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
    ("support:case_file", "POST", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
    *[
        row
        for step in ("acknowledge", "start", "assign", "action_add", "action_update",
                     "message_officeholder", "message_desk", "note", "return", "close")
        for row in (
            (f"support:{step}", "GET", LOGIN, 404, 404, 404, 404, 405, 404, 404, CODE),
            (f"support:{step}", "POST", LOGIN, 404, 404, 404, 404, 200, 404, 404, CODE),
        )
    ],
    # --- the API (on the owner's escalated incident and case in progress) -----------------------
    # Tokens: anonymous 401; out of scope 404 like a missing object (before the body is
    # read); adding what the role may not add 403; an empty body 400 once in scope; a
    # password-only staff session 403.
    ("api:incident-list", "GET", 401, 200, 200, 200, 200, 200, 200, 200, 403),
    ("api:incident-list", "POST", 401, 400, 400, 400, 400, 400, 400, 400, 403),
    ("api:incident-detail", "GET", 401, 200, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-detail", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-assign", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-assign", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-duplicate", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-duplicate", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-escalate", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-escalate", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-evidence", "GET", 401, 200, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-evidence", "POST", 401, 400, 404, 400, 404, 403, 404, 404, 403),
    ("api:incident-evidence-download", "GET", 401, 200, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-evidence-download", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-follow-ups", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-follow-ups", "POST", 401, 400, 404, 400, 404, 403, 404, 404, 403),
    ("api:incident-links", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-links", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-messages", "GET", 401, 200, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-messages", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-notes", "GET", 401, 403, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-notes", "POST", 401, 403, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-timeline", "GET", 401, 200, 404, 200, 404, 200, 404, 404, 403),
    ("api:incident-timeline", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-transitions", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-transitions", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    ("api:incident-triage", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:incident-triage", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
    # One endpoint per workflow action: an empty body lacks the version (400) once in scope.
    *[
        row
        for step in ("take", "assign", "triage", "escalate", "close", "mark_duplicate",
                     "reopen", "withdraw", "link", "set_callback", "clear_callback",
                     "request_security_advice")
        for row in (
            (f"api:incident-action-{step}", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
            (f"api:incident-action-{step}", "POST", 401, 400, 404, 400, 404, 400, 404, 404, 403),
        )
    ],
    ("api:support-case-list", "GET", 401, 200, 200, 200, 200, 200, 200, 200, 403),
    ("api:support-case-list", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:support-case-detail", "GET", 401, 404, 404, 404, 404, 200, 404, 404, 403),
    ("api:support-case-detail", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:support-case-actions", "GET", 401, 404, 404, 404, 404, 200, 404, 404, 403),
    ("api:support-case-actions", "POST", 401, 404, 404, 404, 404, 400, 404, 404, 403),
    ("api:support-case-assign", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:support-case-assign", "POST", 401, 404, 404, 404, 404, 400, 404, 404, 403),
    ("api:support-case-transitions", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:support-case-transitions", "POST", 401, 404, 404, 404, 404, 400, 404, 404, 403),
    ("api:support-case-update-action", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:support-case-update-action", "POST", 401, 404, 404, 404, 404, 400, 404, 404, 403),
    *[
        row
        for step in ("acknowledge", "start", "assign_handler", "add_action", "return_to_desk",
                     "close_case")
        for row in (
            (f"api:support-case-action-{step}", "GET", 401, 405, 405, 405, 405, 405, 405, 405,
             403),
            (f"api:support-case-action-{step}", "POST", 401, 404, 404, 404, 404, 400, 404, 404,
             403),
        )
    ],
    ("api:statistics", "GET", 401, 404, 404, 200, 200, 200, 404, 200, 403),
    ("api:statistics", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:notification-list", "GET", 401, 200, 200, 200, 200, 200, 200, 200, 403),
    ("api:notification-list", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:notification-read", "GET", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:notification-read", "POST", 401, 200, 404, 404, 404, 404, 404, 404, 403),
    # Schema and docs need a login in production (API_DOCS_PUBLIC opens them); a browser that
    # is not logged in is sent from the docs to the login page.
    ("api:schema", "GET", 401, 200, 200, 200, 200, 200, 200, 200, 403),
    ("api:schema", "POST", 401, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:docs", "GET", LOGIN, 200, 200, 200, 200, 200, 200, 200, 403),
    ("api:docs", "POST", LOGIN, 405, 405, 405, 405, 405, 405, 405, 403),
    ("api:not-found", "GET", 404, 404, 404, 404, 404, 404, 404, 404, 403),
    ("api:not-found", "POST", 404, 404, 404, 404, 404, 404, 404, 404, 403),
]
# fmt: on


def _all_url_names() -> dict[str, set[str]]:
    """Every named URL of portal.urls (namespaced) with its parameters; admin's own left out."""
    found: dict[str, set[str]] = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":  # the one exclusion: Django admin internals
                    continue
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                walk(pattern.url_patterns, inner)
                continue
            assert pattern.name, f"URL pattern {pattern.pattern} has no name"
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            # DRF's format-suffix twin (".json") shares the name and the view.
            params = set(pattern.pattern.regex.groupindex) - {"format"}
            found.setdefault(name, params)

    walk(get_resolver("portal.urls").url_patterns, "")
    return found


def _url(world, name: str, params: set[str]) -> str:
    """The URL of `name` on the real object of the world that this matrix uses for it."""
    if name == "api:not-found":
        return "/api/geen-bestaand-adres/"  # a catch-all pattern, not reversible
    if not params:
        return reverse(name)
    incidents, kwargs = world.incidents, {}
    if name in ("notification_open", "api:notification-read"):
        kwargs["pk"] = world.notifications["owner"].pk
    elif name == "api_token_revoke":
        kwargs["pk"] = ApiToken.objects.filter(user=world.users["owner"]).first().pk
    elif name in (
        "passkey_remove",
        "desk:saved_view_delete",
        "support:saved_view_delete",
        "replies:edit",
        "replies:deactivate",
    ):
        kwargs["pk"] = 999_999  # nobody's: nothing is removed, nothing is told
    elif name == "password_reset_confirm":
        kwargs = {"uidb64": "MQ", "token": "geen-geldig-token"}
    elif name == "sso_start":
        kwargs["pk"] = 999_999  # no such provider
    elif name in (
        "desk_mailbox_confirm",
        "invitation_accept",
        "invitation_renewal_request",
        "invitation_sso",
    ):
        kwargs = {"token": "geen-geldig-token"}
    elif name.startswith("manage:"):
        kwargs["pk"] = world.users["owner"].pk
    elif name.startswith(("incidents:", "desk:")):
        kwargs["reference"] = incidents["submitted"].reference
        if "pk" in params:
            kwargs["pk"] = world.evidence["submitted"].pk
    elif name.startswith(("support:", "api:support-case")):
        kwargs["reference"] = incidents["in_progress"].reference
        if "pk" in params:
            kwargs["pk"] = world.actions["in_progress"].pk
        if "action_id" in params:
            kwargs["action_id"] = world.actions["in_progress"].pk
    elif name.startswith("api:incident"):
        kwargs["reference"] = incidents["escalated"].reference
        if "pk" in params:
            kwargs["pk"] = world.evidence["escalated"].pk
    assert set(kwargs) == params, f"{name}: no real object chosen for {params - set(kwargs)}"
    return reverse(name, kwargs=kwargs)


def _client(world, role: str, *, api: bool):
    """The role's client: web session (second factor verified) or API token."""
    if role == "staff_without_second_factor":
        client = Client()
        log_in(client, world.users["registrar"], second_factor=False)
        return client
    if api:
        return token_client(world.tokens.get(role))
    client = Client()
    if role != "anonymous":
        log_in(client, world.users[role])
    return client


def _outcome(response, expected):
    """The response in the table's terms: a status, or a Redirect when one was expected."""
    if isinstance(expected, Redirect) and response.status_code == 302:
        target = response["Location"].split("?")[0]
        if target == reverse(expected.url_name):
            return expected
        return f"302→{target}"
    return response.status_code


ROWS = {(name, method): statuses for name, method, *statuses in TABLE}


@pytest.mark.parametrize("name", sorted({name for name, _ in ROWS}))
def test_access_matrix(name, world):
    """Each role gets exactly the status in the table, for GET and for an empty POST."""
    params = _all_url_names().get(name)
    assert params is not None, f"{name} is in the table but not in the URL configuration"
    url = _url(world, name, params)
    api = name.startswith("api:")
    wrong = []
    # One client per role for both methods (GET first, so a logout or a change by the POST
    # cannot colour the GET): logging in is most of this test's time.
    clients = {role: _client(world, role, api=api) for role in ROLES}
    for method in ("GET", "POST"):
        for role, expected in zip(ROLES, ROWS[(name, method)], strict=True):
            client = clients[role]
            response = client.get(url) if method == "GET" else client.post(url, {})
            got = _outcome(response, expected)
            if got != expected:
                wrong.append(f"{method} {url} as {role}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_every_url_has_rows():
    """A URL without a GET and a POST row fails here: write down who may open it first."""
    missing = [
        f"{name} {method}"
        for name in sorted(_all_url_names())
        for method in ("GET", "POST")
        if (name, method) not in ROWS
    ]
    assert not missing, (
        "These URLs have no row in tests/security/test_access_matrix.py TABLE; add the "
        "expected status per role:\n" + "\n".join(missing)
    )
    assert len(TABLE) == len(ROWS), "a (URL name, method) appears twice in TABLE"
