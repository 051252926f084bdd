"""Writes about people, organisations, notifications and the portal itself."""

import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from importlib import import_module
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import crypto, two_factor
from portal.access import api_token_is_active, api_token_lifetime
from portal.constants import TIME_ZONE_CARIBBEAN, SecurityChange, SecurityNotice
from portal.errors import DomainError
from portal.login_protection import client_ip
from portal.models import (
    AccessAction,
    AccessLogEntry,
    ApiToken,
    Desk,
    IdentityProvider,
    KeptForm,
    Notification,
    PersonChange,
    TeamReadDay,
    User,
    WorkerHeartbeat,
)
from portal.notifications import notification_body, notification_subject
from portal.phones import phone_clean
from portal.policies import (
    administrators,
    desk_coordinators,
    identity_provider_for,
    reading_team,
    user_policy,
)
from portal.publishing import task_publish
from portal.reachability import (
    DESK_MAILBOX_CONFIRMATION_VALID,
    desks_reachability,
    mailbox_is_confirmed,
)
from portal.signals import person_deactivated

logger = logging.getLogger(__name__)

# Recording a sent e-mail survives a database restart of a few seconds.
EMAIL_RECORD_ATTEMPTS = 5


def worker_heartbeat_record(*, name: str) -> WorkerHeartbeat:
    """Store that the background worker ran the scheduled task `name` just now."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now()}
    )
    return heartbeat


def notifications_create(
    *, recipients: Iterable[User], event_key: str, kind: str, reference: str, link: str
) -> list[Notification]:
    """Create one notification per recipient for `event_key`; existing ones are left alone.

    Guarantees: at most one row per (recipient, event_key), however often this runs; an
    e-mail for each new row is queued after commit (the sweeper re-queues unsent ones).
    """
    created = []
    now = timezone.now()
    for recipient in {r.pk: r for r in recipients if r.is_active}.values():
        try:
            with transaction.atomic():
                notification, is_new = Notification.objects.get_or_create(
                    recipient=recipient,
                    event_key=event_key,
                    defaults={
                        "kind": kind,
                        "reference": reference,
                        "link": link,
                        "created_at": now,
                    },
                )
        except IntegrityError:  # a concurrent run created it first
            continue
        if is_new:
            created.append(notification)
            transaction.on_commit(partial(queue_notification_email, notification.pk), robust=True)
    return created


def queue_notification_email(notification_id: int) -> bool:
    """Publish the e-mail task (to the mail queue); never fails the caller (the sweeper
    queues unsent rows again). Returns False when the broker refused."""
    return task_publish("portal.tasks.notification_email", notification_id)


def _email_due(now) -> Q:
    """Unsent, not failed, not held by a running attempt, and its next attempt is due."""
    claim_expired = now - settings.EMAIL_CLAIM_TIMEOUT
    return (
        Q(emailed_at__isnull=True, email_failed_at__isnull=True)
        & (Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lte=claim_expired))
        & (
            Q(email_next_attempt_at__lte=now)
            | Q(email_next_attempt_at__isnull=True, created_at__lte=now - settings.PENDING_WORK_AGE)
        )
    )


def notifications_sweep(*, now=None, limit: int = 500) -> int:
    """Queue the e-mails that are due again, oldest first; returns how many were queued.

    Guarantees: a notification that is sent, failed, being sent right now, waiting for its
    retry delay, or queued less than PENDING_WORK_AGE ago is not queued: each queued row's
    next attempt moves one PENDING_WORK_AGE ahead, so a backlog is queued once, not every
    minute. The oldest unsent notifications go first.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_email_due(now))
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=due).update(
            email_next_attempt_at=now + settings.PENDING_WORK_AGE
        )
    for notification_id in due:
        # After the first refused publish the rest wait for the next sweep.
        if not queue_notification_email(notification_id):
            break
    return len(due)


def _email_retry_delay(attempts: int) -> timedelta:
    base = settings.EMAIL_RETRY_BASE.total_seconds()
    return timedelta(seconds=min(base * 2 ** (attempts - 1), settings.EMAIL_RETRY_MAX_DELAY))


def _notification_email_claim(notification_id: int) -> Notification | None:
    """Claim the notification for one attempt and commit that, before any mail server is
    contacted. None when it is sent, failed, or claimed by an attempt that is still running."""
    now = timezone.now()
    with transaction.atomic():
        # Lock the notification only: locking the joined user row too would block the
        # recipient's login. The lock is held for these few statements, never while sending.
        notification = (
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient")
            .filter(
                Q(pk=notification_id, emailed_at__isnull=True, email_failed_at__isnull=True)
                & (
                    Q(email_claimed_at__isnull=True)
                    | Q(email_claimed_at__lte=now - settings.EMAIL_CLAIM_TIMEOUT)
                )
            )
            .first()
        )
        if notification is None:
            return None
        if notification.email_claimed_at is not None:
            logger.warning(
                "Notification %s: an earlier attempt stopped after claiming it; it may have "
                "been sent. Sending again with the same Message-ID.",
                notification.pk,
            )
        notification.email_claimed_at = now
        notification.email_attempts += 1
        # Should this attempt vanish, the sweeper finds the row once the claim expired.
        notification.email_next_attempt_at = now + _email_retry_delay(notification.email_attempts)
        notification.save(
            update_fields=["email_claimed_at", "email_attempts", "email_next_attempt_at"]
        )
    return notification


def _notification_email_message(notification: Notification) -> EmailMessage:
    recipient = notification.recipient
    url = settings.PORTAL_BASE_URL.rstrip("/") + notification.link
    with translation.override(recipient.preferred_language):
        return EmailMessage(
            subject=notification_subject(kind=notification.kind, reference=notification.reference),
            body=notification_body(
                kind=notification.kind, reference=notification.reference, url=url
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
            headers={"Message-ID": notification.message_id},
        )


def _database_retry(work, *, what: str, attempts: int = EMAIL_RECORD_ATTEMPTS):
    """Run `work()`; when the database is gone for a moment (a restart), reconnect and try
    again, up to `attempts` times one second apart. The last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DatabaseError:
            if attempt == attempts:
                raise
            logger.warning("Could not record %s (attempt %s); trying again.", what, attempt)
            if not connection.in_atomic_block:
                connection.close()
            time.sleep(1)
    return None


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification, once. Returns True when this call sent it.

    Guarantees: the row is claimed (and the claim committed) before the mail server is
    contacted, and recorded sent after it said OK, so two workers never both send, and a
    lost commit after delivery does not send again while the claim holds. Every attempt uses
    the row's one Message-ID. A failed attempt is counted and retried after a growing delay
    (EMAIL_RETRY_BASE, EMAIL_MAX_ATTEMPTS); the sweeper queues it. The one window left: the
    worker dies, or the database stays away for longer than the record's retries, between the
    mail server's OK and the record; the claim then expires (EMAIL_CLAIM_TIMEOUT) and the
    e-mail is sent again with the same Message-ID, which the receiving server can recognise.
    """
    notification = _notification_email_claim(notification_id)
    if notification is None:
        return False
    claimed_at = notification.email_claimed_at
    if notification.recipient.email:
        try:
            _notification_email_message(notification).send()
        except Exception as error:  # noqa: BLE001 - every failure counts as one attempt
            _database_retry(
                partial(_notification_email_failed, notification, claimed_at, error),
                what=f"the failed e-mail of notification {notification.pk}",
            )
            return False
    _database_retry(
        partial(_notification_email_sent, notification.pk, claimed_at),
        what=f"the sent e-mail of notification {notification.pk}",
    )
    return True


def _notification_email_sent(notification_id: int, claimed_at) -> None:
    with transaction.atomic():
        Notification.objects.filter(pk=notification_id, email_claimed_at=claimed_at).update(
            emailed_at=timezone.now(), email_claimed_at=None, email_last_error=""
        )


def _notification_email_failed(notification: Notification, claimed_at, error) -> None:
    """Release the claim and count the failure: retried after the delay, failed at the cap."""
    now = timezone.now()
    fields = {
        "email_claimed_at": None,
        "email_last_error": f"{type(error).__name__}: {error}"[:500],
        "email_next_attempt_at": now + _email_retry_delay(notification.email_attempts),
    }
    if notification.email_attempts >= settings.EMAIL_MAX_ATTEMPTS:
        fields["email_failed_at"] = now
        logger.error(
            "The e-mail of notification %s failed %s times; marked failed.",
            notification.pk,
            notification.email_attempts,
        )
    else:
        logger.warning(
            "The e-mail of notification %s failed (attempt %s): %s",
            notification.pk,
            notification.email_attempts,
            type(error).__name__,
        )
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk, email_claimed_at=claimed_at).update(
            **fields
        )


