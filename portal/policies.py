"""Who may see and do what: one policy per model, each answering two questions from one table.

A policy (after wagtail's permission policies) holds, per action, which roles may take it and
under which condition on the object. From that one definition it answers both
`queryset(user, action)` (which objects) and `allows(user, action, obj)` (this object), so a
list, a page, the API and a service can never disagree. `require` is the services' form of
`allows`; `get` fetches and checks in one call and answers 404 for anything out of scope, the
same as for something that does not exist.

A `Condition` is the relation between a person and an object, written once as a queryset filter
and once as a test on a loaded object, side by side. `tests/portal/test_policies.py` checks for
every policy, action, role and object that the two agree.

Policies are the only modules that look at a person's role (`tests/test_role_checks.py`).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.constants import Role
from portal.errors import NotAllowed
from portal.kept_forms import login_redirect


@dataclass(frozen=True)
class Condition:
    """A relation between a person and an object: `q(user)` filters, `test(user, obj)` checks."""

    q: Callable[[Any], Q]
    test: Callable[[Any, Any], bool]
    # For people reading docs/permissions.md, e.g. "own incident" (lazy, translated when read).
    labels: tuple = ()

    def __and__(self, other: "Condition") -> "Condition":
        return Condition(
            q=lambda user: self.q(user) & other.q(user),
            test=lambda user, obj: self.test(user, obj) and other.test(user, obj),
            labels=self.labels + other.labels,
        )

    def __or__(self, other: "Condition") -> "Condition":
        return Condition(
            q=lambda user: self.q(user) | other.q(user),
            test=lambda user, obj: self.test(user, obj) or other.test(user, obj),
            labels=(format_lazy("{} / {}", _joined(self.labels), _joined(other.labels)),),
        )

    @property
    def label(self) -> str:
        return ", ".join(str(part) for part in self.labels if part)


def _joined(labels: tuple):
    parts = [part for part in labels if part]
    return format_lazy(", ".join(["{}"] * len(parts)), *parts)


ANY = Condition(q=lambda user: Q(), test=lambda user, obj: True)


def status_label(statuses: Iterable, choices) -> object:
    """ "status Ontvangen, In behandeling" for the permissions document (lazy, in enum order)."""
    wanted = set(statuses)
    labels = [label for value, label in choices if value in wanted]
    return format_lazy("{} " + ", ".join(["{}"] * len(labels)), _("status"), *labels)


def field_in(field: str, values: Iterable, label="") -> Condition:
    """The object's `field` holds one of `values` (e.g. its status)."""
    values = frozenset(values)
    return Condition(
        q=lambda user: Q(**{f"{field}__in": sorted(values)}),
        test=lambda user, obj: getattr(obj, field) in values,
        labels=(label,),
    )


def action_rules(action, status_choices, extra: "Condition | None" = None) -> dict:
    """The policy rules of one workflow action: each role's relation, in the statuses the action
    starts from (and `extra`, e.g. "not anonymised")."""
    starts = field_in(
        "status", action.from_statuses, label=status_label(action.from_statuses, status_choices)
    )
    rules = {}
    for role, relation in action.who.items():
        rules[role] = relation & starts & extra if extra is not None else relation & starts
    return rules


def person_active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


# action -> role -> condition on the object. A role that is not listed may not take the action.
Rules = Mapping[str, Mapping[str, Condition]]


