"""Every read of an incident's personal data is logged: who, as what, when, from where, what.

The officeholder sees on their incident page which teams (a desk by name, or the
Ondersteuningsteam) looked at it and when, never which person. Admins search the log in the
Django admin, where nobody can add, change or delete an entry.
"""

import pytest
from django.urls import reverse

from portal.constants import Role
from portal.models import AccessAction, AccessLogEntry
from tests.security.conftest import log_in

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"


def _only_entry(**filters) -> AccessLogEntry:
    entries = list(AccessLogEntry.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


def test_desk_detail_page_is_logged_with_actor_role_desk_ip_and_what(world, client):
    """The registrar's visit: actor, role, desk, time, IP, reference, organisation, what."""
    incident, registrar = world.incidents["submitted"], world.users["registrar"]
    log_in(client, registrar)
    response = client.get(reverse("desk:detail", args=[incident.reference]), REMOTE_ADDR=IP)
    assert response.status_code == 200
    entry = _only_entry(actor=registrar)
    assert entry.role == Role.REGISTRAR
    assert entry.desk_id == registrar.desk_id
    assert entry.ip_address == IP
    assert entry.action == AccessAction.VIEW_INCIDENT
    assert entry.reference == incident.reference
    assert entry.organisation_id == incident.organisation_id
    assert entry.what == "detail page"
    assert entry.at is not None


@pytest.mark.parametrize(
    ("role", "url_name", "target", "action", "what"),
    [
        ("owner", "incidents:detail", "submitted", AccessAction.VIEW_INCIDENT, "detail page"),
        (
            "owner",
            "incidents:police_summary",
            "submitted",
            AccessAction.VIEW_INCIDENT,
            "police summary choices",
        ),
        ("support", "support:case", "escalated", AccessAction.VIEW_INCIDENT, "case page"),
        (
            "registrar",
            "desk:case_file",
            "submitted",
            AccessAction.PRINT_CASE_FILE,
            "case file PDF (desk)",
        ),
        (
            "support",
            "support:case_file",
            "escalated",
            AccessAction.PRINT_CASE_FILE,
            "case file PDF (support)",
        ),
    ],
)
def test_web_pages_with_incident_details_are_logged(
    world, client, role, url_name, target, action, what
):
    """The officeholder's own pages, the support case page and both case file PDFs leave one
    entry each."""
    incident = world.incidents[target]
    log_in(client, world.users[role])
    assert client.get(reverse(url_name, args=[incident.reference])).status_code == 200
    entry = _only_entry(actor=world.users[role])
    assert (entry.action, entry.what, entry.reference) == (action, what, incident.reference)


@pytest.mark.parametrize("role", ["owner", "registrar"])
def test_web_evidence_download_is_logged(world, client, role):
    """A download names the evidence file by id, never by its (personal) file name."""
    evidence = world.evidence["submitted"]
    log_in(client, world.users[role])
    assert client.get(evidence.get_absolute_url()).status_code == 200
    entry = _only_entry(actor=world.users[role])
    assert entry.action == AccessAction.DOWNLOAD_EVIDENCE
    assert entry.what == f"evidence {evidence.pk}"
    assert entry.reference == world.incidents["submitted"].reference


def test_desk_export_is_logged(world, client):
    """The CSV export of the queue is an export entry of the registrar."""
    log_in(client, world.users["registrar"])
    response = client.get(reverse("desk:export"))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = _only_entry(actor=world.users["registrar"])
    assert entry.action == AccessAction.EXPORT


@pytest.mark.parametrize(
    ("url_name", "what"),
    [
        ("api:incident-detail", "detail"),
        ("api:incident-timeline", "timeline"),
        ("api:incident-messages", "messages"),
        ("api:incident-notes", "notes"),
        ("api:incident-evidence", "evidence list"),
    ],
)
def test_api_reads_are_logged(world, api_client_for, url_name, what):
    """Each API read of an incident's personal data leaves one api_read entry."""
    incident = world.incidents["escalated"]
    response = api_client_for("registrar").get(
        reverse(url_name, args=[incident.reference]), REMOTE_ADDR=IP
    )
    assert response.status_code == 200
    entry = _only_entry(actor=world.users["registrar"])
    assert (entry.action, entry.what, entry.ip_address) == (AccessAction.API_READ, what, IP)
    assert entry.reference == incident.reference


def test_api_evidence_download_and_support_case_are_logged(world, api_client_for):
    """The API's evidence download and support case read are logged too."""
    evidence, case = world.evidence["escalated"], world.cases["new"]
    client = api_client_for("support")
    url = reverse("api:incident-evidence-download", args=[evidence.incident.reference, evidence.pk])
    assert client.get(url).status_code == 200
    case_url = reverse("api:support-case-detail", args=[case.incident.reference])
    assert client.get(case_url).status_code == 200
    actions = sorted(
        AccessLogEntry.objects.filter(actor=world.users["support"]).values_list("action", "what")
    )
    assert actions == [
        (AccessAction.API_READ, "support case"),
        (AccessAction.DOWNLOAD_EVIDENCE, f"evidence {evidence.pk}"),
    ]


def test_refused_reads_leave_no_entry(world, client, api_client_for):
    """Out of scope (404) is no read: another desk sees nothing, and nothing is logged."""
    incident = world.incidents["submitted"]
    log_in(client, world.users["other_registrar"])
    assert client.get(reverse("desk:detail", args=[incident.reference])).status_code == 404
    response = api_client_for("other_officeholder").get(
        reverse("api:incident-detail", args=[incident.reference])
    )
    assert response.status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_officeholder_sees_which_teams_looked_and_when_but_not_who(world, client):
    """The incident page lists the desk by name and the support team, never a person."""
    incident = world.incidents["escalated"]
    registrar, support = world.users["registrar"], world.users["support"]
    registrar.first_name, registrar.last_name = "Rianne", "Registrator"
    registrar.save()
    for user, url in (
        (registrar, reverse("desk:detail", args=[incident.reference])),
        (registrar, reverse("desk:detail", args=[incident.reference])),
        (support, reverse("support:case", args=[incident.reference])),
    ):
        log_in(client, user)
        assert client.get(url).status_code == 200
    log_in(client, world.users["owner"])
    page = client.get(incident.get_absolute_url()).content.decode()
    history = page.split('id="access-history-heading"')[1].split("</section>")[0]
    assert registrar.desk.name in history
    assert str(Role.SUPPORT.label) in history
    assert "Rianne" not in history and registrar.username not in history
    assert support.username not in history
    assert history.count("<li") == 2  # one line per team today, however often it looked


def test_officeholder_sees_a_plain_line_when_no_team_looked(world, client):
    """Before any staff visit, the page says so; the officeholder's own visits do not count."""
    log_in(client, world.users["owner"])
    incident = world.incidents["submitted"]
    client.get(incident.get_absolute_url())
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Nog niemand van het meldpunt of het Ondersteuningsteam" in page


def test_admin_searches_the_log_but_cannot_add_change_or_delete(world, client):
    """The admin list finds entries by username, reference and IP; it offers no writes."""
    incident = world.incidents["submitted"]
    log_in(client, world.users["registrar"])
    client.get(reverse("desk:detail", args=[incident.reference]), REMOTE_ADDR=IP)
    entry = AccessLogEntry.objects.get()
    log_in(client, world.users["admin"])
    changelist = reverse("admin:portal_accesslogentry_changelist")
    for query in (world.users["registrar"].username, incident.reference, IP):
        response = client.get(changelist, {"q": query})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, query
    assert client.get(changelist, {"q": "nobody-at-all"}).context["cl"].result_count == 0
    assert client.get(changelist, {"role__exact": Role.REGISTRAR}).status_code == 200
    assert client.get(changelist, {"action__exact": AccessAction.VIEW_INCIDENT}).status_code == 200
    assert client.get(reverse("admin:portal_accesslogentry_add")).status_code == 403
    delete = reverse("admin:portal_accesslogentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:portal_accesslogentry_change", args=[entry.pk])
    client.post(change, {"what": "changed", "reference": "X"})
    entry.refresh_from_db()
    assert (entry.what, entry.reference) == ("detail page", incident.reference)
