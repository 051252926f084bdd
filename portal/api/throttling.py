"""DRF's rate throttles, with the portal's client IP and failing open when the cache is down.

A Redis cache that is down or hangs must not turn every API request into an error: the
request is let through (and a warning logged) instead. Authentication, scoping and the login
lockout do not depend on the cache. The anonymous client is identified like the login
protection does (`TRUSTED_PROXY_COUNT`), not by DRF's default, which would take a client's own
X-Forwarded-For header at its word.
"""

import logging

from rest_framework import throttling

from portal.login_protection import CACHE_UNAVAILABLE, client_ip

logger = logging.getLogger(__name__)


class PortalThrottleMixin:
    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_UNAVAILABLE as error:
            logger.warning("API throttle not counted, the cache is unavailable: %s", error)
            return True


class AnonRateThrottle(PortalThrottleMixin, throttling.AnonRateThrottle):
    """Per anonymous client IP (`API_THROTTLE_ANON`)."""


class UserRateThrottle(PortalThrottleMixin, throttling.UserRateThrottle):
    """Per user (`API_THROTTLE_USER`)."""
