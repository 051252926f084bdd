"""Writes about people, organisations, notifications and the portal itself."""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from portal import two_factor
from portal.access import api_token_is_active, api_token_lifetime
from portal.constants import SecurityChange, SecurityNotice
from portal.login_protection import client_ip
from portal.models import (
    AccessAction,
    AccessLogEntry,
    ApiToken,
    Notification,
    User,
    WorkerHeartbeat,
)
from portal.notifications import notification_body, notification_subject
from portal.publishing import task_publish

logger = logging.getLogger(__name__)


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


def queue_notification_email(notification_id: int) -> None:
    """Publish the e-mail task; never fails the caller (the sweeper retries unsent rows)."""
    task_publish("portal.tasks.notification_email", notification_id)


def notifications_unsent(*, older_than, limit: int = 500) -> list[int]:
    """Ids of notifications not yet e-mailed that were created before `older_than`."""
    return list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lte=older_than)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification, once. Returns False when already sent or gone.

    The row is locked while sending, so two workers running this at once send one e-mail.
    """
    with transaction.atomic():
        # Lock the notification only: locking the joined user row too would block the
        # recipient's login, and every row pointing at them, while the mail server answers.
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        recipient = notification.recipient
        if recipient.email:
            url = settings.PORTAL_BASE_URL.rstrip("/") + notification.link
            with translation.override(recipient.preferred_language):
                send_mail(
                    subject=notification_subject(
                        kind=notification.kind, reference=notification.reference
                    ),
                    message=notification_body(
                        kind=notification.kind, reference=notification.reference, url=url
                    ),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[recipient.email],
                )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
        return True


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


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
    return AccessLogEntry.objects.create(
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