def notification_mark_read(
    *, user: User, notification_id: int | None = None, reference: str | None = None
) -> int:
    """Mark one, those about one incident (`reference`: opening its page), or all of the
    user's unread notifications read. Returns how many changed (one UPDATE; none when
    nothing is unread)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    if reference is not None:
        unread = unread.filter(reference=reference)
    return unread.update(read_at=timezone.now())


def user_contact_update(*, user: User, phone: str, contact_preference: str) -> User:
    """Save how to reach this person (encrypted): the phone number in international form, so
    that it works as a `tel:` link from the Caribbean too, and the preferred way and time.
    Empty removes them. Raises DomainError (Dutch) for a number that is not one."""
    try:
        number = phone_clean(phone, caribbean=user.time_zone == TIME_ZONE_CARIBBEAN)
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None
    user.phone = number
    user.contact_preference = contact_preference.strip()
    user.save(update_fields=["phone", "contact_preference"])
    return user


def absence_set(*, person: User, cover: User | None, absent_from=None, absent_until=None) -> User:
    """Mark `person` absent (for themselves: a registrar or a team member) and name the
    colleague who covers.

    While absent (the days between `absent_from` and `absent_until`, both included; open on
    a side without a date), the cover's own lists show this person's work: a registrar's
    open incidents in "mijn open meldingen", a team member's cases in "Aan mij" and actions
    in "Mijn acties" (`portal.selectors.covered_colleagues`). `cover` None switches the
    absence off. Only a colleague may be named (policy rule `name_as_cover`: of the same
    desk, or of the Ondersteuningsteam; never oneself); raises DomainError (Dutch) otherwise.
    """
    from portal.policies import user_policy

    user_policy.require(person, "set_absence", person)
    if cover is None:
        person.cover, person.absent_from, person.absent_until = None, None, None
    else:
        if not user_policy.allows(person, "name_as_cover", cover):
            raise DomainError(
                _("U kunt deze persoon niet als waarnemer kiezen. Kies een collega van uw team.")
            )
        if absent_from and absent_until and absent_until < absent_from:
            raise DomainError(_("De laatste dag van uw afwezigheid ligt vóór de eerste dag."))
        person.cover, person.absent_from, person.absent_until = cover, absent_from, absent_until
    person.save(update_fields=["cover", "absent_from", "absent_until"])
    return person


def user_language_set(*, user: User, language: str) -> bool:
    """Make `language` this person's preferred language (pages after login, e-mails).

    A language the portal does not offer is ignored. Returns whether anything changed."""
    if language not in dict(settings.LANGUAGES) or user.preferred_language == language:
        return False
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    return True


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; returns the row and the key, which is never stored.

    The token expires after the person's token lifetime (`portal.access.api_token_lifetime`).
    """
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API",
        prefix=key[:8],
        key_hash=api_token_hash(key),
        created_at=now,
        expires_at=now + api_token_lifetime(user),
    )
    return token, key


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens. Returns False when there was nothing to revoke."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The active token with this key, of an active person; records its use. Else None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active or not api_token_is_active(token):
        return None
    api_token_touch(token=token)
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of the person that still works; e-mail them when there was any.

    Returns how many were revoked.
    """
    with transaction.atomic():
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            security_notice_send(user=user, kind=SecurityNotice.API_TOKENS_REVOKED)
    return revoked


def security_notice_send(*, user: User, kind: SecurityNotice | str) -> None:
    """Tell the person that something changed about their account ("was u dit?").

    No content: which kind of change, and a link to their profile. Goes through the
    notification outbox (e-mailed once after commit, re-queued by the sweeper, listed in
    the portal), in the person's language. Passkeys call this with `passkey_added`.
    """
    kind = SecurityNotice(kind)
    notifications_create(
        recipients=[user],
        event_key=f"security:{kind.value}:{uuid.uuid4().hex}",
        kind=f"security_{kind.value}",
        reference="",
        link=reverse("profile"),
    )


SECURITY_CHANGE_NOTICES = {
    SecurityChange.PASSWORD_CHANGED: SecurityNotice.PASSWORD_CHANGED,
    SecurityChange.TWO_FACTOR_ON: SecurityNotice.DEVICE_ADDED,
    SecurityChange.TWO_FACTOR_OFF: SecurityNotice.TWO_FACTOR_OFF,
    SecurityChange.SECOND_FACTOR_RESET: SecurityNotice.SECOND_FACTOR_RESET,
    SecurityChange.PASSKEY_REMOVED: SecurityNotice.PASSKEY_REMOVED,
    SecurityChange.ACCOUNT_LINKED: SecurityNotice.ACCOUNT_LINKED,
    SecurityChange.ACCOUNT_UNLINKED: SecurityNotice.ACCOUNT_UNLINKED,
}


def account_security_change(*, user: User, change: SecurityChange, request=None) -> int:
    """Record that the way `user` logs in changed: password, or the second factor on or off.

    Guarantees, in one transaction: the person's security stamp changes, so every session
    made before ends at its next request (the stamp is part of the session hash); every API
    token of the person is revoked (and they get an e-mail about it); a password change also
    removes authenticator apps that were never confirmed; the person gets a "was u dit?"
    e-mail. With `request` of the person themselves, that one session stays logged in.
    Returns how many API tokens were revoked.
    """
    change = SecurityChange(change)
    with transaction.atomic():
        user.security_stamp = secrets.token_hex(16)
        user.save(update_fields=["security_stamp"])
        if change == SecurityChange.PASSWORD_CHANGED:
            two_factor.unconfirmed_devices_remove(user=user)
        revoked = api_tokens_revoke_all(user=user)
        security_notice_send(user=user, kind=SECURITY_CHANGE_NOTICES[change])
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        update_session_auth_hash(request, user)
    return revoked


def user_second_factor_reset(*, user: User) -> int:
    """The administrator's reset for a lost phone: the person's app and backup codes go.

    Every session of the person ends and their API tokens are revoked; at the next login the
    guided setup starts again with a new secret. Returns how many devices were removed.
    """
    with transaction.atomic():
        removed = two_factor.second_factor_remove(user=user)
        account_security_change(user=user, change=SecurityChange.SECOND_FACTOR_RESET)
    return removed


def passkey_added(*, user: User) -> None:
    """Record that the person added a passkey: they get a "was u dit?" e-mail.

    No session ends: whoever added it is logged in already, and the e-mail says how to
    remove a passkey that the person did not add.
    """
    security_notice_send(user=user, kind=SecurityNotice.PASSKEY_ADDED)


def passkey_remove(*, user: User, passkey_id: int, request=None) -> bool:
    """Remove one of the person's passkeys (by themselves, or by the administrator).

    Like the administrator's reset of a lost phone: every other session of the person ends,
    their API tokens are revoked and they get a "was u dit?" e-mail. With `request` of the
    person themselves, that session stays logged in. Returns False when there was no such
    passkey of this person (nothing changes then).
    """
    from django_otp_webauthn.models import WebAuthnCredential

    with transaction.atomic():
        removed, _ = WebAuthnCredential.objects.filter(pk=passkey_id, user=user).delete()
        if not removed:
            return False
        account_security_change(user=user, change=SecurityChange.PASSKEY_REMOVED, request=request)
    return True


def api_token_touch(*, token: ApiToken) -> None:
    """Record use; written at most once a minute to keep API reads cheap."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def access_log_record(
    *, request, action: AccessAction | str, incident=None, what: str = ""
) -> AccessLogEntry:
    """Record that the requesting person read personal data (or changed something).

    `incident` is anything with a `reference` and an `organisation_id` (portal does not
    import incidents). Only the reference, the organisation and a short description of what
    was shown are stored, never content; the IP is taken as the login protection takes it
    (behind the configured proxies). Written in the request's own transaction: a read
    that fails leaves no row, and an entry never outlives a rolled-back change.
    """
    user = request.user if request.user.is_authenticated else None
    entry = AccessLogEntry.objects.create(
        actor=user,
        role=getattr(user, "role", ""),
        desk_id=getattr(user, "desk_id", None),
        at=timezone.now(),
        ip_address=client_ip(request) or None,
        action=action,
        reference=getattr(incident, "reference", ""),
        organisation_id=getattr(incident, "organisation_id", None),
        what=what[:200],
    )
    team = reading_team(role=entry.role, desk_id=entry.desk_id)
    if entry.reference and team:
        team_read_record(
            reference=entry.reference,
            organisation_id=entry.organisation_id,
            team=team,
            role=entry.role,
            desk_id=entry.desk_id if team.startswith("desk:") else None,
            at=entry.at,
        )
    return entry


