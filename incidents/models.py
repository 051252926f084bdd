import uuid
from calendar import monthrange

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import LazyObject
from django.utils.translation import gettext_lazy as _

from incidents.aangifte import AangifteTrack, track_lines
from incidents.actions import OPEN, URGENCY_SOURCES, urgency_rank
from incidents.constants import (
    OUTCOME_EXPLANATIONS,
    AangifteStep,
    Advice,
    AffectedPerson,
    CallDirection,
    Channel,
    EscalationRuleCode,
    EventKind,
    EvidenceFailure,
    EvidenceKind,
    EvidenceProcessing,
    FactKind,
    IdentifierKind,
    Impact,
    IncidentType,
    LinkKind,
    MessageAudience,
    MonitorMeasure,
    OutcomeCategory,
    PerpetratorKind,
    PerpetratorKnown,
    PerpetratorRelation,
    ReporterSeverity,
    RiskFlag,
    SavedViewWorkspace,
    Status,
    SupportWish,
    TriageSeverity,
)
from portal.crypto import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedTextField,
    FactTokensField,
    fact_tokens,
)


class AangifteTokensField(FactTokensField):
    """The keyed tokens of the steps the aangifte track (`source`, a stored track) reached."""

    def pre_save(self, model_instance, add):
        steps = AangifteTrack.from_stored(getattr(model_instance, self.source)).steps()
        value = fact_tokens(self.fact_kind, steps)
        setattr(model_instance, self.attname, value)
        return value


class PrivateStorage(LazyObject):
    """Evidence storage, encrypted, outside any URL-served place; files leave only via an
    access check.

    Django's storage alias `evidence` (STORAGES in portal/settings.py, EVIDENCE_STORAGE):
    encrypted files in PRIVATE_STORAGE_ROOT, or encrypted objects in an S3-compatible
    bucket. Built anew after a reset (tests move PRIVATE_STORAGE_ROOT or the bucket).
    """

    def _setup(self):
        self._wrapped = storages.create_storage(settings.STORAGES["evidence"])


private_storage = PrivateStorage()


def private_storage_get():
    # A callable keeps the storage (and its path) out of migrations.
    return private_storage


