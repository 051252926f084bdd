"""Login protection beyond the password: the per-IP rate limits and the lockout page.

django-axes locks out a username from one client IP after `AXES_FAILURE_LIMIT` failures
(settings); axes cannot also limit an IP across usernames, so this module does that with a
counter in the cache. Both answer with the same page, which never says whether the account
exists. Password reset requests are counted the same way, per IP and per account.
"""

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

LOCKOUT_MESSAGE = _(
    "U hebt te vaak geprobeerd in te loggen. Wacht 15 minuten en probeer het dan opnieuw. "
    "Wachtwoord vergeten? Vraag dan een nieuw wachtwoord aan."
)


def client_ip(request) -> str:
    """The client's IP address (axes' AXES_CLIENT_IP_CALLABLE, and the per-IP limit).

    Without trusted proxies: REMOTE_ADDR, whatever X-Forwarded-For says. Behind
    TRUSTED_PROXY_COUNT proxies of our own, each appends the address it saw to
    X-Forwarded-For; the entry the outermost of them appended is the client. Entries further
    left come from the client itself and are never trusted.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote_addr


def _count_in_window(key: str, window_seconds: int) -> int:
    """Count one more under `key` in a window that starts at the first count; returns the count."""
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return 1


def login_attempt_count(request) -> int:
    """Count one login attempt from this IP in the current window; returns the count so far."""
    window = int(settings.LOGIN_IP_RATE_WINDOW.total_seconds())
    return _count_in_window(f"login-attempts:{client_ip(request)}", window)


def login_rate_exceeded(request) -> bool:
    """True when this IP made more login attempts than LOGIN_IP_RATE_LIMIT in the window."""
    return login_attempt_count(request) > settings.LOGIN_IP_RATE_LIMIT


def password_reset_rate_exceeded(request, email: str) -> bool:
    """Count one password reset request; True when this IP or this account is over its limit.

    Both counters count every request, so neither a flood from one address nor requests for
    one account from many addresses send more than the limit of e-mails. The account is
    counted by a hash of the normalised address (no address in the cache).
    """
    window = int(settings.PASSWORD_RESET_RATE_WINDOW.total_seconds())
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_ip = _count_in_window(f"password-reset-ip:{client_ip(request)}", window)
    by_account = _count_in_window(f"password-reset-account:{account}", window)
    return (
        by_ip > settings.PASSWORD_RESET_IP_RATE_LIMIT
        or by_account > settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page with the lockout message (axes' AXES_LOCKOUT_CALLABLE), status 429."""
    from portal.forms import LoginForm

    return render(
        request,
        "portal/login.html",
        {"form": LoginForm(request), "lockout_message": LOCKOUT_MESSAGE},
        status=429,
    )
