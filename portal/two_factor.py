"""Second factor: TOTP devices (an authenticator app) and one-time backup codes (django-otp).

Who must use it, and the check that guards every door, live in `portal.access`. This module
holds the writes (setting up a device, making backup codes) and the two helpers for showing a
device to its owner (QR code, secret in text) and for demo accounts (the current code).
"""

import io
import secrets
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator-app"
BACKUP_DEVICE_NAME = "Reservecodes"


def totp_device_get(*, user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_device_for_setup(*, user) -> TOTPDevice:
    """An unconfirmed device with a fresh secret, reused until the person confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a device with a code from the app. Returns new backup codes, or None.

    Confirming replaces any earlier authenticator app and backup codes of the person.
    """
    if not device.verify_token(code.strip().replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_create(user=device.user)


@transaction.atomic
def backup_codes_create(*, user) -> list[str]:
    """Replace the person's backup codes with new ones. Each works once; shown only now."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_remove(*, user) -> int:
    """Remove the person's authenticator app and backup codes. Returns how many devices went.

    Only for people who may log in without a second factor (officeholders): callers check
    `portal.access.user_must_use_second_factor` first.
    """
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    backup, _ = StaticDevice.objects.filter(user=user).delete()
    return removed + backup


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it (base32), in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG, made here (no outside service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration: the SVG goes inside an HTML page.
    return svg[svg.index("<svg") :]


def totp_code(device: TOTPDevice) -> str:
    """The code the device accepts now (for demo accounts and tests).

    A code is accepted once; when the current one was used already, this is the next one,
    which the device also accepts (tolerance of one step).
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.drift += device.last_t + 1 - totp.t()
    return f"{totp.token():0{device.digits}d}"