class ReferenceSequence(models.Model):
    """The last reference number handed out per year (MWB-2026-000123)."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class Incident(models.Model):
    """A report (melding) of aggression or intimidation against an officeholder.

    Multi-valued facts (types, impacts, ...) are JSON lists of choice codes, always read with
    the incident. The sensitive facts (types, impacts, affected people, risk flags, advice and
    the police details) are encrypted; types and risk flags also keep one keyed token per
    code (`type_tokens`, `risk_flag_tokens`), which is what the queue filters on. Counts of
    facts come from `FactCount`, never from these columns (docs/architecture.md, "Facts at
    rest").
    """

    reference = models.CharField(_("kenmerk"), max_length=20, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    # Every change bumps the version; forms send back the version they showed (stale check).
    version = models.PositiveIntegerField(default=1)
    officeholder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ambtsdrager"),
        related_name="incidents",
        on_delete=models.PROTECT,
        null=True,
    )
    organisation = models.ForeignKey(
        "portal.Organisation",
        verbose_name=_("organisatie"),
        related_name="incidents",
        on_delete=models.PROTECT,
    )
    desk = models.ForeignKey(
        "portal.Desk",
        verbose_name=_("meldpunt"),
        related_name="incidents",
        on_delete=models.PROTECT,
    )
    # Set while the incident is at another desk because its own desk could not be reached
    # (portal.reachability); `offered_back_at` when that desk was reachable again and was
    # offered to take it back (incidents.services.incident_take_back).
    moved_from_desk = models.ForeignKey(
        "portal.Desk",
        verbose_name=_("doorgestuurd van meldpunt"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    offered_back_at = models.DateTimeField(_("teruggeboden op"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("vastgelegd door"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
    )
    filed_by_desk = models.BooleanField(_("vastgelegd door het meldpunt"), default=False)
    is_quick = models.BooleanField(
        _("snelle melding"),
        default=False,
        help_text=_("Nog niet aangevuld tot een volledige melding."),
    )
    submission_token = models.UUIDField(unique=True, null=True, editable=False)

    # What happened
    types = EncryptedJSONField(_("soort incident"), default=list, reads_plaintext=True)
    type_tokens = FactTokensField(source="types", fact_kind="type")
    occurred_on = models.DateField(_("datum"))
    occurred_at = models.TimeField(_("tijd"), null=True, blank=True)
    summary = EncryptedCharField(_("wat er gebeurde, in één zin"), max_length=300)
    description = EncryptedTextField(_("wat er gebeurde"), blank=True)
    location = EncryptedCharField(_("waar"), max_length=300, blank=True)
    channel = models.CharField(_("hoe"), max_length=30, choices=Channel.choices, blank=True)
    platform = EncryptedCharField(_("platform"), max_length=100, blank=True)
    links = EncryptedTextField(_("links"), blank=True)
    reporter_severity = models.CharField(
        _("hoe ernstig vindt u het"), max_length=20, choices=ReporterSeverity.choices, blank=True
    )
    # The quick report's one question "Voelt u zich onveilig of wilt u gebeld worden?", kept
    # apart from reporter_severity so that statistics never count it as a severity. None: not
    # asked or not answered. Yes makes the report serious (4-hour deadline) and a contact wish.
    unsafe_or_call = models.BooleanField(
        _("voelt zich onveilig of wil gebeld worden"), null=True, blank=True
    )
    # How to reach the officeholder about this incident (optional; shown to desk and support).
    contact_phone = EncryptedCharField(_("telefoonnummer voor contact"), max_length=40, blank=True)
    contact_preference = EncryptedCharField(_("hoe en wanneer contact"), max_length=200, blank=True)

    # Who did it
    perpetrator_known = models.CharField(
        _("dader bekend"), max_length=10, choices=PerpetratorKnown.choices, blank=True
    )
    perpetrator_kind = models.CharField(
        _("soort dader"), max_length=20, choices=PerpetratorKind.choices, blank=True
    )
    perpetrator_relation = models.CharField(
        _("relatie tot u"), max_length=30, choices=PerpetratorRelation.choices, blank=True
    )
    perpetrator_description = EncryptedTextField(_("beschrijving dader"), blank=True)

    # Consequences
    impacts = EncryptedJSONField(_("gevolgen"), default=list, reads_plaintext=True)
    affected_people = EncryptedJSONField(_("ook geraakt"), default=list, reads_plaintext=True)

    # Police and support. The aangifte track (`incidents.aangifte`): one encrypted value, and
    # the keyed tokens of the steps it reached so the queue can show the stage undecrypted.
    aangifte = EncryptedJSONField(_("aangifte"), default=dict)
    aangifte_tokens = AangifteTokensField(source="aangifte", fact_kind="aangifte")
    support_wish = models.CharField(
        _("wat wilt u"), max_length=40, choices=SupportWish.choices, blank=True
    )
    # Since when the officeholder lets the desk make the police summary for an aangifte by the
    # employer (None: no consent). Given and withdrawn by `services.summary_consent_set`, each
    # with an event on the officeholder's timeline; the incident policy reads it.
    summary_consent_at = models.DateTimeField(
        _("toestemming samenvatting voor de politie sinds"), null=True, blank=True
    )

    # Triage by the desk
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("behandelaar"),
        related_name="assigned_incidents",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    triage_severity = models.CharField(
        _("ernst (meldpunt)"), max_length=10, choices=TriageSeverity.choices, blank=True
    )
    risk_flags = EncryptedJSONField(_("risico's"), default=list, reads_plaintext=True)
    risk_flag_tokens = FactTokensField(source="risk_flags", fact_kind="risk_flag")
    advice_given = EncryptedJSONField(_("gegeven advies"), default=list, reads_plaintext=True)
    advice_note = EncryptedTextField(_("toelichting advies"), blank=True)
    triage_due_at = models.DateTimeField(_("beoordelen vóór"))
    triaged_at = models.DateTimeField(_("beoordeeld op"), null=True, blank=True)
    # The queue's order, kept by `save` from the severities and risk flags (`urgency_rank`):
    # 1 acute danger or critical, 2 serious, 3 the rest; within a rank by triage_due_at.
    urgency_rank = models.PositiveSmallIntegerField(_("urgentie"), default=3, editable=False)
    outcome_category = models.CharField(
        _("soort uitkomst"), max_length=20, choices=OutcomeCategory.choices, blank=True
    )
    outcome = EncryptedTextField(_("uitkomst"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("dubbel van"),
        related_name="duplicates",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )

    # Follow-up: "bel terug op ..." (workflow actions set_callback, clear_callback). The
    # watchdog (`services.callbacks_notify_due`) notifies once: it sets
    # `callback_notified_at` with an update that only matches while it is still empty.
    callback_at = models.DateTimeField(_("terugbellen op"), null=True, blank=True)
    callback_note = EncryptedCharField(_("waarover terugbellen"), max_length=200, blank=True)
    callback_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The snapshot for the statistics, taken when the incident is filed: retention unlinks the
    # person and elections change functions, the figures keep what was true then. Plain codes.
    officeholder_function = models.CharField(
        _("functie bij het melden"), max_length=40, blank=True, editable=False
    )
    officeholder_gender = models.CharField(
        _("gender bij het melden"), max_length=10, blank=True, editable=False
    )
    organisation_type = models.CharField(
        _("soort organisatie bij het melden"), max_length=20, blank=True, editable=False
    )

    submitted_at = models.DateTimeField(_("ontvangen op"))
    updated_at = models.DateTimeField(_("laatst gewijzigd"))
    closed_at = models.DateTimeField(_("afgesloten op"), null=True, blank=True)
    # Set by the retention service: free text, evidence and the officeholder are gone.
    anonymised_at = models.DateTimeField(_("geanonimiseerd op"), null=True, blank=True)
    # True once this incident's facts are in FactCount (set by the services when filing, and
    # by `manage.py encrypt_incident_facts` for rows made before): only then do later changes
    # move the counts. Rows written around the services (bulk seeding) start False.
    facts_counted = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("melding")
        verbose_name_plural = _("meldingen")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["desk", "-submitted_at"], name="incident_desk_submitted"),
            models.Index(fields=["desk", "status", "-submitted_at"], name="incident_desk_status"),
            models.Index(fields=["desk", "triage_due_at"], name="incident_desk_due"),
            models.Index(fields=["officeholder", "-submitted_at"], name="incident_officeholder"),
            models.Index(fields=["status", "triage_due_at"], name="incident_status_due"),
            # Everything the desk overview counts (per status, overdue, unassigned) is in this
            # index, so PostgreSQL answers it with an index-only scan instead of reading every
            # row of the desk: 125 -> 20 ms at 100,000 incidents (see `manage.py bench_desk`).
            models.Index(
                fields=["desk", "status", "triage_severity", "triage_due_at", "assignee", "id"],
                name="incident_desk_counts",
            ),
            # The desk's queue in urgency order (`selectors.incident_queue_for`): the open
            # incidents of one desk, read in index order and paged without sorting.
            models.Index(
                fields=["desk", "urgency_rank", "triage_due_at", "id"],
                condition=Q(status__in=sorted(OPEN)),
                name="incident_desk_queue",
            ),
            # The callback watchdog: callbacks not yet notified, by due time.
            models.Index(
                fields=["callback_at"],
                condition=Q(callback_at__isnull=False, callback_notified_at__isnull=True),
                name="incident_callback_due",
            ),
            # What `encrypt_incident_facts` still has to do: empty once every row is counted.
            models.Index(
                fields=["id"], condition=Q(facts_counted=False), name="incident_uncounted"
            ),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, update_fields=None, **kwargs):
        # The tokens and the urgency rank follow their sources, also when only some fields
        # are saved.
        self.urgency_rank = urgency_rank(self)
        if update_fields is not None:
            update_fields = set(update_fields)
            if update_fields & URGENCY_SOURCES:
                update_fields.add("urgency_rank")
            for field in (
                self._meta.get_field("type_tokens"),
                self._meta.get_field("risk_flag_tokens"),
                self._meta.get_field("aangifte_tokens"),
            ):
                if field.source in update_fields:
                    update_fields.add(field.name)
        super().save(*args, update_fields=update_fields, **kwargs)

    def get_absolute_url(self):
        return reverse("incidents:detail", kwargs={"reference": self.reference})

    @property
    def aangifte_track(self) -> AangifteTrack:
        return AangifteTrack.from_stored(self.aangifte)

    def aangifte_lines(self) -> list[str]:
        return track_lines(self.aangifte_track)

    @property
    def aangifte_steps(self) -> list[str]:
        """The steps of the aangifte track reached (what `aangifte_tokens` holds)."""
        return self.aangifte_track.steps()

    def type_labels(self) -> list[str]:
        return _labels(IncidentType, self.types)

    def perpetrator_label(self) -> str:
        """ "Dader onbekend" or "Dader bekend" (empty when not answered). An unknown perpetrator
        may still have an account or number (the identifiers): that does not make them known."""
        if self.perpetrator_known == PerpetratorKnown.UNKNOWN:
            return str(_("Dader onbekend"))
        if self.perpetrator_known == PerpetratorKnown.KNOWN:
            return str(_("Dader bekend"))
        return ""

    def impact_labels(self) -> list[str]:
        return _labels(Impact, self.impacts)

    def affected_people_labels(self) -> list[str]:
        return _labels(AffectedPerson, self.affected_people)

    def risk_flag_labels(self) -> list[str]:
        return _labels(RiskFlag, self.risk_flags)

    def advice_labels(self) -> list[str]:
        return _labels(Advice, self.advice_given)

    def outcome_explanation(self) -> str:
        """The closing category in plain words for the officeholder ("" without one)."""
        return str(OUTCOME_EXPLANATIONS.get(self.outcome_category, ""))

    def retention_ends_at(self):
        """When a closed incident is anonymised (RETENTION_MONTHS after closing), else None."""
        if self.closed_at is None or self.anonymised_at is not None:
            return None
        return months_after(self.closed_at, settings.RETENTION_MONTHS)


def months_after(moment, months: int):
    """The same day and time `months` later (the last day of a shorter month if needed)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def _labels(choices, codes) -> list[str]:
    """Labels of stored choice codes; an unknown code (an old taxonomy) is shown as is."""
    labels = dict(choices.choices)
    return [str(labels.get(code, code)) for code in codes]


class PerpetratorIdentifier(models.Model):
    """A handle, e-mail address or phone number of the perpetrator, as entered and normalised."""

    incident = models.ForeignKey(Incident, related_name="identifiers", on_delete=models.CASCADE)
    kind = models.CharField(_("soort"), max_length=10, choices=IdentifierKind.choices)
    value = EncryptedCharField(_("zoals ingevuld"), max_length=300)
    # HMAC-SHA256 of the normalised value (see portal.crypto.identifier_hash): matches the same
    # perpetrator across incidents without storing the identifier in the clear.
    normalised = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("kenmerk dader")
        verbose_name_plural = _("kenmerken dader")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "normalised"], name="identifier_unique_per_incident"
            )
        ]

    def __str__(self):
        return self.value


