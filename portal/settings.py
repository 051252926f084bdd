"""Settings for Meldpunt Weerbaar Bestuur.

Everything that differs between a laptop and production is read from the environment
(see README, "Configuration"). The defaults run the whole portal with no servers:
SQLite under var/ and kombu's filesystem broker under var/broker.
"""

import logging
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# The development secrets are public (they are in this file). With DEBUG off the portal refuses
# to start with any of them: see portal/checks.py.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDEyMzQ="  # noqa: S105
DEVELOPMENT_IDENTIFIER_HASH_KEY = "development-only-identifier-hash-key"  # noqa: S105

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    CONN_MAX_AGE=(int, 60),
    EMAIL_PORT=(int, 25),
    EMAIL_USE_TLS=(bool, False),
    TRUST_X_FORWARDED_PROTO=(bool, False),
    SECURE_SSL_REDIRECT=(bool, False),
    TRUSTED_PROXY_COUNT=(int, 0),
)

# Working data of the embedded stack: SQLite database, broker folders, beat schedule, static
# files and private files. VAR_DIR moves all of it, e.g. to run a second stack beside the first
# (the tests of the `make run` stack do that in a temporary directory).
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

# Encryption at rest (portal/crypto.py). FIELD_ENCRYPTION_KEYS: comma-separated Fernet keys, the
# first encrypts, all decrypt (rotation: put a new key first, run `manage.py
# rotate_encryption_keys`, then drop the old one). IDENTIFIER_HASH_KEY: HMAC key for perpetrator
# identifiers; changing it breaks matching with existing incidents. The development keys are
# public (above); production refuses them (portal/checks.py: the web server, the Celery worker
# and beat, and every management command that runs Django's checks refuse to start).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[DEVELOPMENT_FIELD_ENCRYPTION_KEY]
)
IDENTIFIER_HASH_KEY = env("IDENTIFIER_HASH_KEY", default=DEVELOPMENT_IDENTIFIER_HASH_KEY)
# Closed incidents are anonymised this many months after closing (incidents.tasks).
RETENTION_MONTHS = env.int("RETENTION_MONTHS", default=24)
# Records of logins and failed logins (django-axes: username, IP address, browser) are kept
# this long; the lockout itself only needs the last 15 minutes (portal.tasks).
LOGIN_ATTEMPT_RETENTION = timedelta(days=env.int("LOGIN_ATTEMPT_RETENTION_DAYS", default=30))
# The access log (who read which incident, when, from which IP) is kept this long: by
# default as long as a closed incident's content (RETENTION_MONTHS' default of 24 months).
ACCESS_LOG_RETENTION = timedelta(days=env.int("ACCESS_LOG_RETENTION_DAYS", default=730))

# Who is responsible for the data (the privacy statement names them) and who runs the portal
# (the header shows the owner's name and, when set, a logo: a path under static/).
PRIVACY_CONTROLLER_NAME = env(
    "PRIVACY_CONTROLLER_NAME", default="Ministerie van Binnenlandse Zaken en Koninkrijksrelaties"
)
PRIVACY_CONTROLLER_CONTACT = env(
    "PRIVACY_CONTROLLER_CONTACT", default="privacy@meldpunt-weerbaar-bestuur.example.nl"
)
PRIVACY_OFFICER_NAME = env(
    "PRIVACY_OFFICER_NAME", default="De functionaris voor gegevensbescherming van het ministerie"
)
PRIVACY_OFFICER_CONTACT = env(
    "PRIVACY_OFFICER_CONTACT", default="fg@meldpunt-weerbaar-bestuur.example.nl"
)
PORTAL_OWNER_NAME = env("PORTAL_OWNER_NAME", default="")
PORTAL_OWNER_LOGO = env("PORTAL_OWNER_LOGO", default="")

