"""Login and API without the cache: the counters fail open, the lockout holds in the database.

The cache (Redis in the compose stack) only holds rate-limit counts. When it is down
(nothing listens) or hangs (a real Redis frozen with SIGSTOP), people still log in, the
lockout per username and IP (django-axes, database handler) still refuses a guessed password,
and the API still answers in JSON.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from portal.api.throttling import AnonRateThrottle
from portal.login_protection import LOCKOUT_MESSAGE
from portal.services import api_token_create
from tests.api.conftest import token_client
from tests.redis_server import free_port

PASSWORD = "een-lang-wachtwoord-voor-tests"
LOGIN_URL = "/account/inloggen/"
# A generous ceiling for a login while the cache hangs (about 0.5 s per counter operation).
CEILING_SECONDS = 10


def _redis_cache(url: str) -> dict:
    """CACHES as settings.py builds them for a redis:// CACHE_URL."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }


def test_a_redis_cache_url_gets_the_socket_timeouts():
    """The CACHE_URL of the compose file (redis://cache:6379/0) gives Django's own Redis
    backend with REDIS_CACHE_OPTIONS: without them a hung cache holds a login until the
    gunicorn timeout (found by `make faults`). Checked in a fresh Python, as settings.py
    builds CACHES when it loads (what django-environ names the backend decides)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.CACHES['default']))",
        ],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "CACHE_URL": "redis://cache:6379/0",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    cache = json.loads(result.stdout)

    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache:6379/0"
    assert cache["OPTIONS"] == django_settings.REDIS_CACHE_OPTIONS


@pytest.fixture
def cache_down(settings):
    """The cache points at a loopback port where nothing listens (connection refused)."""
    settings.CACHES = _redis_cache(f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def cache_hangs(settings, private_redis):
    """The cache is a real Redis, frozen with SIGSTOP after the test's first use of it."""
    settings.CACHES = _redis_cache(private_redis.url)
    yield private_redis
    private_redis.resume()


@pytest.fixture
def mayor(officeholder):
    officeholder.set_password(PASSWORD)
    officeholder.save(update_fields=["password"])
    return officeholder


def _login(client, username, password, ip="192.0.2.10"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
@pytest.mark.usefixtures("cache_down")
def test_login_works_with_the_cache_down(client, mayor, caplog):
    """The right password logs in (302 to the start page); the skipped count is logged."""
    response = _login(client, mayor.username, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" in client.session
    assert "the cache is unavailable" in caplog.text


@pytest.mark.django_db
@pytest.mark.usefixtures("cache_down")
def test_the_lockout_still_holds_with_the_cache_down(client, mayor, settings):
    """AXES_FAILURE_LIMIT wrong passwords lock the username from that IP, as with a cache:
    the failures are counted in the database; even the right password is then refused."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, mayor.username, "fout").status_code == 200
    assert _login(client, mayor.username, "fout").status_code == 429

    response = _login(client, mayor.username, PASSWORD)

    assert response.status_code == 429
    assert str(LOCKOUT_MESSAGE) in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.services
@pytest.mark.django_db
def test_login_works_while_the_cache_hangs(client, mayor, cache_hangs):
    """With the cache's Redis frozen, the login still answers, well under the ceiling."""
    assert _login(client, "bestaat.niet", "fout").status_code == 200  # the cache is in use
    cache_hangs.pause()

    started = time.monotonic()
    response = _login(client, mayor.username, PASSWORD)
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert elapsed < CEILING_SECONDS, f"the login took {elapsed:.1f} s"


@pytest.mark.django_db
@pytest.mark.usefixtures("cache_down")
def test_the_api_answers_with_the_cache_down(officeholder):
    """The throttles fail open: a token gets its data, an anonymous caller the JSON 401."""
    _token, key = api_token_create(user=officeholder, name="test")

    with_token = token_client(key).get("/api/v1/notifications/")
    anonymous = token_client(None).get("/api/v1/notifications/")

    assert with_token.status_code == 200
    assert with_token.json()["results"] == []
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_the_api_throttle_counts_the_trusted_client_ip(settings):
    """An anonymous caller cannot pick a fresh throttle count with a forged X-Forwarded-For:
    the API counts the client IP like the login protection (TRUSTED_PROXY_COUNT)."""
    settings.TRUSTED_PROXY_COUNT = 0
    forged = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="10.9.9.9")
    behind_proxy = RequestFactory().get(
        "/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert AnonRateThrottle().get_ident(forged) == "192.0.2.10"
    settings.TRUSTED_PROXY_COUNT = 1
    assert AnonRateThrottle().get_ident(behind_proxy) == "198.51.100.7"