def evidence_file_name(instance, filename):
    # The stored name never contains anything the user typed.
    return f"evidence/{instance.incident_id}/{uuid.uuid4().hex}"


def evidence_upload_name(instance, filename):
    return f"uploads/{instance.incident_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A file attached to an incident, checked by content.

    Photos, audio and video arrive as `upload` (encrypted like every file) and are cleaned by
    the worker: `file` is the cleaned file, the only one ever served; the upload is deleted
    once processing ends. `original_sha256` fingerprints what was uploaded, `sha256` what is
    stored. PDF, e-mail and text are checked while uploading and stored as `file` at once.
    """

    incident = models.ForeignKey(Incident, related_name="evidence", on_delete=models.CASCADE)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    file = models.FileField(
        storage=private_storage_get, upload_to=evidence_file_name, max_length=200, blank=True
    )
    upload = models.FileField(
        storage=private_storage_get, upload_to=evidence_upload_name, max_length=200, blank=True
    )
    original_name = EncryptedCharField(_("bestandsnaam"), max_length=200)
    kind = models.CharField(_("soort"), max_length=10, choices=EvidenceKind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("grootte in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    original_sha256 = models.CharField(_("SHA-256 van het origineel"), max_length=64, blank=True)
    uploaded_at = models.DateTimeField(_("toegevoegd op"))
    processing = models.CharField(
        _("verwerking"),
        max_length=10,
        choices=EvidenceProcessing.choices,
        default=EvidenceProcessing.READY,
    )
    processing_failure = models.CharField(
        max_length=20, choices=EvidenceFailure.choices, blank=True
    )
    processing_attempts = models.PositiveSmallIntegerField(default=0)
    # When the work was last queued, and when a worker last started on it (the sweeper's clock).
    processing_queued_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bewijsstuk")
        verbose_name_plural = _("bewijsstukken")
        ordering = ["uploaded_at", "pk"]
        indexes = [
            # The evidence sweeper looks for pending work every minute.
            models.Index(
                fields=["processing_queued_at"],
                condition=Q(processing="pending"),
                name="evidence_pending",
            ),
        ]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse(
            "incidents:evidence_download",
            kwargs={"reference": self.incident.reference, "pk": self.pk},
        )

    @property
    def is_ready(self) -> bool:
        return self.processing == EvidenceProcessing.READY and bool(self.file)


class Event(models.Model):
    """Append-only record of everything that happened to an incident: who, when, what, why."""

    incident = models.ForeignKey(Incident, related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    actor_role = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()
    payload = EncryptedJSONField(default=dict)
    visible_to_officeholder = models.BooleanField(default=False)
    # False for the support team's own work that it did not share with the desk.
    visible_to_desk = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("gebeurtenis")
        verbose_name_plural = _("gebeurtenissen")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="event_incident_time"),
            # The sweeper looks up recent events every minute (support.services.pending_events).
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self):
        return f"{self.incident_id} {self.kind}"


class Note(models.Model):
    """An internal note of the desk or the support team. Never shown to the officeholder."""

    incident = models.ForeignKey(Incident, related_name="notes", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    body = EncryptedTextField(_("notitie"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"note {self.pk}"


class PhoneCall(models.Model):
    """A phone call the desk logged: who called whom, when, and a short summary (encrypted).
    Staff only, like a note: never shown to the officeholder."""

    incident = models.ForeignKey(Incident, related_name="phone_calls", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    direction = models.CharField(_("wie belde"), max_length=20, choices=CallDirection.choices)
    other_party = EncryptedCharField(_("met wie"), max_length=200, blank=True)
    called_at = models.DateTimeField(_("wanneer"))
    summary = EncryptedTextField(_("korte samenvatting"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["called_at", "pk"]

    def __str__(self):
        return f"phone call {self.pk}"


class Message(models.Model):
    """A message in the officeholder's thread, or in the staff channel (desk and support)."""

    incident = models.ForeignKey(Incident, related_name="messages", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    author_role = models.CharField(max_length=20, blank=True)
    audience = models.CharField(max_length=20, choices=MessageAudience.choices)
    body = EncryptedTextField(_("bericht"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["incident", "audience", "created_at"], name="message_thread")
        ]

    def __str__(self):
        return f"message {self.pk}"


class IncidentLink(models.Model):
    """Two incidents that belong together. Stored once, with the lower id first."""

    from_incident = models.ForeignKey(Incident, related_name="links_out", on_delete=models.CASCADE)
    to_incident = models.ForeignKey(Incident, related_name="links_in", on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    reason = EncryptedCharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_incident", "to_incident"], name="link_unique"),
            models.CheckConstraint(
                name="link_ordered", condition=Q(from_incident__lt=models.F("to_incident"))
            ),
        ]

    def __str__(self):
        return f"{self.from_incident_id} - {self.to_incident_id}"


class Escalation(models.Model):
    """The hand-off of an incident to the Ondersteuningsteam; at most one open per incident."""

    incident = models.ForeignKey(Incident, related_name="escalations", on_delete=models.CASCADE)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT, null=True
    )
    # The codes of the rules that escalated it (none when a person did): encrypted, since they
    # say what happened ("physical violence"); nothing filters on them.
    rules = EncryptedJSONField(_("regels"), default=list, reads_plaintext=True)
    reason = EncryptedTextField(_("reden"), blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("doorverwijzing")
        verbose_name_plural = _("doorverwijzingen")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(closed_at__isnull=True),
                name="one_open_escalation_per_incident",
            )
        ]

    def __str__(self):
        return f"{self.incident_id} {self.created_at:%Y-%m-%d}"

    def rule_labels(self) -> list[str]:
        return _labels(EscalationRuleCode, self.rules)