INSTALLED_APPS = [
    "portal",
    "incidents",
    "support",
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    # django-otp's middleware, admin site and verification; the devices are portal's own
    # (portal.models.TotpDevice, BackupCodeDevice: secrets encrypted, codes hashed). Its
    # otp_totp and otp_static plugins are not installed: migration portal 0006 moved their
    # rows over and dropped their tables.
    "django_otp",
    # Passkeys (WebAuthn): its credential model is a django-otp device (portal/passkeys.py).
    "django_otp_webauthn",
    "axes",
    "csp",
]
# Demo data and benchmarks (the `devtools` app): never loaded by production settings.
DEVELOPMENT_TOOLS = env.bool("DEVELOPMENT_TOOLS", default=DEBUG)
if DEVELOPMENT_TOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    # First: /healthz, /readyz and /metrics are answered before the https redirect, the host
    # check and the login (portal/views_ops.py).
    "portal.middleware.ProbeMiddleware",
    # A request id for every request, its JSON access log line (path without the query
    # string) and its latency for /metrics (portal/request_log.py).
    "portal.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything else, so it sees the user that a session or an API token set.
    "portal.middleware.NoStoreForAuthenticatedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    # A staff member who logged in through their organisation is re-checked there regularly.
    "portal.sso.SessionRefreshMiddleware",
    # After the idle timeout and the user: gives a form kept at a lost session back.
    "portal.kept_forms.KeptFormMiddleware",
    "portal.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.UserTimezoneMiddleware",
    # Last: it turns a lockout noted during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker read while the web process writes; IMMEDIATE takes the write lock
    # at BEGIN so two processes never deadlock on a lock upgrade ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Persistent connections: about 7x the throughput of a new connection per request.
    DATABASES["default"]["CONN_MAX_AGE"] = env("CONN_MAX_AGE")
    # A database that does not answer (a restart, a network fault) fails a request within
    # seconds instead of holding a web or worker process until gunicorn kills it.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) can
    # land on another server connection than the one that declared it: switch them off.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DISABLE_SERVER_SIDE_CURSORS", default=False
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out username+IP before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # A login through the organisation's identity provider (portal/sso.py).
    "portal.sso.ProviderBackend",
    # A passkey login (portal/views_passkeys.py): the credential names the person.
    "django_otp_webauthn.backends.WebAuthnBackend",
    # The functional administrator's admin permissions (portal/access.py): not a superuser.
    "portal.access.FunctionalAdministratorBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Amsterdam"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Private files (evidence) live outside any URL-served directory, always encrypted
# (portal/crypto.py): in PRIVATE_STORAGE_ROOT (EVIDENCE_STORAGE=filesystem, one host or a
# shared volume) or in an S3-compatible bucket (EVIDENCE_STORAGE=s3: several hosts, a
# Kubernetes cluster; portal/object_storage.py). The storage alias is `evidence`.
PRIVATE_STORAGE_ROOT = Path(env("PRIVATE_STORAGE_ROOT", default=str(VAR_DIR / "private")))
EVIDENCE_STORAGE = env("EVIDENCE_STORAGE", default="filesystem")
if EVIDENCE_STORAGE == "filesystem":
    # No location: the storage reads PRIVATE_STORAGE_ROOT when it is first used.
    STORAGES["evidence"] = {"BACKEND": "portal.crypto.EncryptedFileSystemStorage"}
