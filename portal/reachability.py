"""Who really handles the reports of an organisation now: the one routing rule of the portal.

A desk is *reachable* when somebody will read what arrives there: it has an active registrar,
or its mailbox confirmed within DESK_MAILBOX_CONFIRMATION_VALID (8 days) that it is read (the
weekly link in `portal.services.desk_mailbox_confirmations_send` was clicked for the desk's
current address). Having an e-mail address is not enough.

`route_for_organisation` applies the rule: the organisation's own desk (the fallback desk of the
site configuration when it has none) if it is reachable; else the fallback desk if that is
reachable; else no desk can look and the report goes to the Ondersteuningsteam. Filing
(`incidents.services.incident_submit`), the reachability watchdog
(`incidents.services.incidents_reroute`) and the officeholder's confirmation
(`incidents.selectors.incident_handler_for`) all ask this module, nothing else decides it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from portal.models import Desk, Organisation, User

# How long a click on the weekly mailbox confirmation keeps a desk reachable (one week and a
# day of slack, so a desk that clicks every Monday morning never drops out).
DESK_MAILBOX_CONFIRMATION_VALID = timedelta(days=8)


def _active_staff(desk_ref) -> Exists:
    # Only registrars have a desk (a database constraint), so this names the desk's staff.
    return Exists(User.objects.filter(desk_id=desk_ref, is_active=True))


def mailbox_confirmed_q(*, now: datetime) -> Q:
    """Desks whose current mailbox address was confirmed within the last 8 days."""
    return (
        ~Q(email="")
        & Q(mailbox_confirmed_email=F("email"))
        & Q(mailbox_confirmed_at__gte=now - DESK_MAILBOX_CONFIRMATION_VALID)
    )


def reachable_q(*, now: datetime | None = None) -> Q:
    """Desks that somebody reads: an active registrar, or a confirmed mailbox."""
    now = now or timezone.now()
    return Q(_active_staff(OuterRef("pk"))) | mailbox_confirmed_q(now=now)


def mailbox_is_confirmed(desk: Desk, *, now: datetime | None = None) -> bool:
    """The same rule as `mailbox_confirmed_q`, for one loaded desk."""
    now = now or timezone.now()
    return bool(
        desk.email
        and desk.mailbox_confirmed_email == desk.email
        and desk.mailbox_confirmed_at is not None
        and desk.mailbox_confirmed_at >= now - DESK_MAILBOX_CONFIRMATION_VALID
    )


def desk_is_reachable(desk: Desk | None, *, now: datetime | None = None) -> bool:
    """Whether somebody reads what arrives at this desk now (no desk: nobody)."""
    if desk is None:
        return False
    if mailbox_is_confirmed(desk, now=now):
        return True
    return User.objects.filter(desk_id=desk.pk, is_active=True).exists()


@dataclass(frozen=True)
class Route:
    """Where a report of one organisation goes now.

    `home_desk` is the desk that ought to handle it (the organisation's own, or the fallback
    desk for an organisation without one); `desk` is the desk that will really look, or None
    when no desk can and the Ondersteuningsteam takes it.
    """

    home_desk: Desk | None
    desk: Desk | None

    @property
    def to_support(self) -> bool:
        return self.desk is None

    @property
    def moved(self) -> bool:
        """The report goes elsewhere than its home desk (the fallback desk or the team)."""
        if self.home_desk is None:
            return False
        return self.desk is None or self.desk.pk != self.home_desk.pk


def fallback_desk() -> Desk | None:
    from portal.selectors import site_configuration_get

    return site_configuration_get().fallback_desk


def route_for_desk(home_desk: Desk | None, *, now: datetime | None = None) -> Route:
    """The route for reports whose home is `home_desk`: it, else the fallback, else support."""
    now = now or timezone.now()
    if desk_is_reachable(home_desk, now=now):
        return Route(home_desk=home_desk, desk=home_desk)
    fallback = fallback_desk()
    if fallback is not None and desk_is_reachable(fallback, now=now):
        return Route(home_desk=home_desk, desk=fallback)
    return Route(home_desk=home_desk, desk=None)


def route_for_organisation(*, organisation: Organisation, now: datetime | None = None) -> Route:
    """Who really handles reports of this organisation now (see the module docstring)."""
    home = organisation.desk if organisation.desk_id else fallback_desk()
    return route_for_desk(home, now=now)


@dataclass(frozen=True)
class DeskReachability:
    """One desk's state for the administrator."""

    desk: Desk
    active_staff: int
    mailbox_confirmed: bool
    reachable: bool


def desks_reachability(*, now: datetime | None = None) -> list[DeskReachability]:
    """Every desk with its active staff count and mailbox state, in one query."""
    from django.db.models import Count

    now = now or timezone.now()
    desks = Desk.objects.annotate(
        active_staff=Count("registrars", filter=Q(registrars__is_active=True))
    ).order_by("name")
    rows = []
    for desk in desks:
        confirmed = mailbox_is_confirmed(desk, now=now)
        rows.append(
            DeskReachability(
                desk=desk,
                active_staff=desk.active_staff,
                mailbox_confirmed=confirmed,
                reachable=confirmed or desk.active_staff > 0,
            )
        )
    return rows


def desks_unreachable(*, now: datetime | None = None) -> list[DeskReachability]:
    """The desks nobody reads now (the administrator's home page warns about these)."""
    return [row for row in desks_reachability(now=now) if not row.reachable]