class Policy:
    """Who may take which action on the objects of one model (see the module docstring)."""

    rules: Rules = {}
    # Human-readable names of the actions, for docs/permissions.md.
    action_labels: Mapping[str, str] = {}

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def condition(self, user, action: str) -> Condition | None:
        """The condition this person must meet for `action`, or None when their role may not."""
        if not person_active(user):
            return None
        try:
            by_role = self.rules[action]
        except KeyError:
            raise ValueError(f"{type(self).__name__} has no action {action!r}") from None
        return by_role.get(user.role)

    def queryset(self, user, action: str = "view", *, queryset: QuerySet | None = None):
        """The objects this person may take `action` on (all of them, filtered in the database)."""
        objects = self.base_queryset() if queryset is None else queryset
        condition = self.condition(user, action)
        if condition is None:
            return objects.none()
        return objects.filter(condition.q(user))

    def allows(self, user, action: str, obj) -> bool:
        condition = self.condition(user, action)
        return condition is not None and condition.test(user, obj)

    def require(self, user, action: str, obj, message=None) -> None:
        """Raise NotAllowed unless the person may take `action` on `obj` now."""
        if not self.allows(user, action, obj):
            raise NotAllowed(message)

    def get(self, user, action: str = "view", *, queryset: QuerySet | None = None, **lookup):
        """Fetch and check in one call: the object, or 404 when missing or out of scope."""
        try:
            return self.queryset(user, action, queryset=queryset).get(**lookup)
        except ObjectDoesNotExist:
            raise Http404 from None

    def actions_allowed(self, user, obj, actions: Iterable[str] | None = None) -> list[str]:
        """The actions (in table order) this person may take on `obj` right now."""
        names = self.rules if actions is None else actions
        return [name for name in names if self.allows(user, name, obj)]

    def describe(self) -> list[tuple[str, str, str]]:
        """(action, role, condition label) rows for the permissions document."""
        return [
            (action, role, condition.label)
            for action, by_role in self.rules.items()
            for role, condition in by_role.items()
        ]


# --- The portal's own policies ----------------------------------------------------------------


def _is_self(user, other) -> bool:
    return other.pk == user.pk


SELF = Condition(q=lambda user: Q(pk=user.pk), test=_is_self, labels=(_("zichzelf"),))


class Workspace:
    """The parts of the portal a person can open; each answers 404 for everyone else."""

    LABELS = {
        "report": _("Eigen meldingen (melden, volgen, berichten)"),
        "desk": _("Werkplek van het meldpunt"),
        "support": _("Werkplek van het Ondersteuningsteam"),
        "admin": _("Functioneel beheer"),
        "manage": _("Beheer van de mensen van het eigen meldpunt (coördinator)"),
        "statistics": _("Cijfers (alleen tellingen, kleine aantallen verborgen)"),
    }

    REPORT = "report"  # the officeholder's own reports
    DESK = "desk"  # the meld- en steunpunt's queue and incident pages
    SUPPORT = "support"  # the Ondersteuningsteam's inbox and case pages
    ADMIN = "admin"  # the functional administration (the Django admin)
    MANAGE = "manage"  # a desk coordinator's people pages ("Beheer")
    STATISTICS = "statistics"  # the figures (portal.statistics): aggregates only


WORKSPACE_ROLES = {
    Workspace.REPORT: {Role.OFFICEHOLDER},
    Workspace.DESK: {Role.REGISTRAR},
    Workspace.SUPPORT: {Role.SUPPORT},
    Workspace.ADMIN: {Role.ADMIN},
    Workspace.MANAGE: {Role.REGISTRAR},
    Workspace.STATISTICS: {Role.REGISTRAR, Role.SUPPORT, Role.ANALYST},
}
# A workspace that needs more than the role: the coordinator flag (a registrar's, by the
# database constraint).
WORKSPACE_CONDITIONS = {Workspace.MANAGE: lambda user: bool(user.is_coordinator)}


def workspaces_for(user) -> frozenset[str]:
    """The workspaces this person may open (what their menu shows)."""
    if not person_active(user):
        return frozenset()
    return frozenset(
        name
        for name, roles in WORKSPACE_ROLES.items()
        if user.role in roles and WORKSPACE_CONDITIONS.get(name, lambda user: True)(user)
    )


def workspace_required(workspace: str):
    """View decorator: anonymous users go to the login page; anyone else without the
    workspace gets a 404, exactly like a page that does not exist."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return login_redirect(request)
            if workspace not in workspaces_for(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def home_template_for(user) -> str:
    """The start page of this person's role."""
    return {
        Role.OFFICEHOLDER: "portal/home_officeholder.html",
        Role.REGISTRAR: "portal/home_registrar.html",
        Role.SUPPORT: "portal/home_support.html",
        Role.ADMIN: "portal/home_admin.html",
        Role.ANALYST: "portal/home_analyst.html",
    }[user.role]


def _colleague_of(user, other) -> bool:
    return other.desk_id is not None and other.desk_id == user.desk_id and other.is_active


def _serves(user, other) -> bool:
    # Imported here: portal's selectors import this module's neighbours.
    from portal.selectors import organisations_served_by

    return bool(
        user.desk_id
        and other.organisation_id
        and other.is_active
        and organisations_served_by(desk_id=user.desk_id).filter(pk=other.organisation_id).exists()
    )


