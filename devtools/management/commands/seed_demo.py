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
        # People and organisations first, then the incidents and cases (devtools/demo), all in
        # one transaction.
        from devtools.demo import people as demo
        from devtools.demo import stories

        with transaction.atomic():
            demo.seed(password=password)
            stories.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
