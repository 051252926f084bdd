from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedCharField, EncryptedTextField
from support.constants import ActionStatus, CaseStatus, RuleCode, SecurityAdviceStep, ServiceType


class EscalationRule(models.Model):
    """One of the escalation rules; switchable and tunable by the functional administrator."""

    code = models.CharField(_("regel"), max_length=30, choices=RuleCode.choices, unique=True)
    enabled = models.BooleanField(_("aan"), default=True)
    threshold = models.PositiveIntegerField(
        _("drempel"),
        null=True,
        blank=True,
        help_text=_("Alleen voor regels met een aantal, zoals '3 incidenten in 30 dagen'."),
    )
    window_days = models.PositiveIntegerField(
        _("periode in dagen"),
        null=True,
        blank=True,
        help_text=_("Alleen voor regels met een periode."),
    )

    class Meta:
        verbose_name = _("doorverwijsregel")
        verbose_name_plural = _("doorverwijsregels")
        ordering = ["pk"]

    def __str__(self):
        return self.get_code_display()


class SupportCase(models.Model):
    """The Ondersteuningsteam's work on one escalation."""

    escalation = models.OneToOneField(
        "incidents.Escalation", on_delete=models.CASCADE, related_name="support_case"
    )
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="support_cases"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    version = models.PositiveIntegerField(default=1)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("casemanager"),
        related_name="support_cases",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField()
    acknowledge_due_at = models.DateTimeField(_("bevestigen vóór"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(_("uitkomst"), blank=True)

    class Meta:
        verbose_name = _("ondersteuningsdossier")
        verbose_name_plural = _("ondersteuningsdossiers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="case_status_created"),
            models.Index(fields=["status", "acknowledge_due_at"], name="case_status_ack_due"),
        ]

    def __str__(self):
        return f"{self.incident_id} ({self.get_status_display()})"


class SupportAction(models.Model):
    """One step of the support plan: a service, an owner, a due date and a status."""

    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="actions")
    # Encrypted: the kind of help says what happened ("trauma care"). Nothing filters on it;
    # the counts per kind are in incidents.FactCount.
    service_type = EncryptedCharField(
        _("soort hulp"), max_length=30, choices=ServiceType.choices, reads_plaintext=True
    )
    # Whether this action is in incidents.FactCount: True from the start for a new action;
    # older ones are encrypted and counted by `manage.py encrypt_support_facts`.
    facts_counted = models.BooleanField(default=False, editable=False)
    description = EncryptedTextField(_("omschrijving"), blank=True)
    # Empty only for an action the portal planned itself (an officeholder's request for a
    # security advice before anyone at the team took the case): the team picks an owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("eigenaar"),
        related_name="support_actions",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    # Where a security advice stands (only for that kind; encrypted like the kind, since a
    # step says which kind it is).
    step = EncryptedCharField(
        _("stap"), max_length=30, choices=SecurityAdviceStep.choices, blank=True, default=""
    )
    # The officeholder's request this action answers (`security_advice_requested` event):
    # one action per request, and the officeholder follows this action on their own page.
    request_event = models.OneToOneField(
        "incidents.Event",
        verbose_name=_("aanvraag van de ambtsdrager"),
        related_name="support_action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
    )
    due_on = models.DateField(_("klaar op"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    shared_with_desk = models.BooleanField(
        _("zichtbaar voor het meldpunt"),
        default=False,
        help_text=_("Het meldpunt ziet alleen acties waar dit is aangevinkt."),
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ondersteuningsactie")
        verbose_name_plural = _("ondersteuningsacties")
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.get_service_type_display()
