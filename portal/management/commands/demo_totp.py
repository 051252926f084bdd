from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.two_factor import totp_code


class Command(BaseCommand):
    help = "Print the current login code of a demo account's authenticator app (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_totp only runs with DEBUG on: production codes come from the person's app."
            )
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator app (run seed_demo first).")
        self.stdout.write(totp_code(device))