class PerpetratorMatch(models.Model):
    """A staff-only signal: incidents of two different officeholders share a perpetrator
    identifier. Stored once per pair, with the lower id first.

    It escalates, links or changes nothing by itself, and nothing of it reaches either
    officeholder: the desk sees it on its incident (and the other incident's reference only
    when that one is its own), the Ondersteuningsteam sees both sides and decides.
    """

    first = models.ForeignKey(Incident, related_name="+", on_delete=models.CASCADE)
    second = models.ForeignKey(Incident, related_name="+", on_delete=models.CASCADE)
    # Which kinds of identifier the two have in common (codes, never the values).
    kinds = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("zelfde dader (signaal)")
        verbose_name_plural = _("zelfde dader (signalen)")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="match_unique"),
            models.CheckConstraint(name="match_ordered", condition=Q(first__lt=models.F("second"))),
        ]

    def __str__(self):
        return f"{self.first_id} ~ {self.second_id}"

    def other_than(self, incident_id: int) -> int:
        return self.second_id if self.first_id == incident_id else self.first_id


class FactCount(models.Model):
    """How many incidents of an organisation and desk, filed in one month, have one fact value.

    The rollup that statistics read instead of the (encrypted) facts of each incident. The
    services keep it exact in the same transaction as the change (`incidents.fact_counts`):

    - `incident` (value ""), `type`, `impact`, `affected_person`, `risk_flag`, `aangifte`:
      incidents that stand, i.e. not withdrawn and not closed as a duplicate, with their
      current facts; a list value counts once per incident.
    - `rule_code`: escalations by each rule (an escalation by a person names no rule).
    - `action_type`: support actions of each kind (kept by the support services).

    `month` is the first day of the month the incident was filed in, in its organisation's
    time zone. Counts never leave the portal per incident; a small count can still point at
    one incident, so pages built on this table show small numbers with care.
    """

    organisation = models.ForeignKey(
        "portal.Organisation", related_name="+", on_delete=models.CASCADE
    )
    desk = models.ForeignKey("portal.Desk", related_name="+", on_delete=models.CASCADE)
    month = models.DateField()
    kind = models.CharField(max_length=20, choices=FactKind.choices)
    value = models.CharField(max_length=40, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("telling")
        verbose_name_plural = _("tellingen")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "desk", "month", "kind", "value"], name="fact_count_unique"
            )
        ]
        indexes = [
            models.Index(fields=["desk", "month", "kind"], name="fact_count_desk_month"),
            models.Index(fields=["month", "kind"], name="fact_count_month_kind"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.kind} {self.value}: {self.count}"


class MonitorFigure(models.Model):
    """One published figure of the Monitor Integriteit en Veiligheid (an edition's percentage
    of one measure), kept by the functional administrator and shown beside the portal's own
    shares (`incidents.monitor`)."""

    edition = models.PositiveSmallIntegerField(_("editie (jaar)"))
    measure = models.CharField(_("wat is gemeten"), max_length=30, choices=MonitorMeasure.choices)
    percent = models.DecimalField(_("percentage"), max_digits=4, decimal_places=1)
    source = models.CharField(_("bron"), max_length=300)

    class Meta:
        verbose_name = _("cijfer van de Monitor")
        verbose_name_plural = _("cijfers van de Monitor")
        ordering = ["measure", "-edition"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "measure"], name="monitor_figure_unique")
        ]

    def __str__(self):
        return f"{self.get_measure_display()} {self.edition}: {self.percent}%"


