"""Second factor: an authenticator app (TOTP) and one-time backup codes.

The devices are portal's own (`portal.models.TotpDevice`, `BackupCodeDevice`): django-otp
checks them, but the app's secret is encrypted and the backup codes are hashed. Who must use a
second factor, and the check that guards every door, live in `portal.access`. This module
holds the writes (setting up a device, making backup codes, switching it off) and the helpers
for showing a device to its owner (QR code, secret in text) and for demo accounts.

Setting up: every visit of the setup page makes a new secret, bound to that browser session
(`totp_device_for_setup`). Someone else who knows the password and opens the page gets another
secret, which the real person never sees and which is removed at the next login, at a password
change and when any device is confirmed.
"""

import io
import secrets
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.oath import TOTP

from portal.crypto import backup_code_hash
from portal.models import BackupCode, BackupCodeDevice, TotpDevice, User

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator-app"
BACKUP_DEVICE_NAME = "Reservecodes"
# The unconfirmed device that this browser session is setting up.
SETUP_DEVICE_SESSION_KEY = "portal_totp_setup_device"


def totp_device_get(*, user) -> TotpDevice | None:
    """The person's confirmed authenticator app, if any."""
    return TotpDevice.objects.filter(user=user, confirmed=True).first()


def user_has_second_factor(user) -> bool:
    """True when the person has a confirmed authenticator app."""
    return TotpDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def totp_device_for_setup(*, user: User, session, fresh: bool) -> TotpDevice:
    """The unconfirmed device this session shows; with `fresh`, a new one with a new secret.

    A secret is shown to one session only and is never reused: each new setup attempt (a
    visit of the page) replaces this session's earlier unconfirmed device. Another session's
    device is left alone, so that two people with the same password cannot read each other's
    secret, and cannot make the other's attempt fail either.
    """
    pending_id = session.get(SETUP_DEVICE_SESSION_KEY)
    pending = TotpDevice.objects.filter(pk=pending_id, user=user, confirmed=False).first()
    if pending is not None and not fresh:
        return pending
    if pending is not None:
        pending.delete()
    device = TotpDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    session[SETUP_DEVICE_SESSION_KEY] = device.pk
    return device


def totp_setup_device_in_session(*, user: User, session) -> TotpDevice | None:
    """The unconfirmed device this session is setting up, if it still exists."""
    pending_id = session.get(SETUP_DEVICE_SESSION_KEY)
    if pending_id is None:
        return None
    return TotpDevice.objects.filter(pk=pending_id, user=user, confirmed=False).first()


def unconfirmed_devices_remove(*, user: User) -> int:
    """Remove every authenticator app of the person that was never confirmed.

    Run at login and at a password change: a secret someone saw during an earlier setup
    attempt (for example with an initial password, or after a device reset) is gone before
    the person sets up their own.
    """
    removed, _ = TotpDevice.objects.filter(user=user, confirmed=False).delete()
    return removed


@transaction.atomic
def totp_device_confirm(*, device: TotpDevice, code: str) -> list[str] | None:
    """Confirm a device with a code from the app. Returns new backup codes, or None.

    Confirming replaces every other authenticator app of the person (confirmed or not) and
    their backup codes. The caller records the change (`portal.services.account_security_change`).
    """
    device = TotpDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
    if device is None or not device.verify_token(code.strip().replace(" ", "")):
        return None
    TotpDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_create(user=device.user)


@transaction.atomic
def backup_codes_create(*, user) -> list[str]:
    """Replace the person's backup codes with new ones. Each works once; shown only now.

    Only a keyed hash of each code is stored.
    """
    device, _ = BackupCodeDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.codes.all().delete()
    codes = [secrets.token_hex(4) for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, code_hash=backup_code_hash(code)) for code in codes
    )
    return codes


def backup_codes_remaining(*, user) -> int:
    return BackupCode.objects.filter(device__user=user).count()


@transaction.atomic
def second_factor_remove(*, user) -> int:
    """Remove the person's authenticator apps and backup codes. Returns how many devices went.

    The caller decides who may (`portal.access`) and records the change
    (`portal.services.account_security_change`).
    """
    removed, _ = TotpDevice.objects.filter(user=user).delete()
    backup, _ = BackupCodeDevice.objects.filter(user=user).delete()
    return removed + backup


def totp_secret_text(device: TotpDevice) -> str:
    """The secret as an authenticator app asks for it (base32), in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TotpDevice) -> str:
    """The device's otpauth:// URL as an inline SVG, made here (no outside service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration: the SVG goes inside an HTML page.
    return svg[svg.index("<svg") :]


def totp_code(device: TotpDevice) -> str:
    """The code the device accepts now (for demo accounts and tests).

    A code is accepted once; when the current one was used already, this is the next one,
    which the device also accepts (tolerance of one step).
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.drift += device.last_t + 1 - totp.t()
    return f"{totp.token():0{device.digits}d}"
