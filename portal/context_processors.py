from django.utils.functional import SimpleLazyObject

from portal.constants import EmergencyNumber
from portal.policies import workspaces_for
from portal.selectors import notification_unread_count


def portal(request):
    """What the base layout needs on every page: the emergency number and the menu."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {
            "emergency_number": user.emergency_number,
            # What the menu offers: the workspaces the policy opens for this person.
            "workspaces": workspaces_for(user),
            # Lazy: only pages that show the count run the query.
            "unread_notifications": SimpleLazyObject(lambda: notification_unread_count(user=user)),
        }
    return {"emergency_number": EmergencyNumber.NETHERLANDS}