class FactPeopleCount(models.Model):
    """The same counts as `FactCount`, split by a keyed token of the officeholder, only ever
    read as COUNT(DISTINCT person): how many different people a cell of the figures is about
    (a cell about fewer than 5 people is hidden, however many reports they made).

    `person` is HMAC(IDENTIFIER_HASH_KEY, kind, value, officeholder) (`fact_counts.
    person_token`): the same person gets another token under every fact value, so rows of
    different facts cannot be joined into one person's facts, and nothing leads back to the
    person without the key. An incident without an officeholder (unlinked) counts as a person
    of its own.
    """

    organisation = models.ForeignKey(
        "portal.Organisation", related_name="+", on_delete=models.CASCADE
    )
    desk = models.ForeignKey("portal.Desk", related_name="+", on_delete=models.CASCADE)
    month = models.DateField()
    kind = models.CharField(max_length=20, choices=FactKind.choices)
    value = models.CharField(max_length=40, blank=True)
    person = models.CharField(max_length=32)
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("telling per persoon")
        verbose_name_plural = _("tellingen per persoon")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "desk", "month", "kind", "value", "person"],
                name="fact_people_count_unique",
            )
        ]
        indexes = [models.Index(fields=["month", "kind"], name="fact_people_month_kind")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.kind} {self.value}"


