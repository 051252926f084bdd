import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Show times in the user's organisation time zone (Caribbean Netherlands or Europe)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)