elif EVIDENCE_STORAGE == "s3":
    STORAGES["evidence"] = {
        "BACKEND": "portal.object_storage.EncryptedS3Storage",
        "OPTIONS": {
            "bucket_name": env("EVIDENCE_S3_BUCKET"),
            # Empty: AWS itself; otherwise e.g. https://s3.example.nl (MinIO, Ceph, ...).
            "endpoint_url": env("EVIDENCE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("EVIDENCE_S3_REGION", default="") or None,
            # Empty keys: boto3's own chain (a pod's web identity, an instance role).
            "access_key": env("EVIDENCE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("EVIDENCE_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env("EVIDENCE_S3_PREFIX", default=""),
            "addressing_style": env("EVIDENCE_S3_ADDRESSING_STYLE", default="path"),
            "verify": env("EVIDENCE_S3_CA_BUNDLE", default="") or None,
        },
    }
else:
    raise ImproperlyConfigured("EVIDENCE_STORAGE must be 'filesystem' or 's3'.")
# The deletion log (portal.deletions): one small file per anonymisation or deletion, kept
# outside the database and outside every backup, so that `manage.py restore` can apply them
# again. On disk in DELETION_LOG_DIR (a volume of its own, shared by web and worker), or with
# EVIDENCE_STORAGE=s3 under DELETION_LOG_S3_PREFIX in the evidence bucket (never inside the
# evidence folders, which the backup copies).
DELETION_LOG_DIR = Path(env("DELETION_LOG_DIR", default=str(VAR_DIR / "deletion-log")))
if EVIDENCE_STORAGE == "s3":
    STORAGES["deletion_log"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **STORAGES["evidence"]["OPTIONS"],
            "location": env("DELETION_LOG_S3_PREFIX", default="deletion-log"),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    STORAGES["deletion_log"] = {"BACKEND": "portal.deletions.DeletionLogStorage"}
# `manage.py backup` (portal/backups.py): where backups go and how many days they are kept.
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=35)
# Folder of pg_dump and pg_restore of the server's major version, when the PATH has others.
PG_BIN_DIR = env("PG_BIN_DIR", default="")

# --- Request limits -------------------------------------------------------------------------
# Beyond these Django answers 400 with templates/400.html (JSON under /api/: portal/error_pages.py).
# Up to twice MAX_EVIDENCE_FILES (incidents/constants.py) the form itself says how many files
# are allowed; more than that is not a person choosing files. The proxy's body size limits are
# in deploy/nginx/ (see README, "Production deployment").
DATA_UPLOAD_MAX_NUMBER_FILES = 20
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Form data without the files (Django's default); files above 2.5 MB go to a temporary file
# (FILE_UPLOAD_MAX_MEMORY_SIZE below).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Evidence uploads -----------------------------------------------------------------------
# Limits per file (README, "Evidence"). A reverse proxy in front must let a request of
# EVIDENCE_MAX_REQUEST_BYTES through on the upload pages (nginx: client_max_body_size 210m).
MB = 1024 * 1024
EVIDENCE_MAX_FILE_BYTES = env.int("EVIDENCE_MAX_FILE_MB", default=10) * MB  # photos, documents
EVIDENCE_MAX_AUDIO_BYTES = env.int("EVIDENCE_MAX_AUDIO_MB", default=25) * MB
EVIDENCE_MAX_VIDEO_BYTES = env.int("EVIDENCE_MAX_VIDEO_MB", default=200) * MB
# One request: the largest file plus the form and a few small files.
EVIDENCE_MAX_REQUEST_BYTES = EVIDENCE_MAX_VIDEO_BYTES + 10 * MB
# Uploads over 2.5 MB stream to a temporary file instead of memory. Temporary files (also the
# worker's working copies) go to FILE_UPLOAD_TEMP_DIR.
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * MB)
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
# The worker cleans photos, audio and video (incidents/evidence_processing.py): ffmpeg and
# ffprobe run with a time limit and a memory limit; photos are decoded at most this large.
EVIDENCE_PROCESSING_TIMEOUT = timedelta(
    seconds=env.int("EVIDENCE_PROCESSING_TIMEOUT_SECONDS", default=300)
)
EVIDENCE_PROCESSING_MAX_ATTEMPTS = env.int("EVIDENCE_PROCESSING_MAX_ATTEMPTS", default=3)
EVIDENCE_FFMPEG_MEMORY_BYTES = env.int("EVIDENCE_FFMPEG_MEMORY_MB", default=1024) * MB
EVIDENCE_IMAGE_MAX_PIXELS = 60_000_000
EVIDENCE_IMAGE_MAX_SIDE = 4000

# A whole stack on this machine's loopback (the tests, `make faults`, `make bench`): with DEBUG
# off, PORTAL_BASE_URL may then be http on loopback and e-mail may go to a loopback mail
# server (portal/checks.py). `check --deploy` warns while it is on. Never in production.
LOOPBACK_TEST_STACK = env.bool("LOOPBACK_TEST_STACK", default=False)

# --- E-mail ---------------------------------------------------------------------------------
# The address people use to reach the portal; links in e-mails start with it.
# `localhost`, not 127.0.0.1, so that passkeys work in the demo (WebAuthn refuses an IP address).
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://localhost:8000")
# How long the link of an invitation (portal.models.Invitation) works.
INVITATION_VALID = timedelta(days=env.int("INVITATION_VALID_DAYS", default=7))
# The console backend writes every e-mail (password reset links included) to the log: only for
# development. With DEBUG off the default is SMTP and portal/checks.py refuses the console.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend"
    ),
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env("EMAIL_PORT")
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env("EMAIL_USE_TLS")
# A hung mail server must not hold a worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Meldpunt Weerbaar Bestuur <noreply@localhost>"
)
# Sending a notification's e-mail (portal.services.notification_email_send) runs on a queue
# and a worker of its own (CELERY_TASK_ROUTES below), so a hung mail server never holds the
# worker that escalates. One attempt is stopped a little after EMAIL_TIMEOUT; a failed attempt
# is retried after 1, 2, 4, ... times EMAIL_RETRY_BASE (at most EMAIL_RETRY_MAX_DELAY seconds
# apart) and the e-mail is marked failed after EMAIL_MAX_ATTEMPTS.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=10)
EMAIL_RETRY_BASE = timedelta(seconds=env.int("EMAIL_RETRY_BASE_SECONDS", default=60))
EMAIL_RETRY_MAX_DELAY = env.int("EMAIL_RETRY_MAX_DELAY_SECONDS", default=3600)
EMAIL_TASK_SOFT_TIME_LIMIT = EMAIL_TIMEOUT + 5
EMAIL_TASK_TIME_LIMIT = EMAIL_TIMEOUT + 10
# A claim older than this belongs to an attempt that was stopped (its worker killed, its
# database gone): the e-mail may or may not have left. It is sent again with the same
# Message-ID (docs/architecture.md, "Each e-mail once").
EMAIL_CLAIM_TIMEOUT = timedelta(seconds=EMAIL_TASK_TIME_LIMIT + 30)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_AGE = 8 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # django-otp-webauthn wants OTP_WEBAUTHN_ALLOWED_ORIGINS; portal's helper takes the one
    # allowed origin from PORTAL_BASE_URL instead, and offers no passkeys on an IP address.
    "otp_webauthn.E030",
    "otp_webauthn.E031",
]
if env("TRUST_X_FORWARDED_PROTO"):
    # Only behind our own reverse proxy, which overwrites this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # That TLS proxy also redirects http to https (README, "Production deployment"), so
    # Django's warning about its own redirect (W008) does not apply; without the proxy it
    # still warns. Django's redirect would also catch the container's health check, which
    # speaks plain http to gunicorn.
    SILENCED_SYSTEM_CHECKS += ["security.W008"]