class AangifteStepText(models.Model):
    """Why a step of the aangifte track matters, in a few plain words (editable by the
    administrator; seeded by migration 0025). Shown next to the step on the officeholder's
    and the desk's page. No legal advice: only the points of the national guidance."""

    step = models.CharField(_("stap"), max_length=20, choices=AangifteStep.choices, unique=True)
    text_nl = models.TextField(_("tekst (Nederlands)"))
    text_en = models.TextField(_("tekst (Engels)"), blank=True)

    class Meta:
        verbose_name = _("uitleg bij een stap van de aangifte")
        verbose_name_plural = _("uitleg bij de stappen van de aangifte")
        ordering = ["step"]

    def __str__(self):
        return self.get_step_display()

    def text_for(self, language: str) -> str:
        """The text in `language` (English when asked and filled in, else Dutch)."""
        if language.startswith("en") and self.text_en:
            return self.text_en
        return self.text_nl


def shared_upload_name(instance, filename):
    return f"shared/{uuid.uuid4().hex}"


class SharedUpload(models.Model):
    """A file shared to the installed portal (share target), kept until the quick report is sent.

    Belongs to the browser that holds the one-time cookie whose hash is `token_hash`; the
    first officeholder who opens the quick report with it becomes its `owner`. Stored
    encrypted like evidence; removed when the report is sent, when the person removes it,
    and after `expires_at` (15 minutes) by `incidents.tasks.remove_expired_shared_uploads`.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE, null=True
    )
    upload = models.FileField(
        storage=private_storage_get, upload_to=shared_upload_name, max_length=200
    )
    original_name = EncryptedCharField(_("bestandsnaam"), max_length=200)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("gedeeld bestand")
        verbose_name_plural = _("gedeelde bestanden")

    def __str__(self):
        return f"SharedUpload {self.pk}"


class SavedQueueView(models.Model):
    """A person's own saved list filters ("mijn open meldingen"), shown only to them: a
    registrar's for the desk's queue, a team member's for the support inbox (`workspace`).

    `query` is the list's filter query string as its filter form cleaned it; opening the view
    runs it through the same form and the same policy, so a view never shows more than the
    person may see today.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("van"),
        related_name="saved_queue_views",
        on_delete=models.CASCADE,
    )
    workspace = models.CharField(
        _("lijst"),
        max_length=20,
        choices=SavedViewWorkspace.choices,
        default=SavedViewWorkspace.DESK,
    )
    name = models.CharField(_("naam"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("opgeslagen overzicht")
        verbose_name_plural = _("opgeslagen overzichten")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "workspace", "name"], name="saved_view_unique_name"
            )
        ]

    def __str__(self):
        return self.name


