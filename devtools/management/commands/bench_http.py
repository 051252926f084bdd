"""`manage.py bench_http`: throughput of the main pages through gunicorn. A benchmark that prints.

Issues 14 (part 9) and 18 (part 5): every officeholder page, and the desk's and the support
team's main pages, should answer at least half as many requests per second as the login page,
measured in the same run on the same machine. The login page is the yardstick because it is
the lightest page that still runs the whole stack (middleware, base template, the database
for the session), so the ratio says what a page costs on top of that, whatever the machine.

What it does:

1. Seeds the demo data (`devtools/demo`, as `seed_demo` does) into the configured database;
   a second run finds it there.
2. Starts gunicorn with the project's gunicorn.conf.py and `portal.wsgi` (2 sync workers,
   DEBUG off, its JSON access log to a file) on a free loopback port.
3. Logs in as the demo officeholder, registrar and support member through the real login
   page: a POST with the CSRF token, and for staff the code step with the current code of
   their authenticator app (computed from the device, as tests/browser/fixtures.py does).
4. Runs wrk (Debian package `wrk`) for `--duration` seconds per page with that session's
   cookie, and prints one table: page, requests/s, p50, p99 and the ratio to the login page.

A page that does not answer 200 before its run, or answers anything but 2xx/3xx during it,
stops the benchmark: a fast error page would be a false result. The command writes demo
accounts and cases and logs in: it only runs with `--throwaway-database`; `make bench-http`
runs it against a throwaway PostgreSQL and Redis.
"""

import http.client
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse

from devtools.gunicorn import Gunicorn, database_url
from devtools.management.commands.bench_desk import (
    database_description,
    require_throwaway_database,
)
from portal.models import User
from portal.two_factor import totp_code, totp_device_get

OFFICEHOLDER = "wethouder.utrecht"
REGISTRAR = "meldpunt.utrecht"
SUPPORT = "ondersteuning"
# Only used in the throwaway database: the demo accounts get it when they are seeded.
PASSWORD = "bench-http-demo-password"  # noqa: S105
TARGET_RATIO = 0.5
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Page:
    label: str
    url: str
    cookie: str  # "" for the login page


@dataclass
class Result:
    page: Page
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