def _served_q(user) -> Q:
    from portal.selectors import organisations_served_by

    return Q(organisation__in=organisations_served_by(desk_id=user.desk_id), is_active=True)


COLLEAGUE = Condition(
    q=lambda user: Q(desk_id=user.desk_id, is_active=True),
    test=_colleague_of,
    labels=(_("collega van hetzelfde meldpunt"),),
)
OTHER_REGISTRAR = Condition(
    q=lambda user: Q(role=Role.REGISTRAR) & ~Q(pk=user.pk),
    test=lambda user, other: other.role == Role.REGISTRAR and other.pk != user.pk,
    labels=(_("een ander dan zichzelf"),),
)
SERVED_OFFICEHOLDER = Condition(
    q=lambda user: _served_q(user) & Q(role=Role.OFFICEHOLDER),
    test=lambda user, other: other.role == Role.OFFICEHOLDER and _serves(user, other),
    labels=(_("ambtsdrager van een organisatie van het eigen meldpunt"),),
)
IN_TERM = Condition(
    q=lambda user: Q(term_ended_at__isnull=True),
    test=lambda user, other: other.term_ended_at is None,
    labels=(_("termijn niet voorbij"),),
)
TEAM_MEMBER = Condition(
    q=lambda user: Q(role=Role.SUPPORT, is_active=True),
    test=lambda user, other: other.role == Role.SUPPORT and other.is_active,
    labels=(_("lid van het Ondersteuningsteam"),),
)
NOT_SELF = Condition(
    q=lambda user: ~Q(pk=user.pk),
    test=lambda user, other: other.pk != user.pk,
    labels=(_("een ander dan zichzelf"),),
)


def _coordinator_desk(user):
    return user.desk_id if user.is_coordinator and user.desk_id else None


def _coordinated_q(user) -> Q:
    from portal.selectors import organisations_served_by

    desk_id = _coordinator_desk(user)
    if desk_id is None:
        return Q(pk__in=[])
    return (
        Q(role=Role.REGISTRAR, desk_id=desk_id)
        | Q(role=Role.OFFICEHOLDER, organisation__in=organisations_served_by(desk_id=desk_id))
    ) & ~Q(pk=user.pk)


def _coordinates(user, other) -> bool:
    from portal.selectors import organisations_served_by

    desk_id = _coordinator_desk(user)
    if desk_id is None or other.pk == user.pk:
        return False
    if other.role == Role.REGISTRAR:
        return other.desk_id == desk_id
    return bool(
        other.role == Role.OFFICEHOLDER
        and other.organisation_id
        and organisations_served_by(desk_id=desk_id).filter(pk=other.organisation_id).exists()
    )


# Active or not: a coordinator also manages people who are invited or deactivated.
COORDINATED_PERSON = Condition(
    q=_coordinated_q,
    test=_coordinates,
    labels=(
        _(
            "coördinator: ambtsdrager van een organisatie van het eigen meldpunt, of andere "
            "medewerker van het eigen meldpunt"
        ),
    ),
)


def team_members():
    """The active members of the Ondersteuningsteam (who may handle cases and own actions)."""
    from portal.models import User

    return User.objects.filter(TEAM_MEMBER.q(None)).order_by("first_name", "last_name", "username")


def administrators():
    """The active functional administrators (who are alerted when a desk cannot be reached)."""
    from portal.models import User

    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk")


