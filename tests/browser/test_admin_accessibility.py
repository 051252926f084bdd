"""Every Django admin page the functional administrator reaches passes axe (WCAG 2.1 A/AA) at
desktop width and at 320 px, like the portal (issue 22).

The page list comes from the admin registry and the administrator's permissions, not from
following links: the admin index and each app's index, each changelist they may view, one
change page per model (an object of every model is made first), the add pages they may use,
the delete pages of what they may delete (a lost phone's app or passkey, a lockout) and the
organisation import. Desk coordinators are registrars: the admin site answers them 404
(`portal.access.user_may_use_admin_site`), which the last test checks.
"""

import secrets
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Page, expect

from incidents.models import AangifteStepText, MonitorFigure, StandardReply
from portal.constants import OfficeholderFunction, Role
from portal.models import (
    AccessAction,
    AccessLogEntry,
    ExternalIdentity,
    IdentityProvider,
    OutboxEntry,
    PersonChange,
    SecurityAdviceEligibility,
    TotpDevice,
    WorkerHeartbeat,
)
from portal.selectors import site_configuration_get
from support.constants import ActionStatus, RuleCode, ServiceType
from support.models import EscalationRule
from tests.browser.fixtures import assert_accessible, expect_console_error, login
from tests.factories import (
    TEST_PASSWORD,
    EscalationFactory,
    OrganisationFactory,
    UserFactory,
    case_open,
)

pytestmark = pytest.mark.browser


def _one_of_every_model(administrator) -> None:
    """At least one object of every model in the admin, so that each has a change page."""
    now = timezone.now()
    organisation = OrganisationFactory()
    registrar = UserFactory(registrar=True, desk=organisation.desk, is_coordinator=True)
    TotpDevice.objects.create(user=registrar, name="Authenticator-app", confirmed=True)
    # The browser tests' database is emptied between tests, so the seeded rows are gone.
    MonitorFigure.objects.get_or_create(
        edition=2020,
        measure="met_aggression",
        defaults={"percent": 35, "source": "Monitor Integriteit en Veiligheid 2020"},
    )
    WebAuthnCredential.objects.create(
        user=registrar,
        name="Telefoon",
        confirmed=True,
        credential_id=secrets.token_bytes(32),
        public_key=secrets.token_bytes(64),
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    PersonChange.objects.create(
        person=registrar, actor=administrator, at=now, field="role", new_value=Role.REGISTRAR
    )
    case = case_open(EscalationFactory(incident__officeholder__organisation=organisation))
    case.actions.create(
        service_type=ServiceType.LEGAL_HELP,
        status=ActionStatus.PLANNED,
        owner=UserFactory(support=True),
        created_at=now,
        updated_at=now,
    )
    provider = IdentityProvider.objects.create(
        name="Gemeente Utrecht",
        desk=registrar.desk,
        issuer="https://login.example.nl",
        client_id="meldpunt",
        client_secret="geheim",
    )
    ExternalIdentity.objects.create(
        person=registrar,
        provider=provider,
        issuer=provider.issuer,
        subject="obj-1",
        linked_at=now,
        linked_by=administrator,
    )
    site_configuration_get()
    # Seeded by a migration, gone after a transactional test's flush.
    AangifteStepText.objects.get_or_create(step="filed", defaults={"text_nl": "Schrijf het op."})
    WorkerHeartbeat.objects.create(name="celery@worker", last_seen_at=now)
    # Seeded by a migration, which a live-server test's database no longer has.
    SecurityAdviceEligibility.objects.get_or_create(
        function=OfficeholderFunction.GEZAGHEBBER, defaults={"may_request": True}
    )
    AccessLogEntry.objects.create(
        actor=registrar,
        role=Role.REGISTRAR,
        desk=registrar.desk,
        at=now,
        ip_address="127.0.0.1",
        action=AccessAction.VIEW_INCIDENT,
        reference=case.incident.reference,
        organisation=organisation,
        what="detailpagina",
    )
    OutboxEntry.objects.get_or_create(
        topic="incident.event",
        object_id=1,
        consumer="test",
        defaults={"kind": "submitted", "created_at": now, "next_attempt_at": now},
    )
    attempt = {
        "user_agent": "Mozilla/5.0",
        "ip_address": "192.0.2.1",
        "username": registrar.username,
        "http_accept": "text/html",
        "path_info": "/account/inloggen/",
    }
    AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=3)
    AccessFailureLog.objects.create(**attempt, locked_out=False)
    AccessLog.objects.create(**attempt, logout_time=now + timedelta(hours=1))
    # The migrations make the rules, but a transactional test before this one empties the table.
    for code in RuleCode:
        EscalationRule.objects.get_or_create(code=code)
    StandardReply.objects.create(
        title="Melding ontvangen",
        text_nl="Wij hebben uw melding ontvangen.",
        text_en="We have received your report.",
    )


def _admin_pages(administrator) -> list[str]:
    """The admin pages the administrator may open, from the registry and their permissions."""
    request = RequestFactory().get("/beheer/")
    request.user = administrator
    pages = [reverse("admin:index")]
    app_labels = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        if not model_admin.has_view_or_change_permission(request):
            continue
        if opts.app_label not in app_labels:
            app_labels.append(opts.app_label)
            pages.append(reverse("admin:app_list", args=[opts.app_label]))
        pages.append(reverse(f"{name}_changelist"))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"{name}_add"))
        obj = model_admin.get_queryset(request).order_by("pk").first()
        assert obj is not None, f"no {opts.label} to open: make one in _one_of_every_model"
        if model_admin.has_view_or_change_permission(request, obj):
            pages.append(reverse(f"{name}_change", args=[obj.pk]))
        if model_admin.has_delete_permission(request, obj):
            pages.append(reverse(f"{name}_delete", args=[obj.pk]))
    pages.append(reverse("admin:portal_organisation_import"))
    return pages


def test_every_admin_page_of_the_administrator_is_accessible(page: Page):
    administrator = UserFactory(admin=True)
    _one_of_every_model(administrator)
    pages = _admin_pages(administrator)
    # Nothing of the operator's own (groups, the beat schedule) is in the list.
    assert not [path for path in pages if "/auth/" in path or "django_celery_beat" in path]
    assert any("/support/escalationrule/" in path for path in pages)

    login(page, administrator.username, TEST_PASSWORD)
    failures = []
    for path in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        expect(page.locator("h1")).to_have_count(1)
        try:
            assert_accessible(page, read_imported_css=False)
        except AssertionError as failure:
            failures.append(str(failure))
    assert not failures, "\n\n".join(failures)


def test_desk_coordinators_do_not_reach_the_admin(page: Page):
    """Coordinators work in the portal's desk pages; the admin answers them 404."""
    coordinator = UserFactory(registrar=True, is_coordinator=True, is_staff=True)
    request = RequestFactory().get("/beheer/")
    request.user = coordinator
    coordinator.is_verified = lambda: True  # even with their code entered (django-otp)
    assert not admin.site.has_permission(request)
    login(page, coordinator.username, TEST_PASSWORD)
    expect_console_error(page, "status of 404")
    response = page.goto(reverse("admin:index"))
    assert response is not None and response.status == 404