def team_read_record(
    *, reference: str, organisation_id: int | None, team: str, role: str, desk_id, at
) -> None:
    """Count one read of `reference` by a team (a desk, or the Ondersteuningsteam) on the
    Dutch calendar day of `at`: the first read of the day adds the row, later ones only move
    `last_at` and `times`. One statement under the unique (reference, team, day), so reads at
    the same moment in two transactions still leave exactly one row (no lost update)."""
    table = TeamReadDay._meta.db_table
    day = timezone.localdate(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608
            "(reference, organisation_id, team, role, desk_id, day, first_at, last_at, times) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1) "
            "ON CONFLICT (reference, team, day) DO UPDATE SET "
            f"last_at = EXCLUDED.last_at, times = {table}.times + 1",
            [
                reference,
                organisation_id,
                team,
                role,
                desk_id,
                connection.ops.adapt_datefield_value(day),
                connection.ops.adapt_datetimefield_value(at),
                connection.ops.adapt_datetimefield_value(at),
            ],
        )


# --- Reachability of the desks (portal.reachability has the rule) -------------------------------

DESK_MAILBOX_SALT = "portal.desk-mailbox-confirmation"
DESK_MAILBOX_SUBJECT = gettext_lazy("Leest u deze postbus nog? Bevestig het voor %(desk)s")
DESK_MAILBOX_BODY = gettext_lazy(
    "Dit is de wekelijkse controle van het Meldpunt Weerbaar Bestuur.\n\n"
    "Meldingen voor %(desk)s kunnen naar deze postbus gaan als er geen medewerker is. "
    "Daarom vragen we elke week of iemand deze postbus leest.\n\n"
    "Klik op deze link en bevestig het: %(url)s\n\n"
    "De link werkt 8 dagen. Bevestigt niemand, dan gaan nieuwe meldingen naar een ander "
    "meldpunt of naar het Ondersteuningsteam. Zo blijft geen melding liggen."
)
# A confirmation e-mail goes out once a week; its link works for as long as a click keeps the
# desk reachable.
DESK_MAILBOX_CONFIRMATION_EVERY = timedelta(days=7)


def desk_unreachable_record(*, desk: Desk, now=None) -> bool:
    """Record that nobody reads `desk`, and alert the administrators at once (once per period).

    Idempotent: while the desk stays unreachable, running this again alerts nobody. Returns
    True when this call started a new period (and so alerted).
    """
    now = now or timezone.now()
    with transaction.atomic():
        started = bool(
            Desk.objects.filter(pk=desk.pk, unreachable_since__isnull=True).update(
                unreachable_since=now
            )
        )
        if started:
            desk.unreachable_since = now
            notifications_create(
                recipients=administrators(),
                event_key=f"desk-unreachable:{desk.pk}:{now.isoformat()}",
                kind="desk_unreachable",
                reference=desk.name[:40],
                link=reverse("home"),
            )
    return started


def desks_reachability_record(*, now=None) -> dict[str, list[int]]:
    """The watchdog's first step: mark each desk reachable or not, alerting when one drops out.

    Returns the ids of the desks that became unreachable and of those reachable again.
    """
    now = now or timezone.now()
    became_unreachable, became_reachable = [], []
    for row in desks_reachability(now=now):
        if not row.reachable and desk_unreachable_record(desk=row.desk, now=now):
            became_unreachable.append(row.desk.pk)
        elif row.reachable and row.desk.unreachable_since is not None:
            Desk.objects.filter(pk=row.desk.pk).update(unreachable_since=None)
            became_reachable.append(row.desk.pk)
    return {"unreachable": became_unreachable, "reachable": became_reachable}


def desk_mailbox_token(*, desk: Desk, now=None) -> str:
    """A signed token for the desk's current address, dated (it works for 8 days); another
    address, or any change to the token, makes it invalid."""
    issued = int((now or timezone.now()).timestamp())
    return signing.dumps(
        {"desk": desk.pk, "email": desk.email, "issued": issued}, salt=DESK_MAILBOX_SALT
    )


def desk_mailbox_confirmation_send(*, desk: Desk, now=None) -> None:
    """E-mail the desk's mailbox a link to confirm that somebody reads it (8 days valid)."""
    now = now or timezone.now()
    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "desk_mailbox_confirm", kwargs={"token": desk_mailbox_token(desk=desk, now=now)}
    )
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=str(DESK_MAILBOX_SUBJECT) % {"desk": desk.name},
            message=str(DESK_MAILBOX_BODY) % {"desk": desk.name, "url": url},
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[desk.email],
        )
    Desk.objects.filter(pk=desk.pk).update(mailbox_confirmation_sent_at=now)


def desk_mailbox_confirmation_request(*, desk: Desk) -> None:
    """The desk's address changed: its confirmation e-mail is due now, and is queued after
    commit (a broker that is down only delays it to the next hourly run)."""
    Desk.objects.filter(pk=desk.pk).update(mailbox_confirmation_sent_at=None)
    transaction.on_commit(
        partial(task_publish, "portal.tasks.desk_mailbox_confirmations"), robust=True
    )


def desk_mailbox_confirmations_send(*, now=None) -> int:
    """Send the weekly confirmation e-mail to every desk mailbox that is due; returns how many.

    Due: never sent, sent a week ago or longer, or the address changed since the last click.
    Each desk is marked right after its own e-mail, so a run that stops halfway sends nothing
    twice when it runs again.
    """
    now = now or timezone.now()
    sent = 0
    for desk in Desk.objects.exclude(email="").order_by("pk"):
        due = (
            desk.mailbox_confirmation_sent_at is None
            or desk.mailbox_confirmation_sent_at <= now - DESK_MAILBOX_CONFIRMATION_EVERY
        )
        if due:
            desk_mailbox_confirmation_send(desk=desk, now=now)
            sent += 1
    return sent


def desk_mailbox_confirm(*, token: str, now=None) -> Desk:
    """Record that the desk's mailbox is read: somebody clicked the link of its e-mail.

    Refused (DomainError) for a link that is damaged, older than 8 days, of a desk that no
    longer exists, or of an address that is no longer the desk's.
    """
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=DESK_MAILBOX_SALT)
    except signing.BadSignature:
        raise DomainError(_("Deze link klopt niet. Gebruik de link uit de e-mail.")) from None
    age = now.timestamp() - float(data.get("issued", 0))
    if age > DESK_MAILBOX_CONFIRMATION_VALID.total_seconds():
        raise DomainError(
            _("Deze link is verlopen. De volgende bevestigingsmail komt binnen een week.")
        )
    desk = Desk.objects.filter(pk=data.get("desk")).first()
    if desk is None or not desk.email or desk.email != data.get("email"):
        raise DomainError(_("Dit adres is niet meer het adres van het meldpunt."))
    desk.mailbox_confirmed_email = desk.email
    desk.mailbox_confirmed_at = now
    desk.save(update_fields=["mailbox_confirmed_email", "mailbox_confirmed_at"])
    return desk


def desk_mailbox_notify(*, desk: Desk, event_key: str, kind: str, reference: str, link: str):
    """Tell a desk without active staff, through its confirmed mailbox, that something arrived.

    Only a reference and a link, like every notification. Called by an outbox consumer (once
    per event); the e-mail itself is queued after commit, so a mail server that is down never
    holds up the consumer. Returns False when the mailbox is not confirmed (then nothing goes).
    """
    if not mailbox_is_confirmed(desk):
        return False
    transaction.on_commit(
        partial(
            task_publish,
            "portal.tasks.desk_mailbox_email",
            desk.pk,
            event_key,
            kind,
            reference,
            link,
        ),
        robust=True,
    )
    return True


def desk_mailbox_email_send(*, desk_id: int, event_key: str, kind: str, reference: str, link: str):
    """Send one desk-mailbox notification, if the mailbox is still confirmed."""
    desk = Desk.objects.filter(pk=desk_id).first()
    if desk is None or not mailbox_is_confirmed(desk):
        return False
    url = settings.PORTAL_BASE_URL.rstrip("/") + link
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=notification_subject(kind=kind, reference=reference),
            message=notification_body(kind=kind, reference=reference, url=url),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[desk.email],
        )
    logger.info("Desk mailbox %s notified (%s)", desk.pk, event_key)
    return True


