"""Who may open which part of the portal. The one place in `portal` that checks roles.

Pages meant for another role answer 404, exactly like a page that does not exist, so that
the portal never tells an outsider what exists.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from portal.constants import Role


def user_has_role(user, *roles: Role) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: Role):
    """View decorator: anonymous users go to the login page; other roles get a 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def user_may_use_admin_site(user) -> bool:
    """Only functional administrators manage configuration and people in the Django admin."""
    return user_has_role(user, Role.ADMIN) and user.is_staff
