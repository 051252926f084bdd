"""Demo organisations, desks and accounts. Used by `manage.py seed_demo`; never in production."""

from base64 import b32encode
from datetime import timedelta
from pathlib import Path

import yaml
from django.utils import timezone

from incidents.models import StandardReply
from portal.models import Desk, Invitation, Organisation, SiteConfiguration, TotpDevice, User
from portal.policies import desk_coordinators
from portal.selectors import desk_for_organisation
from portal.services import invitation_create, person_changes_record
from portal.two_factor import TOTP_DEVICE_NAME

# The known secret of the demo staff's authenticator app (README, "Two-factor login"): the
# same for every demo staff account, public, and for demo data only. In an app: the base32
# form, DEMO_TOTP_SECRET_BASE32; or `python manage.py demo_totp USERNAME` prints the code.
DEMO_TOTP_KEY_HEX = b"weerbaar-demo-totp-1".hex()
DEMO_TOTP_SECRET_BASE32 = b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()

PEOPLE_FILE = Path(__file__).parent / "people.yaml"


def seed(*, password: str) -> None:
    """Create or update the demo organisations, desks and accounts (people.yaml). Idempotent."""
    data = yaml.safe_load(PEOPLE_FILE.read_text(encoding="utf-8"))
    desks = {}
    for values in data["desks"]:
        desks[values["name"]], _ = Desk.objects.update_or_create(
            name=values["name"], defaults={k: v for k, v in values.items() if k != "name"}
        )
    organisations = {}
    for values in data["organisations"]:
        defaults = {k: v for k, v in values.items() if k not in ("name", "desk")}
        defaults["desk"] = desks[values["desk"]]
        organisations[values["name"]], _ = Organisation.objects.update_or_create(
            name=values["name"], defaults=defaults
        )
    for values in data.get("standard_replies", []):
        StandardReply.objects.get_or_create(
            desk=desks[values["desk"]],
            title=values["title"],
            defaults={"text_nl": values["text_nl"], "text_en": values["text_en"]},
        )
    site = data["site"]
    SiteConfiguration.objects.update_or_create(
        pk=1,
        defaults={
            "fallback_desk": desks[site["fallback_desk"]],
            "support_team_phone": site["support_team_phone"],
        },
    )
    invited = []
    for account in data["accounts"]:
        admin_site = account.get("admin_site", False)
        user, created = User.objects.update_or_create(
            username=account["username"],
            defaults={
                "first_name": account["first_name"],
                "last_name": account["last_name"],
                "email": f"{account['username']}@example.org",
                "role": account["role"],
                "function": account.get("function", ""),
                "organisation": organisations.get(account.get("organisation")),
                "desk": desks.get(account.get("desk")),
                "is_coordinator": account.get("coordinator", False),
                "term_start": account.get("term_start"),
                "term_end": account.get("term_end"),
                "is_staff": admin_site,
                # The functional administrator is no superuser (portal/access.py).
                "is_superuser": False,
                "is_active": not account.get("invited", False),
            },
        )
        if account.get("invited"):
            invited.append((user, account))
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            continue
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        if account.get("demo_authenticator"):
            demo_totp_device_ensure(user=user)
    # Invited by the coordinator of the desk that serves them (after the coordinators exist).
    for user, account in invited:
        demo_invitation_ensure(user=user, expired=account.get("invitation_expired", False))


def demo_invitation_ensure(*, user: User, expired: bool) -> None:
    """Give an invited demo account one invitation from its desk's coordinator (once).

    The e-mail goes out like any invitation (in development: to the console or the SMTP sink).
    """
    if Invitation.objects.filter(person=user).exists():
        return
    desk = desk_for_organisation(organisation=user.organisation)
    coordinator = desk_coordinators(desk_id=desk.pk).first() if desk else None
    now = timezone.now()
    invitation = invitation_create(
        actor=coordinator, person=user, now=now - timedelta(days=8) if expired else now
    )
    person_changes_record(actor=coordinator, person=user, before={}, now=invitation.created_at)


def demo_totp_device_ensure(*, user: User) -> TotpDevice:
    """Give a demo staff account its confirmed authenticator app with the known secret.

    Stored like every secret (encrypted); running it again changes nothing.
    """
    devices = list(TotpDevice.objects.filter(user=user))
    if len(devices) == 1 and devices[0].confirmed and devices[0].key == DEMO_TOTP_KEY_HEX:
        return devices[0]
    TotpDevice.objects.filter(user=user).delete()
    return TotpDevice.objects.create(
        user=user, name=TOTP_DEVICE_NAME, key=DEMO_TOTP_KEY_HEX, confirmed=True
    )