class Browser:
    """Just enough of a browser for a login: a cookie jar and one server."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, url: str, data: dict | None = None):
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        client.request(method, url, body=body, headers=headers)
        response = client.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            # Secure cookies (DEBUG off) are kept too: this "browser" talks http on loopback.
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        client.close()
        return response.status, response.headers.get("Location", ""), text

    def post_form(self, url: str, data: dict):
        status, _, page = self.request("GET", url)
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None:
            raise CommandError(f"{url} answered {status} without a form.")
        return self.request("POST", url, {"csrfmiddlewaretoken": token.group(1), **data})


def log_in(port: int, username: str) -> str:
    """Log in through the real pages (password, then the code step) and return the cookie."""
    browser = Browser(port)
    login_url = reverse("login")
    status, location, _ = browser.post_form(login_url, {"username": username, "password": PASSWORD})
    if status != 302:
        raise CommandError(f"Logging in as {username} answered {status}.")
    if location.startswith(reverse("two_factor_verify")):
        user = User.objects.get(username=username)
        device = totp_device_get(user=user)
        if device is None:
            raise CommandError(f"{username} has no authenticator app.")
        status, location, _ = browser.post_form(location, {"code": totp_code(device)})
        if status != 302 or location.startswith(reverse("two_factor_verify")):
            raise CommandError(f"The code step of {username} answered {status} {location}.")
    return browser.cookie_header()


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def run_wrk(port: int, page: Page, *, duration: int, connections: int, threads: int) -> Result:
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={duration}s",
        "--timeout=10s",
        "--latency",
    ]
    if page.cookie:
        command += ["--header", f"Cookie: {page.cookie}"]
    command.append(f"http://127.0.0.1:{port}{page.url}")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rate and p50 and p99):
        raise CommandError(f"Could not read wrk's output:\n{output}")
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        raise CommandError(f"{page.label}: wrk reported socket errors ({socket_errors.group(1)}).")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        page,
        float(rate.group(1)),
        _milliseconds(p50.group(1)),
        _milliseconds(p99.group(1)),
        int(errors.group(1)) if errors else 0,
    )


def demo_seed() -> None:
    """The demo organisations, people and stories (what `seed_demo` creates), once."""
    from devtools.demo import people, stories

    with transaction.atomic():
        people.seed(password=PASSWORD)
        if not User.objects.get(username=OFFICEHOLDER).incidents.exists():
            stories.seed()


def pages(port: int) -> list[Page]:
    """The pages to measure, each with the session of the person who uses it."""
    from incidents.policies import incident_policy
    from support.policies import case_policy

    officeholder = User.objects.get(username=OFFICEHOLDER)
    registrar = User.objects.get(username=REGISTRAR)
    support = User.objects.get(username=SUPPORT)

    def richest(queryset, events="events"):
        # The incident (or case) with the longest history: the heaviest page of the demo.
        return queryset.annotate(events_count=Count(events)).order_by("-events_count", "pk")

    own = [
        incident
        for incident in richest(incident_policy.queryset(officeholder, "view"))
        if incident_policy.allows(officeholder, "complete", incident)
    ]
    desk_incident = richest(incident_policy.queryset(registrar, "view")).first()
    case = richest(case_policy.queryset(support, "view"), "incident__events").first()
    if not own or desk_incident is None or case is None:
        raise CommandError("The demo data has no open incident or case to show.")
    incident = own[0]
    cookies = {name: log_in(port, name) for name in (OFFICEHOLDER, REGISTRAR, SUPPORT)}
    return [
        Page("login page", reverse("login"), ""),
        Page("officeholder: home", reverse("home"), cookies[OFFICEHOLDER]),
        Page("officeholder: incident page", incident.get_absolute_url(), cookies[OFFICEHOLDER]),
        Page("officeholder: full report form", reverse("incidents:new"), cookies[OFFICEHOLDER]),
        Page(
            "officeholder: aanvullen",
            reverse("incidents:complete", args=[incident.reference]),
            cookies[OFFICEHOLDER],
        ),
        Page("officeholder: quick report", reverse("incidents:quick"), cookies[OFFICEHOLDER]),
        Page("desk: queue", reverse("desk:queue"), cookies[REGISTRAR]),
        Page(
            "desk: incident page",
            reverse("desk:detail", args=[desk_incident.reference]),
            cookies[REGISTRAR],
        ),
        Page("desk: filing on behalf", reverse("desk:file"), cookies[REGISTRAR]),
        Page("support: inbox", reverse("support:inbox"), cookies[SUPPORT]),
        Page(
            "support: case page",
            reverse("support:case", args=[case.incident.reference]),
            cookies[SUPPORT],
        ),
    ]


def page_check(port: int, page: Page) -> None:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    client.request("GET", page.url, headers={"Cookie": page.cookie} if page.cookie else {})
    response = client.getresponse()
    response.read()
    client.close()
    if response.status != 200:
        raise CommandError(
            f"{page.label} ({page.url}) answered {response.status} "
            f"{response.headers.get('Location', '')}: not measured."
        )


class Command(BaseCommand):
    help = (
        "Requests per second, p50 and p99 of the login page and the main pages of officeholder, "
        "desk and support through gunicorn and wrk, with the ratio to the login page. "
        "Only for a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--throwaway-database", action="store_true")
        parser.add_argument("--duration", type=int, default=10, help="Seconds per page.")
        parser.add_argument("--connections", type=int, default=8, help="Open connections.")
        parser.add_argument("--threads", type=int, default=2, help="wrk's threads.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn's workers.")
        parser.add_argument(
            "--only", default="", help="Measure only pages whose label contains this text."
        )

    def handle(self, *args, **options):
        require_throwaway_database(options)
        if shutil.which("wrk") is None:
            raise CommandError("wrk is not installed (apt-get install wrk; make bench-http).")
        demo_seed()
        self.stdout.write(f"Database: {database_description()}")
        with tempfile.TemporaryDirectory(prefix="mwb-bench-http-") as folder:
            server = Gunicorn(
                env={
                    **os.environ,
                    "DATABASE_URL": database_url(),
                    "DJANGO_SETTINGS_MODULE": "portal.settings",
                    "DEBUG": "false",
                    "WEB_CONCURRENCY": str(options["workers"]),
                    # gunicorn on loopback over http (portal/checks.py).
                    "LOOPBACK_TEST_STACK": "true",
                },
                log=Path(folder) / "gunicorn.log",
                ready=lambda server: server.request("GET", reverse("login")).status == 200,
            )
            try:
                self._measure(server.port, options)
            finally:
                server.stop()

    def _measure(self, port: int, options) -> None:
        measured = [
            page
            for page in pages(port)
            if page.label == "login page" or options["only"] in page.label
        ]
        for page in measured:
            page_check(port, page)
        # Warm up both workers (templates, translations, the first connection to PostgreSQL).
        for page in measured:
            run_wrk(port, page, duration=1, connections=options["connections"], threads=1)
        self.stdout.write(
            f"gunicorn: {options['workers']} sync workers; wrk: {options['connections']} "
            f"connections, {options['threads']} threads, {options['duration']} s per page"
        )
        self.stdout.write(
            f"{'page':<34} {'requests/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}"
        )
        results = []
        for page in measured:
            result = run_wrk(
                port,
                page,
                duration=options["duration"],
                connections=options["connections"],
                threads=options["threads"],
            )
            if result.errors:
                raise CommandError(f"{page.label}: {result.errors} answers were not 2xx or 3xx.")
            results.append(result)
            login_rate = results[0].requests_per_second
            ratio = result.requests_per_second / login_rate
            flag = "" if ratio >= TARGET_RATIO else "  below 0.5"
            self.stdout.write(
                f"{page.label:<34} {result.requests_per_second:>10.1f} {result.p50_ms:>8.1f} "
                f"{result.p99_ms:>8.1f} {ratio:>6.2f}{flag}"
            )
        self.stdout.write(
            f"ratio: requests/s of the page over the login page's in this run "
            f"(target: at least {TARGET_RATIO})."
        )
