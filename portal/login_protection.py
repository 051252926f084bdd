"""Login protection beyond the password: the per-IP rate limit and the lockout page.

django-axes locks out a username from one client IP after `AXES_FAILURE_LIMIT` failures
(settings); axes cannot also limit an IP across usernames, so this module does that with a
counter in the cache. Both answer with the same page, which never says whether the account
exists.

The lockout lives in the database (axes' database handler), the per-IP counter in the cache.
When the cache cannot be reached (Redis down or hanging), the per-IP limit fails open: people
can still log in, and the lockout per username and IP still holds.
"""

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


def login_attempt_count(request) -> int | None:
    """Count one login attempt from this IP in the current window; returns the count so far,
    or None when the cache cannot be reached."""
    key = f"login-attempts:{client_ip(request)}"
    window = int(settings.LOGIN_IP_RATE_WINDOW.total_seconds())
    try:
        if cache.add(key, 1, timeout=window):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            return 1
    except CACHE_UNAVAILABLE as error:
        logger.warning("Login rate limit not counted, the cache is unavailable: %s", error)
        return None


def login_rate_exceeded(request) -> bool:
    """True when this IP made more login attempts than LOGIN_IP_RATE_LIMIT in the window.

    Fails open (False) when the cache is unavailable: the lockout per username and IP is in
    the database and keeps working.
    """
    count = login_attempt_count(request)
    return count is not None and count > settings.LOGIN_IP_RATE_LIMIT


def lockout_response(request, original_response=None, credentials=None):
    """The login page with the lockout message (axes' AXES_LOCKOUT_CALLABLE), status 429."""
    from portal.forms import LoginForm

    return render(
        request,
        "portal/login.html",
        {"form": LoginForm(request), "lockout_message": LOCKOUT_MESSAGE},
        status=429,
    )
