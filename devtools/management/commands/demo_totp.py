from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.two_factor import totp_code, totp_device_get


class Command(BaseCommand):
    help = "Print the current login code of a demo account's authenticator app (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_totp only runs with DEBUG on: production codes come from the person's app."
            )
        user = get_user_model().objects.filter(username=username).first()
        device = totp_device_get(user=user) if user is not None else None
        if device is None:
            raise CommandError(f"{username} has no authenticator app (run seed_demo first).")
        self.stdout.write(totp_code(device))