# --- Forms that arrived after the session ended (portal.kept_forms is the web side) -----------


@dataclass(frozen=True)
class KeptFormContent:
    """A kept form given back: where it was sent, and each field's values."""

    action: str
    fields: dict[str, list[str]]
    had_files: bool


def kept_form_keep(
    *, user_id: int, action: str, page: str, fields: dict[str, list[str]], had_files: bool
) -> str:
    """Keep what was typed into a form that arrived without a session, for KEPT_FORM_MINUTES.

    Returns the random value for the browser's cookie: the row is found only by its hash, and
    the content is encrypted with a key derived from it (and with the field keys), so it is
    readable for that browser only. Guarantees: one row per call, expired rows are removed.
    """
    kept_forms_purge()
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    KeptForm.objects.create(
        token_hash=crypto.browser_token_hash(token),
        user_id=user_id,
        action=action[:300],
        page=page[:300],
        content=crypto.browser_bound_encrypt(token, json.dumps(fields, ensure_ascii=False)),
        had_files=had_files,
        created_at=now,
        expires_at=now + settings.KEPT_FORM_AGE,
    )
    return token


def kept_form_take(*, token: str, user: User, page: str) -> KeptFormContent | None:
    """Give back, once, the form this browser kept, when `user` typed it and is on `page`.

    Guarantees: another account never gets it (the row is deleted when someone else asks);
    an expired row is never given back; a row is given back at most once (deleted in the
    same transaction, under a row lock, so two tabs cannot both get it).
    """
    with transaction.atomic():
        kept = (
            KeptForm.objects.select_for_update()
            .filter(token_hash=crypto.browser_token_hash(token), expires_at__gt=timezone.now())
            .first()
        )
        if kept is None:
            return None
        if kept.user_id != user.pk:
            kept.delete()
            return None
        if kept.page != page:
            return None
        kept.delete()
    try:
        fields = json.loads(crypto.browser_bound_decrypt(token, kept.content))
    except crypto.EncryptionKeyError:
        return None
    return KeptFormContent(action=kept.action, fields=fields, had_files=kept.had_files)


def kept_form_pending(*, token: str) -> bool:
    """Whether this browser has a kept form that has not expired (for the login page)."""
    return KeptForm.objects.filter(
        token_hash=crypto.browser_token_hash(token), expires_at__gt=timezone.now()
    ).exists()


def kept_forms_purge() -> int:
    """Remove every kept form older than KEPT_FORM_MINUTES. Returns how many."""
    deleted, _ = KeptForm.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# What `person_changes_record` compares: the facts that decide what a person may see and do.
PERSON_TRACKED_FIELDS = (
    "role",
    "desk",
    "organisation",
    "function",
    "is_active",
    "is_coordinator",
    "term_start",
    "term_end",
    "term_ended_at",
)


def person_tracked_values(person: User) -> dict[str, str]:
    """The tracked facts of a person as text (names for desk and organisation)."""
    values = {}
    for name in PERSON_TRACKED_FIELDS:
        value = getattr(person, name)
        values[name] = "" if value is None else str(value)
    return values


def person_changes_record(
    *, actor: User | None, person: User, before: dict[str, str], now=None
) -> list[PersonChange]:
    """Record every tracked fact of `person` that differs from `before`, one row each.

    `before` is `person_tracked_values` taken before the change ({} for a new account: then
    every fact that is set is recorded). `actor` is None for the portal itself.
    """
    now = now or timezone.now()
    after = person_tracked_values(person)
    changes = [
        PersonChange(
            person=person,
            actor=actor,
            at=now,
            field=name,
            old_value=before.get(name, "")[:200],
            new_value=value[:200],
        )
        for name, value in after.items()
        if value != before.get(name, "") and (before or value not in ("", "False"))
    ]
    return PersonChange.objects.bulk_create(changes)


def person_device_change_record(*, actor: User | None, person: User, what: str) -> PersonChange:
    """Record a change to a person's second factor, passkeys or linked account (`what` names
    it, no secret)."""
    return PersonChange.objects.create(
        person=person, actor=actor, at=timezone.now(), field="devices", new_value=what[:200]
    )


# --- Housekeeping: personal data that is only kept for a while ---------------------------------


def sessions_clear_expired() -> int:
    """Remove every expired session (Django's `clearsessions`); returns how many there were.

    Sessions hold who is logged in from which browser; an expired one lets nobody in, so
    there is nothing to keep.
    """
    from django.contrib.sessions.models import Session

    count = Session.objects.filter(expire_date__lt=timezone.now()).count()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return count


def login_attempts_purge(*, now=None) -> int:
    """Remove django-axes' records of logins and failed logins (username, IP address, browser)
    older than LOGIN_ATTEMPT_RETENTION_DAYS; returns how many rows went.

    The lockout itself only looks back AXES_COOLOFF_TIME (15 minutes), so it is not affected.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    cutoff = (now or timezone.now()) - settings.LOGIN_ATTEMPT_RETENTION
    removed = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        removed += model.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return removed


ACCESS_LOG_PURGE_BATCH = 5000


def access_log_purge(*, now=None) -> int:
    """Remove the portal's access-log entries (who read which incident, from which IP)
    older than ACCESS_LOG_RETENTION_DAYS, in batches of ACCESS_LOG_PURGE_BATCH rows (short
    transactions); returns how many."""
    cutoff = (now or timezone.now()) - settings.ACCESS_LOG_RETENTION
    removed = 0
    while True:
        batch = list(
            AccessLogEntry.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[
                :ACCESS_LOG_PURGE_BATCH
            ]
        )
        if not batch:
            return removed
        removed += AccessLogEntry.objects.filter(pk__in=batch).delete()[0]


def person_deactivate(*, actor: User | None, person: User, now=None) -> bool:
    """End a person's account: they can no longer log in, and nothing of theirs stays open.

    Guarantees, in one transaction with the person's row locked: the account is inactive;
    every session ends (the security stamp changes) and every API token is revoked; the change
    is recorded (`person_changes_record`, `actor` None for the portal itself, e.g. a term that
    ended); `portal.signals.person_deactivated` is sent, so the open incidents of a registrar
    return to their desk unassigned (the desk is told) and the open cases of a member of the
    Ondersteuningsteam return to the team inbox (the team is told). Already inactive: nothing
    changes and False is returned. `person` is updated in place.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        if not locked.is_active:
            return False
        before = person_tracked_values(locked)
        locked.is_active = False
        locked.security_stamp = secrets.token_hex(16)
        locked.save(update_fields=["is_active", "security_stamp"])
        ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
        person_changes_record(actor=actor, person=locked, before=before, now=now)
        person_deactivated.send(sender=User, person=locked, actor=actor)
    person.is_active = False
    person.security_stamp = locked.security_stamp
    return True


# --- End of term ----------------------------------------------------------------------------

# Reminders before the account ends: days before the term end, each sent once per term end.
TERM_REMINDER_DAYS = (30, 7)


def person_local_date(person: User, now=None):
    """Today's date where the person lives (Europe or the Caribbean)."""
    return timezone.localdate(now or timezone.now(), ZoneInfo(person.time_zone))


def person_term_is_over(person: User, now=None) -> bool:
    """Whether the person's term has ended: the day after `term_end` began where they live."""
    return person.term_end is not None and person_local_date(person, now) > person.term_end


def term_reminders_send(*, now=None) -> int:
    """Remind people 30 and 7 days before their account ends, and their desk's coordinators.

    Guarantees: each reminder goes once per person, term end and number of days (the
    notification's event key names all three), however often this runs; a term end set
    closer than 30 days gets only the reminders still ahead; a changed term end reminds
    again for the new date. Returns how many people were reminded.
    """
    now = now or timezone.now()
    horizon = timezone.localdate(now) + timedelta(days=max(TERM_REMINDER_DAYS) + 1)
    reminded = 0
    people = User.objects.filter(
        is_active=True, term_ended_at__isnull=True, term_end__isnull=False, term_end__lte=horizon
    ).select_related("organisation", "desk")
    for person in people:
        days_left = (person.term_end - person_local_date(person, now)).days
        if not 0 <= days_left <= max(TERM_REMINDER_DAYS):
            continue
        # The nearest reminder still ahead: 30 from 30 to 8 days before, then 7.
        band = min(days for days in TERM_REMINDER_DAYS if days >= days_left)
        key = f"term-end-{band}:{person.pk}:{person.term_end.isoformat()}"
        created = notifications_create(
            recipients=[person],
            event_key=key,
            kind="term_ending",
            reference=person.term_end.strftime("%d-%m-%Y"),
            link=reverse("home"),
        )
        notifications_create(
            recipients=_person_coordinators(person),
            event_key=key,
            kind="term_ending_coordinator",
            reference=str(person)[:40],
            link=reverse("home"),
        )
        reminded += bool(created)
    return reminded


