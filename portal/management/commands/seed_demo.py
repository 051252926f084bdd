from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create the demo organisations, desks, accounts and example cases. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="weerbaar-demo", help="Password of every demo account."
        )

    def handle(self, *args, password, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs with DEBUG on: demo data never goes to production."
            )
        # Each app may have a `demo` module with `seed(password=...)`; apps are seeded in
        # INSTALLED_APPS order, so `portal` comes before `incidents`, which comes before `support`.
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                module_name = f"{app_config.name}.demo"
                if find_spec(module_name) is not None:
                    import_module(module_name).seed(password=password)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
