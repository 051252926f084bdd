"""Reads about people, organisations and desks."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.access import api_token_is_active, api_token_works_until
from portal.models import (
    ApiToken,
    Desk,
    Notification,
    Organisation,
    OutboxEntry,
    OutboxStatus,
    SiteConfiguration,
    User,
    WorkerHeartbeat,
)


def site_configuration_get() -> SiteConfiguration:
    """The one configuration row; created empty on first use."""
    configuration, _ = SiteConfiguration.objects.select_related("fallback_desk").get_or_create(pk=1)
    return configuration


def desk_for_organisation(*, organisation: Organisation) -> Desk | None:
    """The desk that handles this organisation's incidents: its own desk, else the fallback."""
    if organisation.desk_id:
        return organisation.desk
    return site_configuration_get().fallback_desk


def organisations_without_desk() -> QuerySet[Organisation]:
    return Organisation.objects.filter(desk__isnull=True)


def desk_colleagues(*, desk: Desk) -> QuerySet[User]:
    return User.objects.filter(desk=desk, is_active=True).order_by("first_name", "last_name")


def outbox_failed_count() -> int:
    """How many outbox entries failed for good (the administrator has to look)."""
    return OutboxEntry.objects.filter(status=OutboxStatus.FAILED).count()


def worker_heartbeat_get(*, name: str) -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(name=name).first()


def notifications_for(*, user: User, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user)[:limit])


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def api_tokens_for(*, user: User) -> list[ApiToken]:
    """The person's tokens, each with `works_until` and `is_active` for the profile page."""
    tokens = list(ApiToken.objects.filter(user=user).select_related("user"))
    now = timezone.now()
    for token in tokens:
        token.works_until = api_token_works_until(token)
        token.is_active = api_token_is_active(token, now=now)
    return tokens


def desk_registrars_active(*, desk_id: int) -> QuerySet[User]:
    """The active staff of a desk."""
    return User.objects.filter(desk_id=desk_id, is_active=True).order_by("pk")


def organisations_served_by(*, desk_id: int) -> QuerySet[Organisation]:
    """The organisations whose incidents this desk handles (the fallback desk also gets those
    without a desk of their own)."""
    served = Q(desk_id=desk_id)
    if site_configuration_get().fallback_desk_id == desk_id:
        served |= Q(desk__isnull=True)
    return Organisation.objects.filter(served).order_by("name")


def organisation_current(*, organisation: Organisation) -> Organisation | None:
    """The organisation that exists today in place of `organisation`: itself, or after a
    herindeling its successor (followed to the end of the chain). None when it ended without
    one."""
    seen = set()
    while organisation is not None and organisation.is_ended():
        if organisation.pk in seen:
            return None
        seen.add(organisation.pk)
        organisation = organisation.successor
    return organisation