CSRF_COOKIE_HTTPONLY = True
# A form without a valid token gets the portal's own page, in the person's language.
CSRF_FAILURE_VIEW = "portal.error_pages.csrf_failure"
SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
if not DEBUG:
    # Browsers only honour HSTS over https; a year, subdomains included, preload-ready.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# No inline script or style anywhere: every script and style sheet is a file under /static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Cache: rate limits (login, API throttling). LocMemCache is per process; with several web
# processes set CACHE_URL (e.g. redis://cache:6379/0) so that they share the counts. Nothing
# in the cache is needed to log in or to answer: when it is down or hangs, the counters fail
# open (portal/login_protection.py, portal/api/throttling.py) and the login lockout stays in
# the database (AXES_HANDLER below).
# A Redis that hangs costs half a second per counter, not the gunicorn timeout.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Django's own Redis backend, whichever name django-environ gives a redis:// URL (its newer
# releases name Django's own backend already, older ones the django-redis package).
if CACHES["default"]["BACKEND"].endswith(".RedisCache"):
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    CACHES["default"]["OPTIONS"] = {**REDIS_CACHE_OPTIONS, **CACHES["default"].get("OPTIONS", {})}

# --- Two-factor login and login protection ----------------------------------------------------
OTP_TOTP_ISSUER = "Meldpunt Weerbaar Bestuur"
# Passkeys (portal/passkeys.py): the relying party ID is the host of PORTAL_BASE_URL and the
# only allowed origin is PORTAL_BASE_URL itself; both are read at request time.
OTP_WEBAUTHN_RP_NAME = "Meldpunt Weerbaar Bestuur"
OTP_WEBAUTHN_RP_ID_CALLABLE = "portal.passkeys.relying_party_id_for_request"
OTP_WEBAUTHN_HELPER_CLASS = "portal.passkeys.PortalWebAuthnHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True
# Staff sessions end after this long without a request (officeholders: SESSION_COOKIE_AGE).
STAFF_IDLE_TIMEOUT = timedelta(minutes=env.int("STAFF_IDLE_TIMEOUT_MINUTES", default=30))
# Staff see a warning with "Ingelogd blijven" this long before that timeout.
STAFF_IDLE_WARNING = timedelta(minutes=env.int("STAFF_IDLE_WARNING_MINUTES", default=5))