class StandardReply(models.Model):
    """A ready text for a message to the officeholder, in Dutch and in English.

    Without a desk it is a national default (kept by the functional administrator); with a
    desk it is that desk's own (kept by its coordinators). The desk's registrars insert one
    into the message box in the officeholder's language and may change it before sending.
    """

    desk = models.ForeignKey(
        "portal.Desk",
        verbose_name=_("meldpunt"),
        related_name="standard_replies",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Leeg: een landelijke standaardtekst voor alle meldpunten."),
    )
    title = models.CharField(
        _("situatie"),
        max_length=100,
        help_text=_("Kort: wanneer gebruikt u deze tekst?"),
    )
    text_nl = models.TextField(_("tekst in het Nederlands"), max_length=5000)
    text_en = models.TextField(_("tekst in het Engels"), max_length=5000)
    active = models.BooleanField(
        _("in gebruik"),
        default=True,
        help_text=_("Uit: de tekst staat niet meer in de keuzelijst bij een melding."),
    )
    created_at = models.DateTimeField(_("gemaakt op"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd op"), auto_now=True)

    class Meta:
        verbose_name = _("standaardantwoord")
        verbose_name_plural = _("standaardantwoorden")
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title

    @property
    def is_national(self) -> bool:
        return self.desk_id is None

    def text_in(self, language: str) -> str:
        """The text in `language` ("en" gives the English one; anything else Dutch)."""
        return self.text_en if language == "en" else self.text_nl
