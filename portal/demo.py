"""Demo organisations, desks and accounts. Used by `manage.py seed_demo`; never in production."""

from base64 import b32encode

from portal.constants import TIME_ZONE_CARIBBEAN, EmergencyNumber, OfficeholderFunction, Role
from portal.models import Desk, Organisation, SiteConfiguration, TotpDevice, User
from portal.two_factor import TOTP_DEVICE_NAME

# The known secret of the demo staff's authenticator app (README, "Two-factor login"): the
# same for every demo staff account, public, and for demo data only. In an app: the base32
# form, DEMO_TOTP_SECRET_BASE32; or `python manage.py demo_totp USERNAME` prints the code.
DEMO_TOTP_KEY_HEX = b"weerbaar-demo-totp-1".hex()
DEMO_TOTP_SECRET_BASE32 = b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
DEMO_STAFF_ROLES = (Role.REGISTRAR, Role.SUPPORT, Role.ADMIN)

DESKS = [
    {"name": "Meldpunt Utrecht", "email": "meldpunt@utrecht.example", "phone": "030 - 000 00 00"},
    {
        "name": "Meldpunt IJsselland",
        "email": "meldpunt@ijsselland.example",
        "phone": "038 - 000 00 00",
    },
    {
        "name": "Meldpunt Caribisch Nederland",
        "email": "meldpunt@caribischnederland.example",
        "phone": "+599 416 0000",
        "time_zone": TIME_ZONE_CARIBBEAN,
    },
]

ORGANISATIONS = [
    {"name": "Gemeente Utrecht", "type": "gemeente", "code": "GM0344", "desk": "Meldpunt Utrecht"},
    {
        "name": "Gemeente Zwolle",
        "type": "gemeente",
        "code": "GM0193",
        "desk": "Meldpunt IJsselland",
    },
    {
        "name": "Provincie Overijssel",
        "type": "provincie",
        "code": "PV23",
        "desk": "Meldpunt IJsselland",
    },
    {
        "name": "Waterschap Drents Overijsselse Delta",
        "type": "waterschap",
        "code": "WS0664",
        "desk": "Meldpunt IJsselland",
    },
    {
        "name": "Openbaar lichaam Saba",
        "type": "openbaar_lichaam",
        "code": "OL9003",
        "desk": "Meldpunt Caribisch Nederland",
        "time_zone": TIME_ZONE_CARIBBEAN,
        "emergency_number": EmergencyNumber.CARIBBEAN,
    },
]

ACCOUNTS = [
    # username, first name, last name, role, function, organisation, desk
    ("wethouder.utrecht", "Anouk", "de Vries", Role.OFFICEHOLDER,
     OfficeholderFunction.WETHOUDER, "Gemeente Utrecht", None),
    ("raadslid.utrecht", "Mehmet", "Yilmaz", Role.OFFICEHOLDER,
     OfficeholderFunction.RAADSLID, "Gemeente Utrecht", None),
    ("burgemeester.zwolle", "Petra", "Jansen", Role.OFFICEHOLDER,
     OfficeholderFunction.BURGEMEESTER, "Gemeente Zwolle", None),
    ("statenlid.overijssel", "Johan", "Bakker", Role.OFFICEHOLDER,
     OfficeholderFunction.STATENLID, "Provincie Overijssel", None),
    ("eilandsraadslid.saba", "Carla", "Hassell", Role.OFFICEHOLDER,
     OfficeholderFunction.EILANDSRAADSLID, "Openbaar lichaam Saba", None),
    ("meldpunt.utrecht", "Sanne", "Visser", Role.REGISTRAR, "", None, "Meldpunt Utrecht"),
    ("meldpunt.ijsselland", "Ruben", "Smit", Role.REGISTRAR, "", None, "Meldpunt IJsselland"),
    ("ondersteuning", "Fatima", "El Amrani", Role.SUPPORT, "", None, None),
    ("beheer", "Bram", "Mulder", Role.ADMIN, "", None, None),
]  # fmt: skip


def seed(*, password: str) -> None:
    """Create or update the demo organisations, desks and accounts. Idempotent."""
    desks = {}
    for values in DESKS:
        desks[values["name"]], _ = Desk.objects.update_or_create(
            name=values["name"], defaults={k: v for k, v in values.items() if k != "name"}
        )
    organisations = {}
    for values in ORGANISATIONS:
        defaults = {k: v for k, v in values.items() if k not in ("name", "desk")}
        defaults["desk"] = desks[values["desk"]]
        organisations[values["name"]], _ = Organisation.objects.update_or_create(
            name=values["name"], defaults=defaults
        )
    SiteConfiguration.objects.update_or_create(
        pk=1,
        defaults={
            "fallback_desk": desks["Meldpunt Utrecht"],
            "support_team_phone": "070 - 000 00 00 (demo; dag en nacht bereikbaar)",
        },
    )
    for username, first, last, role, function, organisation, desk in ACCOUNTS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.org",
                "role": role,
                "function": function,
                "organisation": organisations.get(organisation),
                "desk": desks.get(desk),
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "is_active": True,
            },
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        if role in DEMO_STAFF_ROLES:
            demo_totp_device_ensure(user=user)


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