# Single sign-on for staff through their organisation's OpenID Connect provider (portal/sso.py,
# with mozilla-django-oidc). The providers themselves (issuer, client, which acr/amr values
# count as a second factor) are set by the functional administrator, one per desk and one
# for the Ondersteuningsteam; these are what all of them share.
OIDC_CREATE_USER = False  # nobody gets an account by logging in: accounts are linked first
OIDC_RP_SCOPES = "openid"  # the subject is all the portal needs; never matched on e-mail
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the hint for logging out at the provider
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_TIMEOUT = env.int("SSO_TIMEOUT_SECONDS", default=10)
OIDC_CLOCK_LEEWAY = 60
# The provider is asked again (without showing anything) this often while a staff member
# works, so that someone disabled there is out within this time; always within the idle
# timeout (portal/checks.py).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int(
    "SSO_RECHECK_SECONDS", default=min(600, int(STAFF_IDLE_TIMEOUT.total_seconds()) // 2)
)
# A form that arrives after the session ended is kept this long for the person who typed it
# (portal.kept_forms); the login cookie that says whose browser it is lasts KEPT_FORM_ACCOUNT_DAYS.
KEPT_FORM_AGE = timedelta(minutes=env.int("KEPT_FORM_MINUTES", default=60))
KEPT_FORM_ACCOUNT_AGE = timedelta(days=env.int("KEPT_FORM_ACCOUNT_DAYS", default=30))
# Lockout per username AND client IP: nobody can lock a mayor out from elsewhere.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_LOCKOUT_CALLABLE = "portal.login_protection.lockout_response"
# Failures and lockouts in the database, never in the cache: the lockout holds when the cache
# is down (the per-IP limit in the cache then fails open).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Client IP: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies of our own stand in
# front of the portal; then the address that the outermost of them saw (X-Forwarded-For).
TRUSTED_PROXY_COUNT = env("TRUSTED_PROXY_COUNT")
AXES_CLIENT_IP_CALLABLE = "portal.login_protection.client_ip"
# Login attempts per client IP across all usernames, per window (cache-based).
LOGIN_IP_RATE_LIMIT = env.int("LOGIN_IP_RATE_LIMIT", default=30)
LOGIN_IP_RATE_WINDOW = timedelta(minutes=15)
# Password reset requests per client IP and per account (e-mail address), per window; over the
# limit nothing is sent and the page says exactly what it always says.
PASSWORD_RESET_IP_RATE_LIMIT = env.int("PASSWORD_RESET_IP_RATE_LIMIT", default=10)
PASSWORD_RESET_ACCOUNT_RATE_LIMIT = env.int("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", default=3)
PASSWORD_RESET_RATE_WINDOW = timedelta(hours=1)
# Files shared to the installed portal per client IP and window (the share target needs no
# login, so this bounds what anyone can make the portal store for 15 minutes).
SHARE_IP_RATE_LIMIT = env.int("SHARE_IP_RATE_LIMIT", default=20)
SHARE_IP_RATE_WINDOW = timedelta(minutes=15)

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
# Saved means saved: web requests publish after their commit, so a broker that hangs (no
# answer, the TCP connection still open) must cost about a second per attempt, never the
# gunicorn timeout. socket_timeout bounds every synchronous command (a publish); kombu's event
# loop, which waits for tasks in the worker, is not affected by it (kombu's redis transport
# docs). The tests use these options too (tests/celery_worker.py).
BROKER_REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 1,
    "socket_connect_timeout": 1,
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # kombu's default is a "control" folder in the current directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = BROKER_REDIS_TRANSPORT_OPTIONS
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process that grew past 400 MB (a large photo) is replaced after its task.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 400_000  # KiB
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Two queues: `celery` (events, escalation, evidence, the sweepers) and `mail` (e-mails only),
# each with workers of its own (docker-compose.yml, scripts/run-dev.sh): a mail server that
# hangs fills the mail workers, never the ones that escalate.
CELERY_TASK_DEFAULT_QUEUE = "celery"
MAIL_QUEUE = "mail"
# The desk mailbox's e-mails (the weekly confirmation and the notices of a desk without staff)
# go to SMTP as well, so they wait on the mail worker too.
CELERY_TASK_ROUTES = {
    name: {"queue": MAIL_QUEUE}
    for name in (
        "portal.tasks.notification_email",
        "portal.tasks.desk_mailbox_confirmations",
        "portal.tasks.desk_mailbox_email",
    )
}
# Invitations (portal.services.invitation_create): on the mail queue with the lowest priority,
# so that after an election thousands of them wait behind the notifications about threatened
# officeholders, never in front of them.
CELERY_TASK_ROUTES["portal.tasks.invitation_email"] = {"queue": MAIL_QUEUE, "priority": 9}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Publishing must never hang a web request when the broker is down or hangs: one retry
# after 0.2 s, each attempt bounded by the socket timeouts above. Measured against a
# SIGSTOPped Redis: about 3 s for the first publish, then 1 s for each further one (see
# tests/portal/test_saved_means_saved.py). What is not queued stays pending in the database
# and the sweeper re-queues it.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Periodic tasks are defined here, in code; django-celery-beat's scheduler copies them into
# the database, where the admin shows them (and can pause one).
# How often beat queues the sweeper of pending work (outbox entries, e-mails).
SWEEP_INTERVAL = float(env.int("SWEEP_INTERVAL_SECONDS", default=60))
CELERY_BEAT_SCHEDULER = "portal.beat:PortalScheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0},
    "sweep-pending-work": {"task": "portal.tasks.sweep_pending", "schedule": SWEEP_INTERVAL},
    "watch-triage-deadlines": {"task": "support.tasks.watch_triage_deadlines", "schedule": 300.0},
    "watch-unacknowledged-escalations": {
        "task": "support.tasks.watch_unacknowledged_escalations",
        "schedule": 900.0,
    },
    "anonymise-expired-incidents": {
        "task": "incidents.tasks.anonymise_expired_incidents",
        "schedule": 3600.0,
    },
    "sweep-pending-evidence": {"task": "incidents.tasks.sweep_pending_evidence", "schedule": 60.0},
    # Nobody unheard (portal.reachability): a report of a desk that nobody reads moves on
    # within a minute; the weekly mailbox check runs every hour and sends to the desks due.
    "watch-desk-reachability": {
        "task": "incidents.tasks.watch_desk_reachability",
        "schedule": 60.0,
    },
    "desk-mailbox-confirmations": {
        "task": "portal.tasks.desk_mailbox_confirmations",
        "schedule": 3600.0,
    },
    # End of term: reminders 30 and 7 days before, the account ends the day after the term
    # end where the person lives (hourly, so the Caribbean is not a day late).
    "end-terms": {"task": "incidents.tasks.end_terms", "schedule": 3600.0},
    # Follow-up: "bel terug op ..." reaches the handler within a minute of its time.
    "notify-due-callbacks": {"task": "incidents.tasks.notify_due_callbacks", "schedule": 60.0},
    "remove-expired-shared-uploads": {
        "task": "incidents.tasks.remove_expired_shared_uploads",
        "schedule": 300.0,
    },
    # Personal data that is only kept for a while (README, "Encryption at rest and retention").
    "clear-expired-sessions": {"task": "portal.tasks.clear_expired_sessions", "schedule": 3600.0},
    "purge-login-attempts": {"task": "portal.tasks.purge_login_attempts", "schedule": 3600.0},
    "purge-access-log": {"task": "portal.tasks.purge_access_log", "schedule": 3600.0},
}
# Work (an event to evaluate, an e-mail to send) still pending after this long is re-queued.
PENDING_WORK_AGE = timedelta(seconds=env.int("PENDING_WORK_AGE_SECONDS", default=120))
# The outbox (portal.outbox): a failing consumer is retried after 1, 2, 4, ... times the base,
# at most OUTBOX_RETRY_MAX_DELAY seconds apart, and marked failed after OUTBOX_MAX_ATTEMPTS.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE = timedelta(seconds=env.int("OUTBOX_RETRY_BASE_SECONDS", default=60))
OUTBOX_RETRY_MAX_DELAY = env.int("OUTBOX_RETRY_MAX_DELAY_SECONDS", default=3600)
# Consumers switched off by name (e.g. "support.rules"): no work is written for them.
OUTBOX_DISABLED_CONSUMERS = env.list("OUTBOX_DISABLED_CONSUMERS", default=[])
# Changes of an incident's perpetrator identifiers per day (guards against probing).
IDENTIFIER_CHANGES_PER_DAY = env.int("IDENTIFIER_CHANGES_PER_DAY", default=10)