def person_term_end(*, person: User, keep_for_open: bool, now=None) -> str:
    """End the account of a person whose term is over (the portal itself, `actor` None).

    With nothing open (`keep_for_open` False) the account is deactivated
    (`person_deactivate`). With an open incident or support case, the account stays active
    for that only: `term_ended_at` is set (once), which the incident policy reads (only the
    open own incidents), and no new report can be filed (`user_policy` "file_for"); the
    change is recorded. Returns "deactivated", "kept" or "" (nothing changed).
    """
    now = now or timezone.now()
    if not keep_for_open:
        return "deactivated" if person_deactivate(actor=None, person=person, now=now) else ""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        if locked.term_ended_at is not None or not locked.is_active:
            return ""
        before = person_tracked_values(locked)
        locked.term_ended_at = now
        locked.save(update_fields=["term_ended_at"])
        person_changes_record(actor=None, person=locked, before=before, now=now)
    person.term_ended_at = now
    return "kept"


def person_term_resume(*, person: User, now=None) -> bool:
    """A term that was extended (a new term end ahead): the account is whole again.

    Clears `term_ended_at` and records it. Returns False when there was nothing to clear.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        if locked.term_ended_at is None or person_term_is_over(locked, now):
            return False
        before = person_tracked_values(locked)
        locked.term_ended_at = None
        locked.save(update_fields=["term_ended_at"])
        person_changes_record(actor=None, person=locked, before=before, now=now)
    person.term_ended_at = None
    return True


# --- The organisations register (CSV in the CBS format, README "Organisations register") -------

ORGANISATION_CSV_REQUIRED = ("code", "name", "type", "province")
ORGANISATION_CSV_OPTIONAL = ("ended_on", "successor_code")


@dataclass(frozen=True)
class ImportRowResult:
    """What an import did with one row: created, updated, unchanged or error (with why)."""

    line: int
    code: str
    outcome: str
    message: str = ""


def _choice_value(text: str, choices) -> str | None:
    """The code of a choice given as its code or its label, in any case ("Fryslân" too)."""
    wanted = text.strip().lower()
    for value, label in choices:
        if wanted in (str(value).lower(), str(label).lower()):
            return value
    return None


def _date_parse(text: str):
    """A date as 2026-03-18 or 18-03-2026; None for an empty text; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def organisations_import(*, data: bytes) -> list[ImportRowResult]:
    """Create or update organisations from a CSV in the CBS format; one result per row.

    Guarantees: an organisation is matched on its code, so importing the same file again
    changes nothing and never makes a second organisation; a row with a problem changes
    nothing and says why, the other rows are still imported. A row with `ended_on` ends the
    organisation (a herindeling) and `successor_code` names the one that follows it (in the
    database or elsewhere in the file). Desks are not set here: the functional administrator
    links a new organisation to its desk (until then the fallback desk gets its reports).
    Raises portal.csv_files.CsvFileError for a file that cannot be read at all.
    """
    from portal.constants import EmergencyNumber, OrganisationType, Province
    from portal.csv_files import csv_rows
    from portal.models import Organisation

    rows = csv_rows(data, required=ORGANISATION_CSV_REQUIRED, optional=ORGANISATION_CSV_OPTIONAL)
    results: dict[int, ImportRowResult] = {}
    successors: list[tuple[int, str, str]] = []
    seen_codes: set[str] = set()
    for row in rows:
        values = row.values
        code = values["code"].upper()
        problems = []
        kind = _choice_value(values["type"], OrganisationType.choices)
        province = _choice_value(values["province"], Province.choices) if values["province"] else ""
        if not code or len(code) > 10:
            problems.append(_("code ontbreekt of is langer dan 10 tekens"))
        elif code in seen_codes:
            problems.append(_("code staat twee keer in het bestand"))
        if not values["name"]:
            problems.append(_("naam ontbreekt"))
        if kind is None:
            problems.append(_("onbekende soort %(value)r") % {"value": values["type"]})
        if province is None:
            problems.append(_("onbekende provincie %(value)r") % {"value": values["province"]})
        elif not province and kind not in (None, OrganisationType.OPENBAAR_LICHAAM):
            problems.append(_("provincie ontbreekt"))
        try:
            ended_on = _date_parse(values["ended_on"])
        except ValueError:
            problems.append(
                _("datum opgeheven %(value)r klopt niet") % {"value": values["ended_on"]}
            )
            ended_on = None
        successor_code = values["successor_code"].upper()
        if successor_code and ended_on is None:
            problems.append(_("een opvolger hoort bij een datum opgeheven"))
        if successor_code and successor_code == code:
            problems.append(_("een organisatie volgt zichzelf niet op"))
        seen_codes.add(code)
        if problems:
            results[row.line] = ImportRowResult(row.line, code, "error", "; ".join(problems))
            continue
        caribbean = kind == OrganisationType.OPENBAAR_LICHAAM
        fields = {"name": values["name"], "type": kind, "province": province, "ended_on": ended_on}
        existing = Organisation.objects.filter(code=code).first()
        try:
            with transaction.atomic():
                if existing is None:
                    Organisation.objects.create(
                        code=code,
                        time_zone=TIME_ZONE_CARIBBEAN if caribbean else settings.TIME_ZONE,
                        emergency_number=(
                            EmergencyNumber.CARIBBEAN if caribbean else EmergencyNumber.NETHERLANDS
                        ),
                        **fields,
                    )
                    outcome = "created"
                else:
                    changed = [n for n, v in fields.items() if getattr(existing, n) != v]
                    for name in changed:
                        setattr(existing, name, fields[name])
                    if not successor_code and existing.successor_id:
                        changed.append("successor")
                        existing.successor = None
                    if changed:
                        existing.save()
                    outcome = "updated" if changed else "unchanged"
        except IntegrityError:
            results[row.line] = ImportRowResult(
                row.line,
                code,
                "error",
                _("de naam %(name)r hoort al bij een andere organisatie")
                % {"name": values["name"]},
            )
            continue
        results[row.line] = ImportRowResult(row.line, code, outcome)
        if successor_code:
            successors.append((row.line, code, successor_code))
    # Successors last: one may come later in the file than the organisation it follows.
    for line, code, successor_code in successors:
        organisation = Organisation.objects.get(code=code)
        successor = Organisation.objects.filter(code=successor_code).first()
        if successor is None or successor.ended_on is not None:
            results[line] = ImportRowResult(
                line,
                code,
                "error",
                _("opvolger %(code)s bestaat niet of is zelf opgeheven; de rest is opgeslagen")
                % {"code": successor_code},
            )
            continue
        if organisation.successor_id != successor.pk:
            organisation.successor = successor
            organisation.save(update_fields=["successor"])
            if results[line].outcome == "unchanged":
                results[line] = ImportRowResult(line, code, "updated")
    return [results[line] for line in sorted(results)]


# --- Delegated administration and invitations (README "Organisations and accounts") -----------

INVITATION_LINK_SALT = "portal.invitation"
INVITATION_SUBJECT = gettext_lazy("Uw account bij het Meldpunt Weerbaar Bestuur")
INVITATION_BODY = gettext_lazy(
    "Beste %(name)s,\n\n"
    "%(desk)s heeft een account voor u gemaakt bij het Meldpunt Weerbaar Bestuur. Hier meldt "
    "u agressie, bedreiging of intimidatie die u meemaakt in uw werk.\n\n"
    "Kies uw wachtwoord met deze link: %(url)s\n\n"
    "De link werkt één keer en is %(days)s dagen geldig. Is hij verlopen? Open hem toch: dan "
    "kunt u om een nieuwe link vragen.\n\n"
    "Verwachtte u deze e-mail niet? Dan kunt u hem negeren."
)


