from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.access import user_may_use_admin_site


class PortalAdminSite(admin.AdminSite):
    """The Django admin, open only to functional administrators."""

    site_header = _("Beheer Meldpunt Weerbaar Bestuur")
    site_title = _("Beheer Meldpunt Weerbaar Bestuur")
    index_title = _("Beheer")

    def has_permission(self, request):
        return user_may_use_admin_site(request.user)
