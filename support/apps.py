from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Ondersteuningsteam Weerbaar Bestuur")

    def ready(self):
        from support import receivers  # noqa: F401  (connects to incidents' seam)