def invitation_token(invitation) -> str:
    """The secret of an invitation's link: derived from its nonce with SECRET_KEY (never
    stored), so the e-mail task can make the same link again after a failed attempt."""
    return salted_hmac(INVITATION_LINK_SALT, invitation.nonce, algorithm="sha256").hexdigest()[:40]


def _invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(invitation) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "invitation_accept", kwargs={"token": invitation_token(invitation)}
    )


def invitation_create(*, actor: User | None, person: User, now=None):
    """Make a new invitation for `person` and queue its e-mail after commit (mail queue).

    Guarantees: the person's earlier open invitations stop working (only the newest link
    works); the link works once, for INVITATION_VALID_DAYS; the row records who invited
    and when. Refused (DomainError) for a person who already uses their account or has no
    e-mail address.
    """
    from portal.models import Invitation

    now = now or timezone.now()
    if person_uses_account(person) and person.is_active:
        raise DomainError(
            _(
                "%(name)s gebruikt het account al. Een nieuw wachtwoord vraagt de persoon zelf "
                "aan met 'Wachtwoord vergeten'."
            )
            % {"name": person}
        )
    if not person.email:
        raise DomainError(_("Deze persoon heeft geen e-mailadres. Vul het eerst in."))
    with transaction.atomic():
        Invitation.objects.filter(
            person=person, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation(
            person=person,
            invited_by=actor,
            nonce=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + settings.INVITATION_VALID,
        )
        invitation.token_hash = _invitation_token_hash(invitation_token(invitation))
        invitation.save()
        transaction.on_commit(
            partial(task_publish, "portal.tasks.invitation_email", invitation.pk), robust=True
        )
    return invitation


def invitation_email_send(*, invitation_id: int) -> bool:
    """E-mail one invitation's link, unless it was sent, used or revoked meanwhile.

    Returns True when this call sent it. The link is made again from the row (see
    `invitation_token`), so a retried task sends the same link.
    """
    from portal.models import Invitation

    invitation = (
        Invitation.objects.select_related("person__organisation__desk", "person__desk")
        .filter(pk=invitation_id, emailed_at__isnull=True, used_at__isnull=True)
        .filter(revoked_at__isnull=True)
        .first()
    )
    if invitation is None or not invitation.person.email:
        return False
    person = invitation.person
    desk = _person_desk(person)
    with translation.override(person.preferred_language):
        send_mail(
            subject=str(INVITATION_SUBJECT),
            message=str(INVITATION_BODY)
            % {
                "name": person.get_full_name() or person.username,
                "desk": desk.name if desk else _("Het meldpunt"),
                "url": invitation_url(invitation),
                "days": settings.INVITATION_VALID.days,
            },
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[person.email],
        )
    Invitation.objects.filter(pk=invitation.pk).update(emailed_at=timezone.now())
    return True


def _person_desk(person: User) -> Desk | None:
    """The desk whose coordinators manage this person (their own, or their organisation's)."""
    if person.desk_id:
        return person.desk
    if person.organisation_id:
        from portal.selectors import desk_for_organisation

        return desk_for_organisation(organisation=person.organisation)
    return None


def _person_coordinators(person: User):
    """The coordinators who manage this person (none when no desk serves them)."""
    desk = _person_desk(person)
    return desk_coordinators(desk_id=desk.pk) if desk else User.objects.none()


@dataclass(frozen=True)
class InvitationState:
    """What an invitation link is now: `valid`, `expired` or `used` (used or replaced)."""

    invitation: object
    state: str


def invitation_for_token(*, token: str, now=None) -> InvitationState | None:
    """The invitation of a link and whether it still works; None for a link that never was."""
    from portal.models import Invitation

    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_related("person")
        .filter(token_hash=_invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        return None
    if invitation.used_at or invitation.revoked_at or person_uses_account(invitation.person):
        return InvitationState(invitation, "used")
    if invitation.expires_at <= now:
        return InvitationState(invitation, "expired")
    return InvitationState(invitation, "valid")


def invitation_accept(*, token: str, password: str, now=None) -> User:
    """The invited person chose a password: the account becomes active, the link is used.

    Guarantees, in one transaction under a lock on the invitation: a link is used once (a
    second click, or a second tab, is refused); an expired link is refused; the password
    passes Django's password validators (DomainError with their messages otherwise); the
    change to active is recorded with the person as actor; the person's other open
    invitations stop working.
    """
    from django.contrib.auth.password_validation import validate_password

    def choose_password(person):
        try:
            validate_password(password, user=person)
        except ValidationError as error:
            raise DomainError(" ".join(error.messages)) from None
        person.set_password(password)

    return _invitation_use(token=token, now=now, log_in_with=choose_password)


def _invitation_use(*, token: str, now, log_in_with) -> User:
    """Use an invitation's link: `log_in_with(person)` sets how the person logs in from now
    on (a password, or a provider's account); then the account is active, the link used,
    the person's other links revoked and the change recorded, all under a lock on the row."""
    from portal.models import Invitation

    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("person")
            .filter(token_hash=_invitation_token_hash(token))
            .first()
        )
        state = invitation_for_token(token=token, now=now) if invitation else None
        if state is None or state.state != "valid":
            raise DomainError(_("Deze link werkt niet meer. Vraag een nieuwe link aan."))
        person = invitation.person
        before = person_tracked_values(person)
        log_in_with(person)
        person.is_active = True
        person.save(update_fields=["password", "is_active"])
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        Invitation.objects.filter(
            person=person, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        person_changes_record(actor=person, person=person, before=before, now=now)
    return person


def person_uses_account(person: User) -> bool:
    """True when the person can log in: a password of their own, or a linked account at
    their organisation's identity provider (portal.sso)."""
    return person.has_usable_password() or person.external_identities.exists()


def invitation_accept_with_identity(
    *, token: str, provider: IdentityProvider, subject: str, now=None
) -> User:
    """The invited person logged in at `provider` as `subject`: that account is linked to
    them, their account becomes active, the link is used. No password is kept.

    Guarantees, as `invitation_accept`: one transaction under a lock on the invitation, a
    link works once and not after it expired; and: `provider` is the one that serves the
    person (`identity_provider_for`); a subject linked to somebody else is refused
    (DomainError); the link and the change to active are recorded with the person as actor.
    """

    def link(person):
        _identity_link(actor=person, person=person, provider=provider, subject=subject, now=now)
        person.set_unusable_password()

    return _invitation_use(token=token, now=now, log_in_with=link)


def external_identity_link(*, actor: User, person: User, subject: str, now=None):
    """A coordinator links a colleague to their account at the desk's identity provider.

    Guarantees: only for whom the actor may (`user_policy` "link_identity"); the desk must have
    an active provider; a subject linked to somebody else is refused; the person's password
    goes (from now on they log in through their organisation), every session and API token
    of theirs ends and they get a "was u dit?" e-mail (`account_security_change`).
    """
    user_policy.require(actor, "link_identity", person)
    provider = identity_provider_for(person)
    if provider is None:
        raise DomainError(_("Het meldpunt van deze persoon heeft geen eigen inlogdienst."))
    subject = subject.strip()
    if not subject:
        raise DomainError(_("Vul het inlog-ID van deze persoon bij de organisatie in."))
    with transaction.atomic():
        identity = _identity_link(
            actor=actor, person=person, provider=provider, subject=subject, now=now
        )
        person.set_unusable_password()
        person.save(update_fields=["password"])
        account_security_change(user=person, change=SecurityChange.ACCOUNT_LINKED)
    return identity


def external_identity_unlink(*, actor: User, person: User) -> int:
    """A coordinator removes a colleague's link (`user_policy` "link_identity"); see
    `external_identities_remove`."""
    user_policy.require(actor, "link_identity", person)
    return external_identities_remove(actor=actor, person=person)


def external_identities_remove(*, actor: User, person: User) -> int:
    """The person can no longer log in through their organisation: their links go, their
    sessions and API tokens end, and they get a "was u dit?" e-mail. To log in again they need
    a new invitation. Returns how many links went. The caller decides who may (a coordinator:
    `external_identity_unlink`; the functional administrator in the admin)."""
    from portal.models import ExternalIdentity

    with transaction.atomic():
        removed, _kinds = ExternalIdentity.objects.filter(person=person).delete()
        if removed:
            person_device_change_record(
                actor=actor, person=person, what=str(SecurityChange.ACCOUNT_UNLINKED.label)
            )
            account_security_change(user=person, change=SecurityChange.ACCOUNT_UNLINKED)
    return removed


def _identity_link(*, actor: User, person: User, provider: IdentityProvider, subject: str, now):
    from portal.models import ExternalIdentity

    if identity_provider_for(person) != provider:
        raise DomainError(_("Deze inlogdienst hoort niet bij het meldpunt van deze persoon."))
    taken = ExternalIdentity.objects.filter(issuer=provider.issuer, subject=subject)
    if taken.exclude(person=person).exists():
        raise DomainError(
            _("Dit account van de organisatie is al gekoppeld aan een andere persoon.")
        )
    identity, _created = ExternalIdentity.objects.update_or_create(
        person=person,
        provider=provider,
        defaults={
            "issuer": provider.issuer,
            "subject": subject,
            "linked_at": now or timezone.now(),
            "linked_by": actor,
        },
    )
    person_device_change_record(
        actor=actor, person=person, what=f"{SecurityChange.ACCOUNT_LINKED.label}: {provider}"
    )
    return identity


# A person asks at most once a day for a new link (the coordinators get one notification).
INVITATION_RENEWAL_EVERY = timedelta(days=1)


def invitation_renewal_request(*, token: str, now=None) -> bool:
    """The person of an expired or used link asks for a new one: the coordinators of their
    desk are notified (a reference and a link, never more).

    Rate-limited: once per link per day; returns False when nothing was sent (too soon, a
    link that works, or a link that never was). The answer on the page is the same either way.
    """
    from portal.models import Invitation

    now = now or timezone.now()
    state = invitation_for_token(token=token, now=now)
    if state is None or state.state == "valid":
        return False
    invitation = state.invitation
    with transaction.atomic():
        claimed = (
            Invitation.objects.filter(pk=invitation.pk)
            .filter(
                Q(renewal_requested_at__isnull=True)
                | Q(renewal_requested_at__lte=now - INVITATION_RENEWAL_EVERY)
            )
            .update(renewal_requested_at=now)
        )
        if not claimed:
            return False
        person = invitation.person
        desk = _person_desk(person)
        if desk is None:
            return False
        notifications_create(
            recipients=desk_coordinators(desk_id=desk.pk),
            event_key=f"invitation-renewal:{invitation.pk}:{now.date().isoformat()}",
            kind="invitation_renewal",
            reference=(person.get_full_name() or person.username)[:40],
            link=reverse("manage:person", kwargs={"pk": person.pk}),
        )
    return True


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    others = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def _term_check(term_start, term_end) -> None:
    if term_start and term_end and term_end < term_start:
        raise DomainError(_("Het einde van de termijn ligt voor het begin. Kies andere datums."))


def person_invite(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    email: str,
    organisation=None,
    function: str = "",
    term_start=None,
    term_end=None,
    now=None,
) -> User:
    """A coordinator makes an account and invites the person by e-mail.

    With an organisation: an officeholder of that organisation (one the coordinator's desk
    serves, not ended). Without: a registrar of the coordinator's own desk. Guarantees: the
    account stays inactive, without a usable password, until the person accepts; the
    e-mail address is unique (DomainError otherwise); the new account is recorded in the
    change record; a new staff account notifies the desk's coordinators.
    """
    from portal.constants import Role
    from portal.policies import organisation_policy, user_policy

    email = email.strip().lower()
    if _email_taken(email):
        raise DomainError(
            _("Er is al een account met het e-mailadres %(email)s.") % {"email": email}
        )
    _term_check(term_start, term_end)
    if organisation is not None:
        organisation_policy.require(
            actor,
            "add_officeholder",
            organisation,
            _("U kunt alleen ambtsdragers toevoegen aan organisaties van uw meldpunt."),
        )
        person = User(role=Role.OFFICEHOLDER, organisation=organisation, function=function)
    else:
        person = User(role=Role.REGISTRAR, desk_id=actor.desk_id)
    person.username = email[:150]
    person.email = email
    person.first_name = first_name.strip()[:150]
    person.last_name = last_name.strip()[:150]
    person.term_start = term_start
    person.term_end = term_end
    person.is_active = False
    person.set_unusable_password()
    with transaction.atomic():
        person.save()
        user_policy.require(actor, "manage", person)
        person_changes_record(actor=actor, person=person, before={}, now=now)
        invitation_create(actor=actor, person=person, now=now)
        staff_desk_changed_notify(person=person, before={})
    return person


def person_update(
    *, actor: User, person: User, function: str, organisation, term_start, term_end
) -> bool:
    """A coordinator changes an officeholder's function, organisation or term (a registrar's
    term only). Guarantees: both the person and the new organisation are within the
    coordinator's desk (NotAllowed otherwise); each change is recorded. Returns whether
    anything changed."""
    from portal.policies import organisation_policy, user_policy

    user_policy.require(actor, "manage", person)
    _term_check(term_start, term_end)
    before = person_tracked_values(person)
    if person.organisation_id:
        if organisation.pk != person.organisation_id:
            organisation_policy.require(
                actor,
                "add_officeholder",
                organisation,
                _("U kunt alleen ambtsdragers toevoegen aan organisaties van uw meldpunt."),
            )
            person.organisation = organisation
        person.function = function
    person.term_start = term_start
    person.term_end = term_end
    with transaction.atomic():
        person.save(update_fields=["organisation", "function", "term_start", "term_end"])
        changes = person_changes_record(actor=actor, person=person, before=before)
    return bool(changes)


def staff_desk_changed_notify(*, person: User, before: dict[str, str]) -> int:
    """A staff account was created on a desk or moved to one: its coordinators hear of it.

    Call after the change with the `person_tracked_values` of before ({} for a new account).
    Nobody is notified about themselves; returns how many notifications were made.
    """
    if not person.desk_id or before.get("desk") == str(person.desk):
        return 0
    recipients = [c for c in desk_coordinators(desk_id=person.desk_id) if c.pk != person.pk]
    created = notifications_create(
        recipients=recipients,
        event_key=f"staff-joined-desk:{person.pk}:{person.desk_id}:{uuid.uuid4().hex[:8]}",
        kind="staff_joined_desk",
        reference=(person.get_full_name() or person.username)[:40],
        link=reverse("manage:person", kwargs={"pk": person.pk}),
    )
    return len(created)


# --- After the elections: a CSV of officeholders (README "Importing officeholders") ------------

OFFICEHOLDER_CSV_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "function",
    "organisation_code",
    "term_start",
    "term_end",
)


@dataclass(frozen=True)
class OfficeholderRowCheck:
    """One row of an officeholder upload as checked: what will happen, or what is wrong."""

    line: int
    values: dict
    problems: tuple[str, ...]
    # "new" or "update" (an account with this e-mail address within the desk exists).
    plan: str = ""
    organisation_name: str = ""


def officeholder_rows_check(*, actor: User, data: bytes) -> list[OfficeholderRowCheck]:
    """Check every row of an officeholder CSV for the coordinator `actor`; writes nothing.

    Problems found per row: a missing name, a bad or duplicate e-mail address (within the
    file), an e-mail address of an account outside the desk or of staff, an unknown function
    code, an unknown organisation, one outside the desk, one that has ended, bad dates or an
    end before the start. Raises CsvFileError for a file that cannot be read.
    """
    from django.core.validators import validate_email

    from portal.constants import RETIRED_FUNCTIONS, OfficeholderFunction
    from portal.csv_files import csv_rows
    from portal.models import Organisation
    from portal.policies import organisation_policy, user_policy
    from portal.selectors import organisations_served_by

    rows = csv_rows(data, required=OFFICEHOLDER_CSV_COLUMNS)
    emails = [row.values["email"].strip().lower() for row in rows]
    codes = {row.values["organisation_code"].strip().upper() for row in rows}
    organisations = {o.code: o for o in Organisation.objects.filter(code__in=codes)}
    open_to = set(
        organisation_policy.queryset(actor, "add_officeholder")
        .filter(code__in=codes)
        .values_list("code", flat=True)
    )
    served = set(
        organisations_served_by(desk_id=actor.desk_id)
        .filter(code__in=codes)
        .values_list("code", flat=True)
    )
    managed = {
        person.email.lower(): person
        for person in user_policy.queryset(actor, "manage").filter(email__in=set(emails))
    }
    taken = set(User.objects.filter(email__in=set(emails)).values_list("email", flat=True))
    checked = []
    seen: dict[str, int] = {}
    for row, email in zip(rows, emails, strict=True):
        values = dict(row.values)
        problems = []
        if not values["first_name"] and not values["last_name"]:
            problems.append(_("naam ontbreekt"))
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("e-mailadres %(value)r klopt niet") % {"value": values["email"]})
        else:
            if email in seen:
                problems.append(
                    _("e-mailadres staat ook op regel %(line)s") % {"line": seen[email]}
                )
            seen.setdefault(email, row.line)
        existing = managed.get(email)
        if existing is None and email in taken:
            problems.append(_("dit e-mailadres hoort bij een account buiten uw meldpunt"))
        elif existing is not None and existing.organisation_id is None:
            problems.append(_("dit e-mailadres hoort bij een medewerker, niet bij een ambtsdrager"))
        function = _choice_value(values["function"], OfficeholderFunction.choices)
        retired = RETIRED_FUNCTIONS.get(values["function"].strip().lower())
        if retired is not None:
            problems.append(str(retired))
        elif function is None:
            problems.append(
                _("onbekende functie %(value)r (gebruik bijvoorbeeld raadslid of wethouder)")
                % {"value": values["function"]}
            )
        code = values["organisation_code"].strip().upper()
        organisation = organisations.get(code)
        if organisation is None:
            problems.append(_("onbekende organisatiecode %(value)r") % {"value": code})
        elif code not in served:
            problems.append(_("%(name)s hoort niet bij uw meldpunt") % {"name": organisation})
        elif code not in open_to:
            problems.append(_("%(name)s is opgeheven") % {"name": organisation})
        dates = {}
        for name, label in (("term_start", _("begin termijn")), ("term_end", _("einde termijn"))):
            try:
                dates[name] = _date_parse(values[name])
            except ValueError:
                problems.append(
                    _("%(label)s %(value)r is geen datum (schrijf 2026-03-30)")
                    % {"label": label, "value": values[name]}
                )
                dates[name] = None
        if dates["term_start"] and dates["term_end"] and dates["term_end"] < dates["term_start"]:
            problems.append(_("einde termijn ligt voor het begin"))
        values.update(
            email=email,
            function=function or "",
            organisation_code=code,
            term_start=dates["term_start"].isoformat() if dates["term_start"] else "",
            term_end=dates["term_end"].isoformat() if dates["term_end"] else "",
        )
        checked.append(
            OfficeholderRowCheck(
                line=row.line,
                values=values,
                problems=tuple(problems),
                plan="update" if existing is not None else "new",
                organisation_name=str(organisation or ""),
            )
        )
    return checked


