"""Reads about people, organisations and desks."""

from dataclasses import dataclass
from datetime import date

from django.db.models import OuterRef, Q, QuerySet, Subquery
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
    absent_on_q,
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


def covered_colleagues(*, user: User, day: date | None = None) -> QuerySet[User]:
    """The colleagues `user` covers on `day` (today): absent then, with `user` named as cover.

    One rule for the desk and the team: a colleague whom `user` could name as cover too
    (policy rule `name_as_cover`, which is symmetric), so nobody else's work ever shows up.
    A queryset, so that lists can use it as a subquery."""
    from portal.policies import user_policy

    return user_policy.queryset(user, "name_as_cover").filter(
        absent_on_q(day or timezone.localdate()), cover=user
    )


def covered_colleagues_for(*, user: User) -> dict[int, str]:
    """The colleagues `user` covers today (absence cover), by id, with their names."""
    return {person.pk: str(person) for person in covered_colleagues(user=user)}


def covers(*, user: User, person: User | None, day: date | None = None) -> bool:
    """Whether `user` covers `person` on `day` (today): the same rule as `covered_colleagues`,
    on a person already loaded (a list's handler or owner), so a list needs no extra query."""
    from portal.policies import user_policy

    return bool(
        person is not None
        and person.cover_id == user.pk
        and person.is_absent(day or timezone.localdate())
        and user_policy.allows(user, "name_as_cover", person)
    )


def colleagues_to_cover(*, user: User) -> QuerySet[User]:
    """Whom this person may name as cover while absent: a registrar a colleague of the same
    desk, a team member another member of the Ondersteuningsteam."""
    from portal.policies import user_policy

    return user_policy.queryset(user, "name_as_cover").order_by(
        "first_name", "last_name", "username"
    )


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


@dataclass(frozen=True)
class ManagedPerson:
    """One row of a coordinator's people list."""

    pk: int
    name: str
    email: str
    is_officeholder: bool
    where: str  # the organisation (officeholder) or the desk (colleague)
    function: str
    term_end: date | None
    state: str  # active, invited, invitation_expired, off


def _person_state(person, *, now) -> str:
    if person.is_active:
        return "active"
    if person.has_usable_password():
        return "off"
    expires = person.invitation_expires_at
    if expires is None:
        return "off"
    return "invited" if expires > now else "invitation_expired"


def people_managed_by(*, user: User, search: str = "", limit: int = 200) -> list[ManagedPerson]:
    """The people this coordinator manages (their desk's organisations' officeholders and
    their desk's colleagues), searched on name or e-mail, officeholders by organisation.

    Two queries at most, whatever the number of people: the served organisations' subquery
    and the people with their latest open invitation (`tests/portal/test_manage.py`).
    """
    from portal.models import Invitation
    from portal.policies import user_policy

    open_invitation = Invitation.objects.filter(
        person=OuterRef("pk"), used_at__isnull=True, revoked_at__isnull=True
    ).order_by("-created_at")
    people = (
        user_policy.queryset(user, "manage")
        .select_related("organisation", "desk")
        .annotate(invitation_expires_at=Subquery(open_invitation.values("expires_at")[:1]))
        .order_by("organisation__name", "last_name", "first_name", "pk")
    )
    for word in search.split()[:5]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    now = timezone.now()
    return [
        ManagedPerson(
            pk=person.pk,
            name=person.get_full_name() or person.username,
            email=person.email,
            is_officeholder=person.organisation_id is not None,
            where=str(person.organisation or person.desk or ""),
            function=person.get_function_display(),
            term_end=person.term_end,
            state=_person_state(person, now=now),
        )
        for person in people[:limit]
    ]


def person_managed_state(*, person: User) -> str:
    """The state of one managed person, as in the list (active, invited, ...)."""
    from portal.models import Invitation

    latest = (
        Invitation.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    person.invitation_expires_at = latest.expires_at if latest else None
    return _person_state(person, now=timezone.now())


def person_invitations(*, person: User) -> list:
    """Every invitation sent to the person, newest first (the record of sendings)."""
    from portal.models import Invitation

    invitations = list(
        Invitation.objects.filter(person=person).select_related("invited_by").order_by("-pk")
    )
    now = timezone.now()
    for invitation in invitations:
        if invitation.used_at:
            invitation.state = "used"
        elif invitation.revoked_at:
            invitation.state = "revoked"
        else:
            invitation.state = "valid" if invitation.expires_at > now else "expired"
    return invitations


def organisations_open_to(*, user: User) -> QuerySet[Organisation]:
    """The organisations this coordinator may give officeholders (served, not ended)."""
    from portal.policies import organisation_policy

    return organisation_policy.queryset(user, "add_officeholder").order_by("name")


def officeholder_import_rows(*, upload) -> list[dict]:
    """The rows of a stored upload, with the organisation's name, for its preview page."""
    import json

    rows = json.loads(upload.rows)
    names = dict(
        Organisation.objects.filter(
            code__in={row["organisation_code"] for row in rows}
        ).values_list("code", "name")
    )
    from portal.constants import OfficeholderFunction

    functions = dict(OfficeholderFunction.choices)
    return [
        {
            **row,
            "organisation_name": names.get(row["organisation_code"], row["organisation_code"]),
            "function_label": functions.get(row["function"], row["function"]),
        }
        for row in rows
    ]


def security_advice_allowed(function: str) -> bool:
    """Whether an officeholder with this function may ask for a security advice (the one rule).

    The administrator's row for the function decides (`SecurityAdviceEligibility`); without a
    row, `SECURITY_ADVICE_DEFAULTS` does. An empty or unknown function never qualifies.
    """
    from portal.constants import SECURITY_ADVICE_DEFAULTS
    from portal.models import SecurityAdviceEligibility

    if not function:
        return False
    row = SecurityAdviceEligibility.objects.filter(function=function).first()
    if row is not None:
        return row.may_request
    return SECURITY_ADVICE_DEFAULTS.get(function, False)
