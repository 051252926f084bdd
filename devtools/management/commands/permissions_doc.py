from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from devtools.permissions import permissions_markdown


class Command(BaseCommand):
    help = "Write docs/permissions.md (who may do what) from the policies."

    def handle(self, *args, **options):
        path = Path(settings.BASE_DIR) / "docs" / "permissions.md"
        path.write_text(permissions_markdown(), encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