def officeholder_import_prepare(*, actor: User, data: bytes, file_name: str):
    """Check an upload and, only when every row is valid, keep it for confirmation.

    Returns (the stored import or None, the checked rows). Nothing is created or changed
    while any row has a problem, and an empty file is refused (DomainError).
    """
    from portal.models import OfficeholderImport

    checked = officeholder_rows_check(actor=actor, data=data)
    if not checked:
        raise DomainError(_("Het bestand heeft geen regels met ambtsdragers."))
    if any(row.problems for row in checked):
        return None, checked
    upload = OfficeholderImport.objects.create(
        desk_id=actor.desk_id,
        uploaded_by=actor,
        file_name=file_name[:200],
        rows=json.dumps([{**row.values, "plan": row.plan} for row in checked], ensure_ascii=False),
        created_at=timezone.now(),
        total=len(checked),
    )
    return upload, checked


def officeholder_import_confirm(*, actor: User, upload) -> bool:
    """The coordinator confirms a checked upload: the background task is queued after commit.

    Guarantees: only an upload of the coordinator's own desk (NotAllowed), only once (a
    second click changes nothing, returns False).
    """
    from portal.models import ImportStatus, OfficeholderImport
    from portal.policies import officeholder_import_policy

    officeholder_import_policy.require(actor, "confirm", upload)
    with transaction.atomic():
        confirmed = OfficeholderImport.objects.filter(
            pk=upload.pk, status=ImportStatus.PREVIEW
        ).update(status=ImportStatus.QUEUED, confirmed_at=timezone.now())
        if confirmed:
            transaction.on_commit(
                partial(task_publish, "portal.tasks.officeholder_import_run", upload.pk),
                robust=True,
            )
    return bool(confirmed)


