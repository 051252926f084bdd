"""Login protection beyond the password: the per-IP rate limits and the lockout page.

django-axes locks out a username from one client IP after `AXES_FAILURE_LIMIT` failures
(settings); axes cannot also limit an IP across usernames, so this module does that with a
counter in the cache. Both answer with the same page, which never says whether the account
exists. Password reset requests are counted the same way, per IP and per account.

The lockout lives in the database (axes' database handler), the counters in the cache. When the
cache cannot be reached (Redis down or hanging), the counters fail open: people can still log in
(the lockout per username and IP still holds) and ask for a reset link.
"""

import hashlib
import ipaddress
import logging

import redis
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


logger = logging.getLogger(__name__)

# What a cache backend raises when its server is down or does not answer in time (the Redis
# cache's socket timeouts are in settings.CACHES). The API throttles fail open on these too.
CACHE_UNAVAILABLE = (redis.RedisError, OSError)


def _count_in_window(key: str, window_seconds: int) -> int | None:
    """Count one more under `key` in a window that starts at the first count; returns the
    count, or None when the cache cannot be reached."""
    try:
        if cache.add(key, 1, timeout=window_seconds):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window_seconds)
            return 1
    except CACHE_UNAVAILABLE as error:
        logger.warning("A rate limit was not counted, the cache is unavailable: %s", error)
        return None


def _over(count: int | None, limit: int) -> bool:
    return count is not None and count > limit


def login_attempt_count(request) -> int | None:
    """Count one login attempt from this IP in the current window; returns the count so far
    (None when the cache cannot be reached)."""
    window = int(settings.LOGIN_IP_RATE_WINDOW.total_seconds())
    return _count_in_window(f"login-attempts:{client_ip(request)}", window)


def login_rate_exceeded(request) -> bool:
    """True when this IP made more login attempts than LOGIN_IP_RATE_LIMIT in the window.
    Fails open (False) when the cache is unavailable."""
    return _over(login_attempt_count(request), settings.LOGIN_IP_RATE_LIMIT)


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
    return _over(by_ip, settings.PASSWORD_RESET_IP_RATE_LIMIT) or _over(
        by_account, settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT
    )


def share_rate_exceeded(request) -> bool:
    """Count one file shared to the portal from this IP; True over SHARE_IP_RATE_LIMIT.
    Fails open when the cache is unavailable (each file is still size-checked)."""
    window = int(settings.SHARE_IP_RATE_WINDOW.total_seconds())
    count = _count_in_window(f"share-ip:{client_ip(request)}", window)
    return _over(count, settings.SHARE_IP_RATE_LIMIT)


def lockout_response(request, original_response=None, credentials=None):
    """The login page with the lockout message (axes' AXES_LOCKOUT_CALLABLE), status 429."""
    from portal.forms import LoginForm

    return render(
        request,
        "portal/login.html",
        {"form": LoginForm(request), "lockout_message": LOCKOUT_MESSAGE},
        status=429,
    )