class UserPolicy(Policy):
    """People: whom a person may see, file for, or give work to."""

    rules = {
        # A registrar files an incident on behalf of an officeholder of the desk.
        # Nobody files a new report for a person whose term is over (portal.services.
        # person_term_end): their open incidents stay theirs, nothing new starts.
        "file_for": {
            Role.OFFICEHOLDER: SELF & IN_TERM,
            Role.REGISTRAR: SERVED_OFFICEHOLDER & IN_TERM,
        },
        # Who can be the handler of the desk's incident (a colleague, or oneself).
        "assign_incident_to": {Role.REGISTRAR: COLLEAGUE},
        # Who can handle a support case or own a support action.
        "give_case_to": {Role.SUPPORT: TEAM_MEMBER},
        # Absence cover: whom a person may name to see their work while away: a registrar
        # a colleague of the same desk (open incidents), a team member another active team
        # member (cases and actions). Either colleague may already act on that work. The
        # relation is symmetric, so the same rule also says whose work one may cover
        # (`portal.selectors.covered_colleagues`).
        "name_as_cover": {
            Role.REGISTRAR: COLLEAGUE & OTHER_REGISTRAR,
            Role.SUPPORT: TEAM_MEMBER & NOT_SELF,
        },
        # Marking oneself absent (and back).
        "set_absence": {Role.REGISTRAR: SELF, Role.SUPPORT: SELF},
        # Delegated administration: invite again, change function, organisation or term,
        # deactivate (the coordinator's "Beheer" pages).
        "manage": {Role.REGISTRAR: COORDINATED_PERSON},
        # Linking a colleague to their account at the desk's identity provider (portal.sso).
        "link_identity": {Role.REGISTRAR: COORDINATED_PERSON & OTHER_REGISTRAR},
    }
    action_labels = {
        "manage": _("beheren (uitnodigen, wijzigen, uitschakelen)"),
        "link_identity": _("koppelen aan het account bij de eigen organisatie"),
        "file_for": _("melden voor deze persoon"),
        "assign_incident_to": _("melding toewijzen aan deze persoon"),
        "give_case_to": _("dossier of actie geven aan deze persoon"),
        "name_as_cover": _("als waarnemer noemen bij afwezigheid"),
        "set_absence": _("afwezigheid en waarnemer instellen"),
    }

    def base_queryset(self):
        from portal.models import User

        return User.objects.all()


def _own_notification(user, notification) -> bool:
    return notification.recipient_id == user.pk


OWN_NOTIFICATION = Condition(
    q=lambda user: Q(recipient=user), test=_own_notification, labels=(_("eigen notificatie"),)
)


class NotificationPolicy(Policy):
    rules = {
        "view": {role: OWN_NOTIFICATION for role in Role.values},
        "mark_read": {role: OWN_NOTIFICATION for role in Role.values},
    }
    action_labels = {"view": _("bekijken"), "mark_read": _("als gelezen markeren")}

    def base_queryset(self):
        from portal.models import Notification

        return Notification.objects.all()


def _serves_as_coordinator_q(user) -> Q:
    from portal.selectors import organisations_served_by

    desk_id = _coordinator_desk(user)
    if desk_id is None:
        return Q(pk__in=[])
    return Q(pk__in=organisations_served_by(desk_id=desk_id).values("pk"))


def _serves_as_coordinator(user, organisation) -> bool:
    from portal.selectors import organisations_served_by

    desk_id = _coordinator_desk(user)
    return bool(
        desk_id is not None
        and organisations_served_by(desk_id=desk_id).filter(pk=organisation.pk).exists()
    )


def _not_ended_q(user) -> Q:
    from django.utils import timezone

    return Q(ended_on__isnull=True) | Q(ended_on__gt=timezone.localdate())


OWN_DESK_ORGANISATION = Condition(
    q=_serves_as_coordinator_q,
    test=_serves_as_coordinator,
    labels=(_("coördinator: organisatie van het eigen meldpunt"),),
)
NOT_ENDED = Condition(
    q=_not_ended_q,
    test=lambda user, organisation: not organisation.is_ended(),
    labels=(_("niet opgeheven"),),
)


class OrganisationPolicy(Policy):
    """Organisations: which a coordinator may give officeholders (invite, move)."""

    rules = {
        "add_officeholder": {Role.REGISTRAR: OWN_DESK_ORGANISATION & NOT_ENDED},
    }
    action_labels = {"add_officeholder": _("een ambtsdrager toevoegen of erheen verplaatsen")}

    def base_queryset(self):
        from portal.models import Organisation

        return Organisation.objects.all()


def _own_desk_import_q(user) -> Q:
    desk_id = _coordinator_desk(user)
    return Q(desk_id=desk_id) if desk_id is not None else Q(pk__in=[])


OWN_DESK_IMPORT = Condition(
    q=_own_desk_import_q,
    test=lambda user, upload: (
        _coordinator_desk(user) is not None and upload.desk_id == _coordinator_desk(user)
    ),
    labels=(_("coördinator: import van het eigen meldpunt"),),
)