def officeholder_import_run(*, import_id: int) -> int:
    """Create or update the accounts of a confirmed upload and send the new ones an invitation.

    Guarantees: each row in its own transaction, together with the counts and the row
    checkpoint (`processed`), so a task that stops halfway goes on where it was and never
    makes an account twice; an account is matched on its e-mail address within the desk,
    so the same file again updates and never duplicates; only new accounts are invited;
    a row that cannot be applied any more (the coordinator's scope changed meanwhile) is
    counted as failed. Returns how many rows this call processed.
    """
    from portal.models import ImportStatus, OfficeholderImport, Organisation
    from portal.policies import user_policy

    upload = OfficeholderImport.objects.select_related("uploaded_by").get(pk=import_id)
    if upload.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return 0
    OfficeholderImport.objects.filter(pk=upload.pk).update(status=ImportStatus.RUNNING)
    actor = upload.uploaded_by
    rows = json.loads(upload.rows)
    done = 0
    for index in range(upload.processed, len(rows)):
        values = rows[index]
        counts = {}
        try:
            with transaction.atomic():
                organisation = Organisation.objects.get(code=values["organisation_code"])
                term_start = _date_parse(values["term_start"])
                term_end = _date_parse(values["term_end"])
                existing = (
                    user_policy.queryset(actor, "manage")
                    .filter(email__iexact=values["email"])
                    .first()
                )
                if existing is None:
                    person_invite(
                        actor=actor,
                        first_name=values["first_name"],
                        last_name=values["last_name"],
                        email=values["email"],
                        organisation=organisation,
                        function=values["function"],
                        term_start=term_start,
                        term_end=term_end,
                    )
                    counts = {"created_count": 1, "invited_count": 1}
                else:
                    names = (values["first_name"], values["last_name"])
                    renamed = names != (existing.first_name, existing.last_name)
                    if renamed:
                        existing.first_name, existing.last_name = names
                        existing.save(update_fields=["first_name", "last_name"])
                    changed = person_update(
                        actor=actor,
                        person=existing,
                        function=values["function"],
                        organisation=organisation,
                        term_start=term_start,
                        term_end=term_end,
                    )
                    counts = {"updated_count" if changed or renamed else "unchanged_count": 1}
                _import_progress(upload.pk, index, counts)
        except (DomainError, Organisation.DoesNotExist, ValueError) as error:
            logger.warning("Officeholder import %s row %s failed: %s", upload.pk, index, error)
            with transaction.atomic():
                _import_progress(upload.pk, index, {"failed_count": 1})
        done += 1
    OfficeholderImport.objects.filter(pk=upload.pk).update(
        status=ImportStatus.DONE, finished_at=timezone.now()
    )
    return done


def _import_progress(import_id: int, index: int, counts: dict[str, int]) -> None:
    from django.db.models import F

    from portal.models import OfficeholderImport

    OfficeholderImport.objects.filter(pk=import_id, processed=index).update(
        processed=index + 1, **{name: F(name) + value for name, value in counts.items()}
    )


RESET_LINK_EMAIL_TEMPLATE = "portal/email/password_reset.txt"
RESET_LINK_SUBJECT_TEMPLATE = "portal/email/password_reset_subject.txt"


def password_reset_email_send(*, person: User) -> bool:
    """Send `person` the e-mail with a link to choose a new password themselves (the same
    e-mail as "wachtwoord vergeten", links to PORTAL_BASE_URL). Nobody else sets it.

    Returns False, sending nothing, for an inactive account, one without an e-mail address
    or one without a password yet (that person needs an invitation).
    """
    from django.contrib.auth.forms import PasswordResetForm

    class OnePersonResetForm(PasswordResetForm):
        def get_users(self, email):
            return [person]

    if not (person.is_active and person.email and person.has_usable_password()):
        return False
    form = OnePersonResetForm({"email": person.email})
    form.is_valid()
    form.save(
        # The link's host comes from PORTAL_BASE_URL, never from a request.
        domain_override=settings.PORTAL_BASE_URL.split("://", 1)[-1].split("/", 1)[0],
        subject_template_name=RESET_LINK_SUBJECT_TEMPLATE,
        email_template_name=RESET_LINK_EMAIL_TEMPLATE,
        extra_email_context={"portal_base_url": settings.PORTAL_BASE_URL.rstrip("/")},
    )
    return True
