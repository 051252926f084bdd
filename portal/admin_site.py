from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from portal.access import user_may_use_admin_site


class PortalAdminSite(OTPAdminSite):
    """The Django admin, open only to functional administrators with a verified second factor.

    OTPAdminSite refuses a session that has not entered its code; people log in through the
    portal's own login (with its rate limits and code step), not through a second admin form.
    """

    site_header = _("Beheer Meldpunt Weerbaar Bestuur")
    site_title = _("Beheer Meldpunt Weerbaar Bestuur")
    index_title = _("Beheer")

    def has_permission(self, request):
        return super().has_permission(request) and user_may_use_admin_site(request.user)

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Another role, like every page not meant for it: as if it does not exist.
            raise Http404
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