# --- Monitoring (/healthz, /readyz, /metrics: portal/views_ops.py) ----------------------------
# The probes are answered before SecurityMiddleware (portal.middleware.ProbeMiddleware); the
# exemption says the same to anyone reading Django's redirect settings.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; empty: 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Django e-mails these addresses about errors (500s), comma-separated. The report holds no
# frame variables and no form data (portal.error_reports.PortalExceptionReporterFilter).
ADMINS = [(address, address) for address in env.list("ADMINS", default=[])]
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.error_reports.PortalExceptionReporterFilter"
# Optional error reporting to Sentry (portal/sentry.py): without local variables,
# request bodies or personal data, because frames hold decrypted incident text.
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
if SENTRY_DSN:
    from portal.sentry import sentry_init

    sentry_init(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
# Beat touches this file at every tick (portal/beat.py); `manage.py beat_health` (the compose
# health check of beat) is healthy while it is younger than BEAT_HEALTH_MAX_AGE_SECONDS.
BEAT_TICK_FILE = Path(env("BEAT_TICK_FILE", default=str(VAR_DIR / "beat-tick")))
BEAT_HEALTH_MAX_AGE = timedelta(seconds=env.int("BEAT_HEALTH_MAX_AGE_SECONDS", default=120))

# --- Forms and API --------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Django's widget templates drawn in Python: the same HTML, much less time (portal/form_html.py).
FORM_RENDERER = "portal.form_html.FormRenderer"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.PersonalTokenAuthentication",
        "portal.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "PAGE_SIZE": 25,
    # DRF's anon and user throttles, failing open when the cache is unavailable.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonRateThrottle",
        "portal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
    },
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# /api/schema/ and /api/docs/ need a login (session or token) unless this is on; it is on by
# default only with DEBUG.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)

