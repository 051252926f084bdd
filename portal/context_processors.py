from django.conf import settings
from django.utils.functional import SimpleLazyObject

from portal.access import user_must_use_second_factor
from portal.constants import EmergencyNumber
from portal.policies import workspaces_for
from portal.selectors import notification_unread_count

# From this many days before the term end, every page says the account will stop.
TERM_NOTICE_DAYS = 30


def _term_notice(user) -> dict | None:
    """The end-of-term notice: the account stops soon, or the term is over already."""
    if user.term_end is None:
        return None
    if user.term_ended_at is not None:
        return {"ended": True, "term_end": user.term_end}
    from portal.services import person_local_date

    days_left = (user.term_end - person_local_date(user)).days
    if 0 <= days_left <= TERM_NOTICE_DAYS:
        return {"ended": False, "term_end": user.term_end, "days_left": days_left}
    return None


def portal(request):
    """What the base layout needs on every page: the emergency number and the menu."""
    owner = {
        "portal_owner_name": settings.PORTAL_OWNER_NAME,
        "portal_owner_logo": settings.PORTAL_OWNER_LOGO,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context = {
            **owner,
            "emergency_number": user.emergency_number,
            # What the menu offers: the workspaces the policy opens for this person.
            "workspaces": workspaces_for(user),
            # Lazy: only pages that show the count run the query.
            "unread_notifications": SimpleLazyObject(lambda: notification_unread_count(user=user)),
        }
        notice = _term_notice(user)
        if notice is not None:
            context["term_notice"] = notice
        if user_must_use_second_factor(user):
            # Staff sessions end when idle: the page warns a few minutes before.
            context["idle_timeout_seconds"] = int(settings.STAFF_IDLE_TIMEOUT.total_seconds())
            context["idle_warning_seconds"] = int(settings.STAFF_IDLE_WARNING.total_seconds())
            context["idle_warning_minutes"] = context["idle_warning_seconds"] // 60
        return context
    return {**owner, "emergency_number": EmergencyNumber.NETHERLANDS}