class OfficeholderImportPolicy(Policy):
    """Uploads of officeholders: the coordinators of the desk that made them."""

    rules = {
        "view": {Role.REGISTRAR: OWN_DESK_IMPORT},
        "confirm": {Role.REGISTRAR: OWN_DESK_IMPORT},
    }
    action_labels = {"view": _("bekijken"), "confirm": _("bevestigen en uitvoeren")}

    def base_queryset(self):
        from portal.models import OfficeholderImport

        return OfficeholderImport.objects.all()


def desk_coordinators(*, desk_id: int):
    """The active coordinators of a desk (who hear of new staff and ask for new links)."""
    from portal.models import User

    return User.objects.filter(
        role=Role.REGISTRAR, desk_id=desk_id, is_coordinator=True, is_active=True
    ).order_by("pk")


def identity_provider_for(person):
    """The identity provider through which `person` logs in (portal.sso), or None.

    A registrar uses their desk's, a member of the Ondersteuningsteam the team's (the one
    without a desk). Officeholders and administrators always use the portal's own login.
    """
    from portal.models import IdentityProvider

    providers = IdentityProvider.objects.filter(is_active=True)
    if person.role == Role.REGISTRAR and person.desk_id:
        return providers.filter(desk_id=person.desk_id).first()
    if person.role == Role.SUPPORT:
        return providers.filter(desk__isnull=True).first()
    return None


def _own_desk_statistics_q(user) -> Q:
    from portal.selectors import organisations_served_by

    if not user.desk_id:
        return Q(pk__in=[])
    return Q(pk__in=organisations_served_by(desk_id=user.desk_id).values("pk"))


def _own_desk_statistics(user, organisation) -> bool:
    from portal.selectors import organisations_served_by

    return bool(
        user.desk_id
        and organisations_served_by(desk_id=user.desk_id).filter(pk=organisation.pk).exists()
    )


SERVED_BY_OWN_DESK = Condition(
    q=_own_desk_statistics_q,
    test=_own_desk_statistics,
    labels=(_("organisatie van het eigen meldpunt"),),
)
NATIONAL = Condition(q=lambda user: Q(), test=lambda user, obj: True, labels=(_("landelijk"),))


class StatisticsPolicy(Policy):
    """Whose figures a person may read: the organisations their counts come from.

    The desk (every registrar of it, the coordinator too) reads its own organisations, the
    Ondersteuningsteam and the analyst read them all. Figures are only ever aggregates that
    went through `portal.statistics.suppress`; officeholders and administrators read none.
    The analyst has no other rule anywhere, so every incident, case, evidence, message and
    person page answers 404 for them.
    """

    rules = {
        "view_statistics": {
            Role.REGISTRAR: SERVED_BY_OWN_DESK,
            Role.SUPPORT: NATIONAL,
            Role.ANALYST: NATIONAL,
        },
        # National figures: per province and per desk (not a desk's own view).
        "view_national_statistics": {Role.SUPPORT: NATIONAL, Role.ANALYST: NATIONAL},
    }
    action_labels = {
        "view_statistics": _("cijfers van deze organisatie lezen (tellingen)"),
        "view_national_statistics": _("landelijke cijfers lezen (per provincie en meldpunt)"),
    }

    def base_queryset(self):
        from portal.models import Organisation

        return Organisation.objects.all()

    def is_national(self, user) -> bool:
        return self.condition(user, "view_national_statistics") is not None


user_policy = UserPolicy()
organisation_policy = OrganisationPolicy()
statistics_policy = StatisticsPolicy()
officeholder_import_policy = OfficeholderImportPolicy()
notification_policy = NotificationPolicy()


def team_label(*, role: str, desk=None) -> str:
    """The team someone acted for, for "who did this" lines: their desk, the Ondersteuningsteam,
    or "ambtsdrager"; empty for anyone else (the rules engine, an administrator)."""
    if role == Role.REGISTRAR and desk is not None:
        return str(desk)
    labels = {Role.SUPPORT: _("Ondersteuningsteam"), Role.OFFICEHOLDER: _("ambtsdrager")}
    return str(labels.get(role, ""))


def reading_team(*, role: str, desk_id: int | None) -> str:
    """The team a read of an incident counts for in "wie heeft ingezien": "desk:<id>" for a
    registrar, "support" for the Ondersteuningsteam; empty for everyone else (the officeholder
    themselves, an administrator), whose reads that list never shows."""
    if role == Role.REGISTRAR and desk_id:
        return f"desk:{desk_id}"
    if role == Role.SUPPORT:
        return "support"
    return ""