SPECTACULAR_SETTINGS = {
    "TITLE": "Meldpunt Weerbaar Bestuur API",
    "DESCRIPTION": (
        "Incidents of aggression and intimidation against political officeholders, the desk's "
        "triage and the Ondersteuningsteam's support cases. Every endpoint answers only for "
        "objects in the caller's scope; anything else is 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.constants.Status",
        "CaseStatusEnum": "support.constants.CaseStatus",
        "ActionStatusEnum": "support.constants.ActionStatus",
        "OutcomeCategoryEnum": "incidents.constants.OutcomeCategory",
        "CaseOutcomeCategoryEnum": "support.constants.CASE_OUTCOME_CHOICES",
    },
}

# Logs: one JSON object per line on stderr, UTC times, the request id on each line of a
# request (portal/log_format.py; README, "Logs"). LOG_FORMAT=text gives plain lines for a
# terminal. The access log is portal.access (portal/request_log.py), without query strings.
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.log_format.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own loggers go to the root's JSON handler; errors are also e-mailed to
        # ADMINS (portal.error_reports: no variables, no form data).
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "portal.access": {"level": env("ACCESS_LOG_LEVEL", default="INFO")},
        # WeasyPrint (portal/pdf.py) logs every rendering step at INFO; only its problems count.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Python's warnings (Django captures them) as JSON lines too, not raw text.
        "py.warnings": {"handlers": [], "propagate": True},
    },
}
# Python's warnings go through logging (the py.warnings logger above), so they are JSON too.
logging.captureWarnings(True)
