import time
import uuid
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from portal.constants import (
    TIME_ZONE_CARIBBEAN,
    TIME_ZONE_NETHERLANDS,
    EmergencyNumber,
    Gender,
    OfficeholderFunction,
    OrganisationType,
    Province,
    Role,
    TimeZone,
)
from portal.crypto import EncryptedCharField, EncryptedTextField, backup_code_hashes
from portal.notifications import notification_subject


class Desk(models.Model):
    """A meld- en steunpunt: serves one or more organisations; registrars work for it."""

    name = models.CharField(_("naam"), max_length=200, unique=True)
    email = models.EmailField(
        _("e-mailadres"), blank=True, help_text=_("Algemeen adres voor meldingen aan dit meldpunt.")
    )
    phone = models.CharField(_("telefoonnummer"), max_length=40, blank=True)
    time_zone = models.CharField(
        _("tijdzone"), max_length=40, choices=TimeZone.choices, default=TIME_ZONE_NETHERLANDS
    )
    # The weekly check that somebody reads the desk's mailbox (portal.reachability): the
    # address whose link was last clicked, and when. A changed address counts as unconfirmed.
    mailbox_confirmed_email = models.EmailField(
        _("bevestigd e-mailadres"), blank=True, editable=False
    )
    mailbox_confirmed_at = models.DateTimeField(
        _("postbus bevestigd op"), null=True, blank=True, editable=False
    )
    mailbox_confirmation_sent_at = models.DateTimeField(
        _("bevestigingsmail verstuurd op"), null=True, blank=True, editable=False
    )
    # Set by the reachability watchdog when the desk has nobody to read its reports; the
    # administrator is alerted once per period.
    unreachable_since = models.DateTimeField(
        _("onbereikbaar sinds"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("meld- en steunpunt")
        verbose_name_plural = _("meld- en steunpunten")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Organisation(models.Model):
    """A gemeente, provincie, waterschap or openbaar lichaam. Served by exactly one desk."""

    name = models.CharField(_("naam"), max_length=200, unique=True)
    type = models.CharField(_("soort"), max_length=20, choices=OrganisationType.choices)
    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        help_text=_("Code in de stijl van het CBS, bijvoorbeeld GM0344 voor Utrecht."),
    )
    time_zone = models.CharField(
        _("tijdzone"), max_length=40, choices=TimeZone.choices, default=TIME_ZONE_NETHERLANDS
    )
    emergency_number = models.CharField(
        _("alarmnummer"),
        max_length=4,
        choices=EmergencyNumber.choices,
        default=EmergencyNumber.NETHERLANDS,
        help_text=_("112 in Europees Nederland, 911 op Bonaire, Sint Eustatius en Saba."),
    )
    desk = models.ForeignKey(
        Desk,
        verbose_name=_("meld- en steunpunt"),
        related_name="organisations",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_(
            "Zonder meldpunt gaan meldingen naar het reservemeldpunt uit de portaalinstellingen."
        ),
    )
    province = models.CharField(
        _("provincie"),
        max_length=20,
        choices=Province.choices,
        blank=True,
        help_text=_("Leeg voor de openbare lichamen Bonaire, Sint Eustatius en Saba."),
    )
    # A municipal merger (herindeling) ends an organisation and names the one that follows
    # it. Its old incidents keep it; it gets no new officeholders or incidents.
    ended_on = models.DateField(_("opgeheven op"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("opgevolgd door"),
        related_name="predecessors",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("organisatie")
        verbose_name_plural = _("organisaties")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_successor_only_when_ended",
                condition=Q(successor__isnull=True) | Q(ended_on__isnull=False),
                violation_error_message=_("Alleen een opgeheven organisatie heeft een opvolger."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_caribbean(self) -> bool:
        return self.time_zone == TIME_ZONE_CARIBBEAN

    def is_ended(self, on=None) -> bool:
        """Whether the organisation no longer exists (on `on`, default today)."""
        from django.utils import timezone

        return self.ended_on is not None and self.ended_on <= (on or timezone.localdate())


class PortalUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


def absent_on_q(day) -> Q:
    """The people absent on `day` whose work a colleague covers (`User.is_absent`)."""
    return (
        Q(cover__isnull=False, is_active=True)
        & (Q(absent_from__isnull=True) | Q(absent_from__lte=day))
        & (Q(absent_until__isnull=True) | Q(absent_until__gte=day))
    )


class User(AbstractUser):
    """A person with exactly one role.

    Officeholders belong to an organisation, registrars to a desk.
    """

    role = models.CharField(_("rol"), max_length=20, choices=Role.choices)
    function = models.CharField(
        _("functie"), max_length=40, choices=OfficeholderFunction.choices, blank=True
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisatie"),
        related_name="officeholders",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    desk = models.ForeignKey(
        Desk,
        verbose_name=_("meld- en steunpunt"),
        related_name="registrars",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    gender = models.CharField(
        _("gender"),
        max_length=10,
        choices=Gender.choices,
        blank=True,
        help_text=_("Optioneel. Alleen gebruikt voor geanonimiseerde statistiek."),
    )
    preferred_language = models.CharField(
        _("voorkeurstaal"), max_length=5, choices=settings.LANGUAGES, default="nl"
    )
    # How to reach this person (optional; international form, see portal.phones). Shown to
    # the desk and the Ondersteuningsteam on the person's incidents.
    phone = EncryptedCharField(_("telefoonnummer"), max_length=40, blank=True)
    contact_preference = EncryptedCharField(
        _("hoe en wanneer wilt u contact"),
        max_length=200,
        blank=True,
        help_text=_("Bijvoorbeeld: liever bellen, na 17.00 uur; of alleen per e-mail."),
    )
    # A registrar who also manages the people of their own desk and of the organisations it
    # serves (delegated administration): a flag, not a role.
    is_coordinator = models.BooleanField(
        _("coördinator"),
        default=False,
        help_text=_(
            "Beheert de ambtsdragers van de organisaties van het meldpunt en de medewerkers "
            "van het meldpunt zelf."
        ),
    )
    # The term of office (officeholders): the account ends after term_end.
    term_start = models.DateField(_("begin termijn"), null=True, blank=True)
    term_end = models.DateField(_("einde termijn"), null=True, blank=True)
    # Set by the portal when the term ended while the person still had an open incident: the
    # account stays active for that incident only (see the incident policy) and ends when
    # the last one closes (portal.services.person_term_end).
    term_ended_at = models.DateTimeField(
        _("termijn beëindigd op"), null=True, blank=True, editable=False
    )
    # Changes whenever the way this person logs in changes (password, second factor): it is
    # part of the session hash, so every session made before the change ends.
    security_stamp = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Absence cover (registrars and the Ondersteuningsteam): while absent, this person's work
    # shows in the own lists of `cover`: a registrar's open incidents in "mijn open
    # meldingen" of a colleague of the same desk, a team member's cases in "Aan mij" and
    # actions in "Mijn acties" of another team member (`portal.services.absence_set`, policy
    # rule `name_as_cover`). No dates: absent until switched off; the dates are days in the
    # local time zone (`timezone.localdate`), both included.
    cover = models.ForeignKey(
        "self",
        verbose_name=_("waarnemer"),
        related_name="covered_colleagues",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
    )
    absent_from = models.DateField(_("afwezig vanaf"), null=True, blank=True, editable=False)
    absent_until = models.DateField(_("afwezig tot en met"), null=True, blank=True, editable=False)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("gebruiker")
        verbose_name_plural = _("gebruikers")
        constraints = [
            models.CheckConstraint(
                name="officeholder_has_organisation_and_function",
                condition=~Q(role=Role.OFFICEHOLDER)
                | (Q(organisation__isnull=False) & ~Q(function="")),
                violation_error_message=_("Een ambtsdrager heeft een organisatie en een functie."),
            ),
            models.CheckConstraint(
                name="only_officeholder_has_organisation",
                condition=Q(role=Role.OFFICEHOLDER)
                | (Q(organisation__isnull=True) & Q(function="")),
                violation_error_message=_(
                    "Alleen een ambtsdrager heeft een organisatie en een functie."
                ),
            ),
            models.CheckConstraint(
                name="only_registrar_is_coordinator",
                condition=Q(role=Role.REGISTRAR) | Q(is_coordinator=False),
                violation_error_message=_("Alleen een medewerker van een meldpunt is coördinator."),
            ),
            models.CheckConstraint(
                name="term_ends_after_start",
                condition=Q(term_start__isnull=True)
                | Q(term_end__isnull=True)
                | Q(term_end__gte=models.F("term_start")),
                violation_error_message=_("Het einde van de termijn ligt na het begin."),
            ),
            models.CheckConstraint(
                name="registrar_has_desk",
                condition=(Q(role=Role.REGISTRAR) & Q(desk__isnull=False))
                | (~Q(role=Role.REGISTRAR) & Q(desk__isnull=True)),
                violation_error_message=_(
                    "Een medewerker van een meldpunt hoort bij precies één meldpunt; "
                    "andere rollen hebben geen meldpunt."
                ),
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def is_absent(self, day) -> bool:
        """Absent on `day` with a colleague covering (the same rule as `absent_on_q`)."""
        return (
            self.cover_id is not None
            and self.is_active
            and (self.absent_from is None or self.absent_from <= day)
            and (self.absent_until is None or self.absent_until >= day)
        )

    def clean(self):
        super().clean()
        # An ended organisation (herindeling) gets no new officeholders; those it has keep it.
        if self.organisation_id and self.organisation.is_ended():
            previous = (
                type(self).objects.filter(pk=self.pk).values_list("organisation_id", flat=True)
                if self.pk
                else []
            )
            if self.organisation_id not in previous:
                from django.core.exceptions import ValidationError

                raise ValidationError(
                    {
                        "organisation": _(
                            "Deze organisatie is opgeheven. Kies de organisatie die haar opvolgt."
                        )
                    }
                )

    def get_session_auth_hash(self):
        """Django's HMAC of the password hash, with the security stamp folded in."""
        return self._session_auth_hash_with_stamp(secret=None)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash_with_stamp(secret=fallback_secret)

    def _session_auth_hash_with_stamp(self, *, secret):
        if not self.security_stamp:
            # Nothing changed since the stamp was introduced: Django's own hash, so existing
            # sessions survive the upgrade.
            return self._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "portal.User.session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def time_zone(self) -> str:
        if self.organisation_id:
            return self.organisation.time_zone
        if self.desk_id:
            return self.desk.time_zone
        return TIME_ZONE_NETHERLANDS

    @property
    def emergency_number(self) -> str:
        if self.organisation_id:
            return self.organisation.emergency_number
        if self.desk_id and self.desk.time_zone == TIME_ZONE_CARIBBEAN:
            return EmergencyNumber.CARIBBEAN
        return EmergencyNumber.NETHERLANDS


class SiteConfiguration(models.Model):
    """Portal-wide settings that the functional administrator edits in the admin (one row)."""

    fallback_desk = models.ForeignKey(
        Desk,
        verbose_name=_("reservemeldpunt"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Ontvangt de meldingen van organisaties die (nog) geen meldpunt hebben."),
    )
    support_team_phone = models.CharField(
        _("telefoonlijn Ondersteuningsteam"),
        max_length=200,
        blank=True,
        help_text=_("Getoond na elke melding, bijvoorbeeld: 070 - 123 45 67 (dag en nacht)."),
    )

    class Meta:
        verbose_name = _("portaalinstellingen")
        verbose_name_plural = _("portaalinstellingen")
        constraints = [
            models.CheckConstraint(name="site_configuration_singleton", condition=Q(pk=1)),
        ]

    def __str__(self):
        return str(_("Portaalinstellingen"))


class SecurityAdviceEligibility(models.Model):
    """Whether officeholders of one function may ask for a security advice (a CCV consultation).

    Data, because who qualifies is policy that changes (and is not settled for the island
    functions). A function without a row falls back to `SECURITY_ADVICE_DEFAULTS`; the one
    reading is `portal.selectors.security_advice_allowed`.
    """

    function = models.CharField(
        _("functie"), max_length=40, choices=OfficeholderFunction.choices, unique=True
    )
    may_request = models.BooleanField(
        _("mag beveiligingsadvies aanvragen"),
        default=False,
        help_text=_(
            "Aan: de ambtsdrager ziet bij een melding de knop 'Beveiligingsadvies aanvragen'. "
            "Uit: de ambtsdrager ziet wat het meldpunt, de politie en het Ondersteuningsteam "
            "wel kunnen doen."
        ),
    )

    class Meta:
        verbose_name = _("recht op beveiligingsadvies")
        verbose_name_plural = _("recht op beveiligingsadvies")
        ordering = ["function"]

    def __str__(self):
        return self.get_function_display()


class WorkerHeartbeat(models.Model):
    """When the background worker last ran a scheduled task; shows admins that Celery lives."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("hartslag achtergrondverwerking")
        verbose_name_plural = _("hartslagen achtergrondverwerking")

    def __str__(self):
        return self.name


def notification_message_id() -> str:
    """A new, globally unique Message-ID for one notification's e-mail (kept in its row)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return f"<notification.{uuid.uuid4().hex}@{domain}>"


class Notification(models.Model):
    """One message to one person about one thing that happened (the outbox).

    `event_key` names what happened (e.g. "incident-event:123" or "triage-overdue:45");
    the unique (recipient, event_key) pair makes a retried task create nothing twice. A
    notification carries a reference and a link, never the content of an incident.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="notifications", on_delete=models.CASCADE
    )
    event_key = models.CharField(max_length=100)
    kind = models.CharField(max_length=40)
    reference = models.CharField(max_length=40)
    link = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The e-mail (portal.services.notification_email_send): one Message-ID for every attempt,
    # so a receiving server can recognise a resend; the claim is committed before the mail
    # server is contacted, `emailed_at` after it said OK.
    message_id = models.CharField(max_length=255, unique=True, default=notification_message_id)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    # When the sweeper may queue the e-mail (again); empty: PENDING_WORK_AGE after creation.
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("notificatie")
        verbose_name_plural = _("notificaties")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="notification_once_per_recipient"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["emailed_at", "created_at"], name="notification_outbox"),
        ]

    def __str__(self):
        return f"{self.kind} {self.reference} → {self.recipient_id}"

    @property
    def subject(self) -> str:
        return notification_subject(kind=self.kind, reference=self.reference)


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE
    )
    name = models.CharField(_("naam"), max_length=100)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("verloopt"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API-sleutel")
        verbose_name_plural = _("API-sleutels")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class AccessAction(models.TextChoices):
    """What an access-log entry records: a read of personal data, or a change."""

    VIEW_INCIDENT = "view_incident", _("Melding bekeken")
    DOWNLOAD_EVIDENCE = "download_evidence", _("Bewijsstuk gedownload")
    # The printable case file (PDF) of the desk's incident page or the team's case page.
    PRINT_CASE_FILE = "print_case_file", _("Dossier als PDF gemaakt")
    # The summary for the police (PDF), by the officeholder or, with their consent, the desk.
    PRINT_POLICE_SUMMARY = "print_police_summary", _("Samenvatting voor de politie gemaakt")
    EXPORT = "export", _("Export")
    API_READ = "api_read", _("Gelezen via de API")
    CHANGE = "change", _("Wijziging")


class AccessLogEntry(models.Model):
    """One read of personal data (or one change) by one person: who, as what, when, from where.

    Separate from the incident's events: events are the case history people work with; this
    log answers "who saw what". It holds the reference and the organisation, never content;
    `what` names the part that was shown ("detail page", "evidence 12"). Rows are only added.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gebruiker"),
        related_name="access_log_entries",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    # The role and desk at the time of access; a later change of role rewrites no history.
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, blank=True)
    desk = models.ForeignKey(
        Desk,
        verbose_name=_("meld- en steunpunt"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    at = models.DateTimeField(_("tijdstip"))
    ip_address = models.GenericIPAddressField(_("IP-adres"), null=True, blank=True)
    action = models.CharField(_("handeling"), max_length=30, choices=AccessAction.choices)
    reference = models.CharField(_("kenmerk"), max_length=40, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisatie"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    what = models.CharField(_("wat"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("toegangsregistratie")
        verbose_name_plural = _("toegangslogboek")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["reference", "at"], name="access_log_reference"),
            models.Index(fields=["actor", "at"], name="access_log_actor"),
            models.Index(fields=["action", "at"], name="access_log_action"),
            models.Index(fields=["at"], name="access_log_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.reference}"


class TeamReadDay(models.Model):
    """One staff team read an incident on one day: what "wie heeft ingezien" shows.

    The officeholder sees which team (a desk by name, or the Ondersteuningsteam) looked, per
    day, never which person or how often a page was reloaded. The access log keeps every
    single read for the administrator; this row is kept beside it by `access_log_record`, one
    per (reference, team, day) under a unique constraint, written with one
    `INSERT ... ON CONFLICT DO UPDATE`, so two registrars opening the incident at the same
    moment still make one row. `team` is "desk:<id>" or "support"; `day` is the Dutch
    calendar day.
    """

    reference = models.CharField(_("kenmerk"), max_length=40)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisatie"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    team = models.CharField(_("team"), max_length=40)
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices)
    desk = models.ForeignKey(
        Desk,
        verbose_name=_("meld- en steunpunt"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    day = models.DateField(_("dag"))
    first_at = models.DateTimeField(_("eerst ingezien"))
    last_at = models.DateTimeField(_("laatst ingezien"))
    times = models.PositiveIntegerField(_("aantal keer"), default=1)

    class Meta:
        verbose_name = _("inzage per team en dag")
        verbose_name_plural = _("inzage per team en dag")
        ordering = ["-day", "-last_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "team", "day"], name="team_read_once_per_day"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.team} {self.reference}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Wacht op verwerking")
    DONE = "done", _("Verwerkt")
    FAILED = "failed", _("Mislukt")


class OutboxEntry(models.Model):
    """One piece of work for one consumer about one thing that happened (see portal.outbox).

    Written in the same transaction as what happened (an incident event), so a broker or
    worker outage loses nothing: the row says what still has to be done, and for whom. The
    worker that handles it marks it done in the same transaction as the consumer's own writes,
    so each consumer handles each event exactly once. Failures are counted; after
    OUTBOX_MAX_ATTEMPTS the row is marked failed and shown to the administrator, never dropped.
    `last_error` names the error class and its message, never content.
    """

    topic = models.CharField(_("onderwerp"), max_length=40)
    object_id = models.BigIntegerField(_("nummer"))
    kind = models.CharField(_("soort"), max_length=40, blank=True)
    consumer = models.CharField(_("verwerker"), max_length=60)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("pogingen"), default=0)
    next_attempt_at = models.DateTimeField(_("volgende poging"))
    last_error = models.CharField(_("laatste fout"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"))
    done_at = models.DateTimeField(_("verwerkt op"), null=True, blank=True)

    class Meta:
        verbose_name = _("verwerkingsopdracht")
        verbose_name_plural = _("verwerkingsopdrachten")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "object_id", "consumer"], name="outbox_once_per_consumer"
            )
        ]
        indexes = [
            # The sweeper: pending rows whose next attempt is due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_pending_due",
            ),
            models.Index(fields=["status", "created_at"], name="outbox_status"),
        ]

    def __str__(self):
        return f"{self.topic} {self.object_id} → {self.consumer} ({self.status})"


def totp_key_new() -> str:
    """A new random TOTP secret: 20 bytes, hex-encoded (as django-otp makes them)."""
    return random_hex(20)


class TotpDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose secret is encrypted at rest.

    django-otp's own TOTPDevice keeps the key in plain text, so a database dump would pass
    everyone's second factor; here it is a Fernet token (portal/crypto.py). The verification
    follows django-otp's TOTPDevice: a code is accepted once, within one step either way, and
    failures slow further attempts down (ThrottlingMixin).
    """

    key = EncryptedCharField(max_length=80, default=totp_key_new)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: only later codes are accepted.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator-app")
        verbose_name_plural = _("authenticator-apps")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(code, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app reads from the QR code."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {
                "secret": b32encode(self.bin_key),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """The person's one-time backup codes, each stored only as a keyed hash (BackupCode)."""

    class Meta(Device.Meta):
        verbose_name = _("reservecodes")
        verbose_name_plural = _("reservecodes")

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        candidates = backup_code_hashes(str(token))
        match = None
        for code in self.codes.all():
            # Compare with every stored hash in constant time; no early way out.
            if any(constant_time_compare(code.code_hash, candidate) for candidate in candidates):
                match = code
        if match is None:
            self.throttle_increment(commit=True)
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)


class BackupCode(models.Model):
    """One unused backup code: only its HMAC-SHA256 (portal.crypto.backup_code_hash)."""

    device = models.ForeignKey(BackupCodeDevice, related_name="codes", on_delete=models.CASCADE)
    code_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("reservecode")
        verbose_name_plural = _("reservecodes")

    def __str__(self):
        return f"{self.device_id}/{self.pk}"


class KeptForm(models.Model):
    """What someone typed into a form that arrived after their session had ended.

    Kept for a short time (`KEPT_FORM_MINUTES`) so that nothing typed is lost: after logging in
    the person is back on the same form with the text filled in. Only the browser that sent it
    can find it (the row is looked up by a hash of a random cookie value, and the content is
    encrypted with a key derived from that value as well as with the field keys), and it is
    given back only to the account that typed it; any other account that logs in on that
    browser makes it disappear.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kept_forms"
    )
    # The address the form was sent to, and the page that shows the form again.
    action = models.CharField(max_length=300)
    page = models.CharField(max_length=300)
    content = EncryptedTextField()
    had_files = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("bewaard formulier")
        verbose_name_plural = _("bewaarde formulieren")

    def __str__(self):
        return f"{self.user_id} {self.page}"


class PersonChange(models.Model):
    """One change to a person's account: who made it, when, and the value before and after.

    Written by `portal.services.person_changes_record` for every change to role, desk,
    organisation, function, active, coordinator, term and devices. Values are codes and
    names, never secrets. `actor` is empty for changes made by the portal itself (a term
    that ended).
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        related_name="changes",
        on_delete=models.CASCADE,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gewijzigd door"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    at = models.DateTimeField(_("moment"))
    field = models.CharField(_("gegeven"), max_length=40)
    old_value = models.CharField(_("was"), max_length=200, blank=True)
    new_value = models.CharField(_("wordt"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("wijziging van een account")
        verbose_name_plural = _("wijzigingen van accounts")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "at"], name="person_change_history")]

    def __str__(self):
        return f"{self.person} {self.field}: {self.old_value} → {self.new_value}"


class DeletionKind(models.TextChoices):
    """What a deletion record says was removed (portal.deletions)."""

    INCIDENT_ANONYMISED = "incident_anonymised", _("Melding geanonimiseerd")
    INCIDENT_DELETED = "incident_deleted", _("Melding verwijderd")


class DeletionRecord(models.Model):
    """One anonymisation or deletion of personal data, so that a restore can do it again.

    Holds what kind, which object (id and reference) and when; never personal data. Each
    record is also written to the deletion log outside the database and its backups
    (portal.deletions): `manage.py restore` re-applies every record after bringing a backup
    back, so nothing deleted since the backup returns.
    """

    kind = models.CharField(_("soort"), max_length=40, choices=DeletionKind.choices)
    object_id = models.PositiveBigIntegerField(_("object-id"))
    reference = models.CharField(_("kenmerk"), max_length=40, blank=True)
    at = models.DateTimeField(_("tijdstip"))

    class Meta:
        verbose_name = _("verwijderregistratie")
        verbose_name_plural = _("verwijderregistraties")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="deletion_record_once")
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.reference or self.object_id}"


class Invitation(models.Model):
    """One invitation e-mail to one person: a single-use link, valid INVITATION_VALID_DAYS.

    Every sending is a row of its own (a resend makes a new row and revokes the open ones), so
    the rows are the record of who invited whom and when. The link's secret is derived from
    `nonce` with the portal's SECRET_KEY (portal.services.invitation_token) and only its
    SHA-256 is kept for the lookup: a copy of the database alone opens no account.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        related_name="invitations",
        on_delete=models.CASCADE,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uitgenodigd door"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    nonce = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("aangemaakt op"))
    expires_at = models.DateTimeField(_("verloopt op"))
    emailed_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    used_at = models.DateTimeField(_("gebruikt op"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)
    # The person asked for a new link from an expired or used one (rate limit).
    renewal_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("uitnodiging")
        verbose_name_plural = _("uitnodigingen")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.person} {self.created_at:%Y-%m-%d}"


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Klaar om te bevestigen")
    QUEUED = "queued", _("Wacht op verwerking")
    RUNNING = "running", _("Bezig")
    DONE = "done", _("Klaar")


class OfficeholderImport(models.Model):
    """One upload of officeholders by a coordinator (after the elections).

    Stored only when every row is valid (the preview); on confirmation a background task
    creates or updates the accounts and sends the invitations, counting as it goes, so the
    progress page can show how far it is. The rows (names and addresses) are encrypted.
    """

    desk = models.ForeignKey(
        Desk, verbose_name=_("meld- en steunpunt"), related_name="+", on_delete=models.CASCADE
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("geüpload door"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
    )
    file_name = models.CharField(_("bestand"), max_length=200)
    rows = EncryptedTextField()
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    created_at = models.DateTimeField(_("geüpload op"))
    confirmed_at = models.DateTimeField(_("bevestigd op"), null=True, blank=True)
    finished_at = models.DateTimeField(_("klaar op"), null=True, blank=True)
    total = models.PositiveIntegerField(_("regels"), default=0)
    processed = models.PositiveIntegerField(_("verwerkt"), default=0)
    created_count = models.PositiveIntegerField(_("nieuw"), default=0)
    updated_count = models.PositiveIntegerField(_("bijgewerkt"), default=0)
    unchanged_count = models.PositiveIntegerField(_("ongewijzigd"), default=0)
    invited_count = models.PositiveIntegerField(_("uitgenodigd"), default=0)
    failed_count = models.PositiveIntegerField(_("mislukt"), default=0)

    class Meta:
        verbose_name = _("import van ambtsdragers")
        verbose_name_plural = _("imports van ambtsdragers")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d})"


class IdentityProvider(models.Model):
    """An organisation's OpenID Connect provider through which its staff log in (portal.sso).

    One per desk (each organisation runs its own), and one for the Ondersteuningsteam. Nobody
    gets an account by logging in: a login only works for a person linked to this provider
    beforehand (`ExternalIdentity`).
    """

    name = models.CharField(
        _("naam op de inlogknop"),
        max_length=100,
        help_text=_(
            "Bijvoorbeeld: Gemeente Utrecht. De knop heet 'Inloggen met Gemeente Utrecht'."
        ),
    )
    desk = models.OneToOneField(
        Desk,
        verbose_name=_("meld- en steunpunt"),
        related_name="identity_provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Voor de medewerkers van dit meldpunt. Leeg: voor het Ondersteuningsteam."),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=300,
        help_text=_(
            "Het adres van de inlogdienst, zoals in het veld 'issuer' van "
            "/.well-known/openid-configuration."
        ),
    )
    client_id = models.CharField(_("client-id"), max_length=200)
    # Never shown again after it is saved; encrypted with FIELD_ENCRYPTION_KEYS.
    client_secret = EncryptedCharField(_("client secret"), max_length=500)
    mfa_acr_values = models.CharField(
        _("acr-waarden voor meerfactor"),
        max_length=500,
        blank=True,
        help_text=_(
            "Gescheiden door spaties. Geeft de inlogdienst een van deze waarden in 'acr', dan "
            "telt dat als tweede stap."
        ),
    )
    mfa_amr_values = models.CharField(
        _("amr-waarden voor meerfactor"),
        max_length=500,
        blank=True,
        help_text=_(
            "Gescheiden door spaties, bijvoorbeeld: mfa. Staat een van deze waarden in 'amr', "
            "dan telt dat als tweede stap."
        ),
    )
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("inlogdienst")
        verbose_name_plural = _("inlogdiensten")
        ordering = ["name"]
        constraints = [
            # At most one provider for the Ondersteuningsteam (desk empty).
            models.UniqueConstraint(
                fields=["desk"],
                name="one_identity_provider_per_desk",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return self.name


class ExternalIdentity(models.Model):
    """A person's account at an identity provider: (issuer, subject) names exactly one person.

    Made once, by accepting an invitation with that provider or by the desk's coordinator; an
    e-mail address never links an account.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        related_name="external_identities",
        on_delete=models.CASCADE,
    )
    provider = models.ForeignKey(
        IdentityProvider,
        verbose_name=_("inlogdienst"),
        related_name="identities",
        on_delete=models.CASCADE,
    )
    # The issuer at the time of linking: a provider whose issuer changes links nobody.
    issuer = models.CharField(_("issuer"), max_length=300)
    subject = models.CharField(_("subject"), max_length=255)
    linked_at = models.DateTimeField(_("gekoppeld op"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gekoppeld door"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    last_login_at = models.DateTimeField(_("laatst ingelogd"), null=True, blank=True)

    class Meta:
        verbose_name = _("gekoppeld account")
        verbose_name_plural = _("gekoppelde accounts")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_person_per_subject"),
            models.UniqueConstraint(fields=["person", "provider"], name="one_link_per_provider"),
        ]

    def __str__(self):
        return f"{self.person} ({self.provider})"
