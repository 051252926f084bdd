"""Production configuration: the compose file is valid, DEBUG off refuses development secrets
and the console e-mail backend, and `check --deploy` is clean with the README's settings.

These run outside the test process (docker-compose, a fresh Python) so that they see exactly
what an operator's shell would see.
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography.fernet import Fernet
from django.conf import settings

COMPOSE_FILE = settings.BASE_DIR / "docker-compose.yml"
DUMMY_SECRET_KEY = "compose-validation-only-secret-key-0123456789abcdefghijklmnopqrstuv"
DUMMY_ENCRYPTION_KEYS = {
    "FIELD_ENCRYPTION_KEYS": "Y29tcG9zZS12YWxpZGF0aW9uLW9ubHkta2V5LTAxMjM=",
    "IDENTIFIER_HASH_KEY": "compose-validation-only-identifier-hash-key",
}
# The PostgreSQL superuser's, the owner role's (migrations) and the app role's passwords.
DUMMY_DATABASE_PASSWORDS = {
    "POSTGRES_PASSWORD": "compose-validation-only",
    "DATABASE_OWNER_PASSWORD": "compose-validation-only-owner",
    "DATABASE_APP_PASSWORD": "compose-validation-only-app",
}
# Besides the secrets, compose refuses to start without these (no silent localhost defaults).
REQUIRED_SITE_SETTINGS = {
    "PORTAL_VERSION": "0.2.0",
    "ALLOWED_HOSTS": "meldpunt.example.nl",
    "CSRF_TRUSTED_ORIGINS": "https://meldpunt.example.nl",
    "PORTAL_BASE_URL": "https://meldpunt.example.nl",
    "EMAIL_HOST": "smtp.example.nl",
    "DEFAULT_FROM_EMAIL": "Meldpunt Weerbaar Bestuur <noreply@meldpunt.example.nl>",
}
COMPOSE_ENV = {
    "SECRET_KEY": DUMMY_SECRET_KEY,
    **DUMMY_ENCRYPTION_KEYS,
    **DUMMY_DATABASE_PASSWORDS,
    **REQUIRED_SITE_SETTINGS,
}
PORTAL_SERVICES = ("web", "worker", "mail-worker", "beat")


def docker_compose(*args: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """Run Debian's docker-compose (v1) on our compose file, isolated from any local `.env`."""
    executable = shutil.which("docker-compose")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is missing on CI: .ci/run must install it.")
        pytest.fail(
            "docker-compose is missing, so the compose file cannot be validated: "
            "apt-get install docker-compose (.ci/run does)."
        )
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [executable, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid(tmp_path):
    """`docker-compose config -q` accepts the production stack when the secrets are given."""
    result = docker_compose("config", "-q", env=COMPOSE_ENV, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr


def test_compose_file_has_the_production_services_and_volumes(tmp_path):
    """The stack is nginx, PostgreSQL, Redis (broker), a Redis for the cache, the migration
    service, web, worker, mail worker and beat, with persistent volumes for the database and
    the private evidence files."""
    env = COMPOSE_ENV

    services = docker_compose("config", "--services", env=env, tmp_path=tmp_path)
    volumes = docker_compose("config", "--volumes", env=env, tmp_path=tmp_path)

    assert services.returncode == 0, services.stderr
    assert set(services.stdout.split()) == {
        "nginx",
        "postgres",
        "redis",
        "cache",
        "migrate",
        "backup",
        "web",
        "worker",
        "mail-worker",
        "beat",
    }
    assert volumes.returncode == 0, volumes.stderr
    assert {"postgres-data", "private-files"} <= set(volumes.stdout.split())


def compose_config(tmp_path) -> dict:
    """The stack as docker-compose renders it, with dummy secrets."""
    result = docker_compose("config", env=COMPOSE_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_workers_split_the_queues_so_mail_never_holds_escalation(tmp_path):
    """The worker consumes only the default queue and the mail worker only the mail queue
    (the queue CELERY_TASK_ROUTES sends e-mail to)."""
    services = compose_config(tmp_path)["services"]

    def queues(name: str) -> str:
        [option] = [arg for arg in services[name]["command"] if arg.startswith("--queues=")]
        return option.removeprefix("--queues=")

    assert queues("worker") == settings.CELERY_TASK_DEFAULT_QUEUE
    assert queues("mail-worker") == settings.MAIL_QUEUE
    from portal.celery import app

    for task in (
        "portal.tasks.notification_email",
        "portal.tasks.desk_mailbox_confirmations",
        "portal.tasks.desk_mailbox_email",
        "portal.tasks.invitation_email",
    ):
        assert app.amqp.router.route({}, task)["queue"].name == "mail", task
    # Invitations are the low-priority mail (Redis: a higher number is served later).
    assert app.amqp.router.route({}, "portal.tasks.invitation_email")["priority"] == 9
    assert app.amqp.router.route({}, "incidents.tasks.watch_desk_reachability")["queue"].name == (
        "celery"
    )
    assert services["mail-worker"]["environment"]["EMAIL_TIMEOUT"] == "10"


def test_make_run_starts_a_worker_per_queue():
    """`make run` (scripts/run-dev.sh) starts one worker on the default queue and one on the
    mail queue, so e-mail is sent in development too."""
    script = (settings.BASE_DIR / "scripts" / "run-dev.sh").read_text()
    workers = [
        line for line in script.splitlines() if " worker " in line and "celery" in line.lower()
    ]

    assert sorted(
        next(arg for arg in line.split() if arg.startswith("--queues=")) for line in workers
    ) == ["--queues=celery", "--queues=mail"]


def test_the_cache_is_not_the_brokers_redis(tmp_path):
    """The login and API counters live in a Redis of their own: a full or hung broker cannot
    take the login with it."""
    services = compose_config(tmp_path)["services"]

    for name in PORTAL_SERVICES:
        environment = services[name]["environment"]
        cache_host = urlsplit(environment["CACHE_URL"]).hostname
        broker_host = urlsplit(environment["CELERY_BROKER_URL"]).hostname
        assert cache_host == "cache", name
        assert broker_host == "redis", name
    assert services["web"]["depends_on"]["cache"]["condition"] == "service_started"


def test_only_nginx_publishes_ports_and_the_portal_trusts_exactly_that_proxy(tmp_path):
    """Clients reach gunicorn only through nginx, which overwrites X-Forwarded-For and sets
    X-Forwarded-Proto: so the portal counts one proxy and trusts the scheme it reports."""
    services = compose_config(tmp_path)["services"]

    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"nginx"}
    assert {str(port["target"]) for port in services["nginx"]["ports"]} == {"80", "443"}
    for name in ("web", "worker", "mail-worker", "beat"):
        environment = services[name]["environment"]
        assert environment["TRUSTED_PROXY_COUNT"] == "1", name
        assert environment["TRUST_X_FORWARDED_PROTO"] == "true", name


def test_nginx_runs_a_pinned_image_with_the_portals_configuration(tmp_path):
    """The image is pinned by version; the files it mounts exist in the repository."""
    nginx = compose_config(tmp_path)["services"]["nginx"]

    name, _, tag = nginx["image"].partition(":")
    assert name == "nginx"
    assert tag and tag != "latest" and tag[0].isdigit(), nginx["image"]
    targets = {}
    for volume in nginx["volumes"]:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        targets[target] = Path(source)
    assert targets["/etc/nginx/conf.d/default.conf"].is_file()
    assert targets["/etc/nginx/snippets"].is_dir()
    assert "/etc/nginx/certs" in targets


def test_compose_file_refuses_to_start_without_a_secret_key(tmp_path):
    """Without SECRET_KEY the compose file does not even render: no default secret exists."""
    env = {name: value for name, value in COMPOSE_ENV.items() if name != "SECRET_KEY"}
    result = docker_compose("config", "-q", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("name", sorted(REQUIRED_SITE_SETTINGS))
def test_compose_file_refuses_to_start_without_the_sites_own_settings(name, tmp_path):
    """No silent defaults (http://localhost, EMAIL_HOST=localhost, noreply@localhost, the
    image :latest): each of these must be given."""
    env = {key: value for key, value in COMPOSE_ENV.items() if key != name}

    result = docker_compose("config", "-q", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert f"{name} must be set" in result.stderr


def test_migrations_run_once_per_release_in_their_own_service(tmp_path):
    """`migrate` checks the configuration, migrates and exits; web, worker, mail worker and
    beat start only after it succeeded, and none of them migrates itself."""
    services = compose_config(tmp_path)["services"]

    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    script = migrate["command"][-1]
    assert script.index("manage.py check --deploy") < script.index("manage.py migrate --no-input")
    assert "&&" in script
    for name in PORTAL_SERVICES:
        service = services[name]
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert "migrate" not in " ".join(service["command"]), name
        assert service["image"] == "meldpunt-weerbaar-bestuur:0.2.0", name
    assert migrate["image"] == services["web"]["image"]
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    assert "migrate" not in dockerfile.split("CMD", 1)[1]


def test_every_portal_service_has_a_health_check_of_its_own(tmp_path):
    """web: /readyz over plain http (never redirected); the workers: a ping to their own
    Celery node; beat: its last tick (`manage.py beat_health`)."""
    services = compose_config(tmp_path)["services"]

    assert "http://localhost:8000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name, node in (("worker", "worker"), ("mail-worker", "mail")):
        test = " ".join(services[name]["healthcheck"]["test"])
        # `$$` in the rendered file too: the shell in the container expands $HOSTNAME, which
        # is the %h of the worker's --hostname.
        assert f"celery -A portal inspect ping --destination {node}@$$HOSTNAME" in test, name
        assert f"--hostname={node}@%h" in services[name]["command"], name
    assert services["beat"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "manage.py",
        "beat_health",
    ]
    assert services["beat"]["environment"]["BEAT_TICK_FILE"].startswith("/tmp/")  # noqa: S108


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Load the WSGI application (what gunicorn starts) in a fresh Python with exactly these
    overrides of the environment."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    environment.pop("SECRET_KEY", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import portal.wsgi; print('settings loaded')"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_refuses_the_development_secret_key():
    """With DEBUG off and no SECRET_KEY (so the development key), Django does not start."""
    result = load_settings(DEBUG="false")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_off_refuses_the_development_secret_key_given_explicitly():
    """Copying the development key from settings.py into the environment does not help."""
    result = load_settings(DEBUG="false", SECRET_KEY=settings.DEVELOPMENT_SECRET_KEY)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_development_commands_work_without_production_secrets():
    """`makemigrations --check` needs no secrets: only what serves data refuses them."""
    environment = {**os.environ, "DEBUG": "false"}
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "IDENTIFIER_HASH_KEY"):
        environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_celery_worker_and_beat_refuse_the_development_secrets(tmp_path):
    """A real worker or beat with DEBUG off exits at once on the development secret key."""
    # The embedded stack in a temporary folder: SQLite (beat's schedule lives in the database)
    # and the filesystem broker, so no server is needed.
    environment = {**os.environ, "VAR_DIR": str(tmp_path)}
    for name in ("SECRET_KEY", "CELERY_BROKER_URL", "DATABASE_URL"):
        environment.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env={**environment, "DEBUG": "true"},
        check=True,
        timeout=120,
    )
    environment["DEBUG"] = "false"
    celery = str(Path(sys.executable).with_name("celery"))
    for command in (["worker", "--pool=solo"], ["beat"]):
        result = subprocess.run(
            [celery, "-A", "portal", *command, "--loglevel=ERROR"],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, command
        assert "SECRET_KEY is the development key" in result.stderr + result.stdout, command


def test_debug_off_with_a_real_secret_key_loads():
    """With DEBUG off and a real secret key, the settings load."""
    result = load_settings(
        DEBUG="false", SECRET_KEY="a-real-production-like-secret-key-0123456789abcdefghijklmnop"
    )

    assert result.returncode == 0, result.stderr
    assert "settings loaded" in result.stdout


def readme_production_settings() -> dict[str, str]:
    """The `.env` of README's "Production deployment", placeholders filled in as told there."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("## Production deployment", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    values = {}
    for line in block.strip().splitlines():
        name, value = line.strip().split("=", 1)
        if value.startswith("<") and value.endswith(">"):
            value = (
                Fernet.generate_key().decode() if "Fernet" in value else secrets.token_urlsafe(50)
            )
        elif value == "...":
            value = "filled-in"
        values[name] = value
    return values


def check_deploy(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` in a fresh Python with only `env`, as
    the compose stack starts it (DEBUG off)."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "VAR_DIR": str(tmp_path),
            "DEBUG": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_readmes_production_settings(tmp_path):
    """The README promises a clean `check --deploy` with the settings it documents: exactly
    those (behind the TLS proxy, which redirects http to https), nothing added."""
    env = readme_production_settings()
    assert {"SECRET_KEY", "ALLOWED_HOSTS"} <= set(env)
    # What docker-compose.yml sets by default behind its nginx (checked against the file).
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    proxy = {"TRUST_X_FORWARDED_PROTO": "true", "TRUSTED_PROXY_COUNT": "1"}
    for name, value in proxy.items():
        assert f"{name}: ${{{name}:-{value}}}" in compose

    result = check_deploy({**proxy, **env}, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_still_warns_when_nothing_redirects_to_https(tmp_path):
    """Without the TLS proxy (TRUST_X_FORWARDED_PROTO) and without SECURE_SSL_REDIRECT,
    Django's W008 is not silenced."""
    env = {**readme_production_settings(), "TRUST_X_FORWARDED_PROTO": "false"}

    result = check_deploy(env, tmp_path)

    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_the_console_e_mail_backend_is_refused_with_debug_off(tmp_path):
    """The attack: with DEBUG off and the console backend, password reset links went to the
    server's log. `check --deploy` reports it, and the web application does not start."""
    console = "django.core.mail.backends.console.EmailBackend"
    env = {**readme_production_settings(), "EMAIL_BACKEND": console}

    result = check_deploy(env, tmp_path)
    started = load_settings(
        DEBUG="false",
        SECRET_KEY="a-real-production-like-secret-key-0123456789abcdefghijklmnop",
        EMAIL_BACKEND=console,
    )

    assert result.returncode != 0
    assert "portal.E001" in result.stdout + result.stderr
    assert "console backend" in result.stdout + result.stderr
    assert started.returncode != 0
    assert "EMAIL_BACKEND is the console backend" in started.stderr


def test_without_email_backend_production_uses_smtp():
    """With DEBUG off and no EMAIL_BACKEND the default is SMTP, never the console."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.EMAIL_BACKEND)",
        ],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"
