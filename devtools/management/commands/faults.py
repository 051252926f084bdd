"""`manage.py faults`: the fault run (issue 13). A command that prints, not a test.

`make faults` starts a throwaway PostgreSQL and Redis (scripts/with-test-services.sh), then
this command starts the rest of a production-like stack on free loopback ports, from
Debian's packages and the project's own configuration: a second Redis for the rate-limit
cache, gunicorn (3 processes, gunicorn.conf.py), nginx in front of it (deploy/nginx with a
self-signed certificate: the client speaks HTTPS, so the Secure cookies of DEBUG off work), a
Celery worker on the default queue, a mail worker on the `mail` queue, Celery beat, and an SMTP
server that keeps every e-mail it receives (devtools/smtp_sink.py, aiosmtpd).

Then it runs bounded experiments, each with real people through nginx (officeholders filing
quick reports of physical violence, which escalate; registrars with their second factor):
a baseline; both Redis servers killed (SIGKILL) and hung (SIGSTOP), with logins meanwhile;
the worker and the mail worker killed; PostgreSQL restarted; the mail server closed and hung
(while it hangs, the time from each report to its support case is measured); a report
from Saba, timed until its desk's registrar has the e-mail; two registrars escalating the
same reports at once; double submits of one form. After each experiment it waits (bounded)
until the outbox and the e-mail have caught up, so each experiment's figures are its own.

At the end it prints one table, a row per experiment: reports filed, stored, escalated,
support cases, e-mails, duplicates, lost, and errors users saw (table_row says how each
is counted). E-mails are counted at the SMTP server, everything else in the database,
never from what the client saw. Only against a throwaway database (--throwaway-database).
"""

import html.parser
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from devtools.gunicorn import database_url
from devtools.management.commands.bench_desk import require_throwaway_database
from devtools.nginx import render_nginx_config

PASSWORD = "weerbaar-demo"  # noqa: S105 (the demo accounts' password, in a throwaway database)
OFFICEHOLDERS = ("wethouder.utrecht", "raadslid.utrecht")
REGISTRARS = ("meldpunt.utrecht", "meldpunt.utrecht.twee")
SABA = "eilandsraadslid.saba"  # the desk of Saba, Meldpunt Caribisch Nederland, has a registrar
START_TIMEOUT = 60
REQUEST_TIMEOUT = 30
# E-mail and the sweepers run faster than in production, so that a run fits in minutes.
FAST_ENVIRONMENT = {
    "EMAIL_TIMEOUT": "5",
    "EMAIL_RETRY_BASE_SECONDS": "5",
    "EMAIL_RETRY_MAX_DELAY_SECONDS": "20",
    "OUTBOX_RETRY_BASE_SECONDS": "5",
    "OUTBOX_RETRY_MAX_DELAY_SECONDS": "20",
    "PENDING_WORK_AGE_SECONDS": "15",
    "SWEEP_INTERVAL_SECONDS": "5",
    # Every login of the run comes from 127.0.0.1; the lockout is not what is tested here.
    "LOGIN_IP_RATE_LIMIT": "100000",
}
CATCH_UP_TIMEOUT = 90  # per experiment


# --- Servers ---------------------------------------------------------------------------------


class Process:
    """A server subprocess in a session of its own (so SIGKILL reaches its children)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], work: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = work / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Process":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own programs and arguments)
                self.argv,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process and all its children at once (no warm shutdown)."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


class Redis:
    """A redis-server on loopback that can be killed, hung and started again on its port."""

    def __init__(self, name: str, port: int, work: Path, pid_file: Path | None = None):
        self.name, self.port, self.work = name, port, work
        self.pid_file = pid_file or work / f"{name}.pid"

    def start(self) -> None:
        subprocess.run(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--pidfile",
                str(self.pid_file),
                "--logfile",
                str(self.work / f"{self.name}.log"),
                "--dir",
                str(self.work),
            ],  # fmt: skip
            check=True,
            capture_output=True,
        )
        _wait(lambda: self._ping(), what=f"{self.name} answering", timeout=10)

    def _ping(self) -> bool:
        result = subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "ping"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
        )
        return result.stdout.strip() == "PONG"

    def pid(self) -> int:
        return int(self.pid_file.read_text().strip())

    def signal(self, signum: int) -> None:
        os.kill(self.pid(), signum)

    def kill(self) -> None:
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: not Path(f"/proc/{pid}").exists(), what=f"{self.name} gone", timeout=10)
        self.pid_file.unlink(missing_ok=True)

    def shutdown(self) -> None:
        try:
            self.signal(signal.SIGCONT)
        except (OSError, ValueError):
            return
        subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],  # noqa: S607
            capture_output=True,
            timeout=10,
        )


class PostgreSQL:
    """The throwaway PostgreSQL of scripts/with-test-services.sh, restarted in place."""

    def __init__(self, services_dir: Path):
        self.folder = services_dir / "pg"
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not binaries:
            raise CommandError("PostgreSQL is not installed (apt-get install postgresql).")
        self.pg_ctl = str(binaries[-1])

    def restart(self) -> None:
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(  # noqa: S603
            [
                *run_as,
                self.pg_ctl,
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "-l",
                str(self.folder / "server.log"),
                "restart",
            ],  # fmt: skip
            cwd=self.folder,
            check=True,
            # Not a pipe: the restarted server would inherit it and keep it open for good.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def _wait(condition, *, what: str, timeout: float, every: float = 0.2) -> float:
    """Poll until `condition()`; returns the seconds it took, raises after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if condition():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001, S110 - a server that is starting; poll again
            pass
        time.sleep(every)
    raise CommandError(f"No {what} after {timeout} s.")


def free_ports(count: int) -> list[int]:
    """`count` different free loopback ports (all held open while they are picked)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def nginx_config(folder: Path, *, upstream: str, http_port: int, https_port: int) -> Path:
    """deploy/nginx as the image loads it, with loopback ports, in `folder`."""
    try:
        return render_nginx_config(
            folder,
            upstream=upstream,
            http_port=http_port,
            https_port=https_port,
            worker_connections=512,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error


# --- A person with a browser -----------------------------------------------------------------


class _Forms(html.parser.HTMLParser):
    """The forms of a page: action and fields (inputs, textareas, the first option)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value", ""))
        elif tag == "textarea" and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = "Door de foutenproef ingevuld."
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
        elif tag == "option" and self._select and attrs.get("value"):
            self.forms[-1]["fields"].setdefault(self._select, attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_form(
    page: str, action_contains: str, *, with_field: str = "", page_path: str = ""
) -> dict[str, str]:
    """The fields of the page's first form posting to `action_contains` (with `with_field`)."""
    parser = _Forms()
    parser.feed(page)
    for form in parser.forms:
        # A form without an action posts to the page itself.
        action = form["action"] or page_path
        if action_contains in action and (not with_field or with_field in form["fields"]):
            return dict(form["fields"])
    raise LookupError(f"no form posting to {action_contains!r} with {with_field!r}")


@dataclass
class Answer:
    status: int  # 0: no answer (refused, timed out)
    url: str
    body: str
    seconds: float

    @property
    def server_error(self) -> bool:
        return self.status == 0 or self.status >= 500


class Browser:
    """Cookies, CSRF tokens from the page's form, followed redirects, over HTTPS via nginx."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # our own self-signed certificate on loopback
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()),
            urllib.request.HTTPSHandler(context=context),
        )

    def request(self, path: str, fields: dict | None = None) -> Answer:
        url = self.base_url + path
        data = None if fields is None else urllib.parse.urlencode(fields, doseq=True).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310
        start = time.monotonic()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                body = response.read().decode(errors="replace")
                return Answer(response.status, response.geturl(), body, time.monotonic() - start)
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            return Answer(error.code, error.geturl(), body, time.monotonic() - start)
        except (OSError, urllib.error.URLError):
            return Answer(0, url, "", time.monotonic() - start)

    def post_form(self, path: str, fields: dict, *, action: str | None = None) -> Answer:
        page = self.request(path)
        if page.status != 200:
            return page
        try:
            form = page_form(page.body, action or path, page_path=path)
        except LookupError:
            return Answer(page.status, page.url, page.body, page.seconds)
        form.update(fields)
        return self.request(action or path, form)

    def login(self, username: str, code=None) -> bool:
        self.last_login = self._login(username, code)
        answer = self.last_login
        return answer.status == 200 and "/account/" not in urllib.parse.urlsplit(answer.url).path

    def _login(self, username: str, code=None) -> Answer:
        answer = self.post_form("/account/inloggen/", {"username": username, "password": PASSWORD})
        if "/tweestapsverificatie/" in answer.url and code is not None:
            path = urllib.parse.urlsplit(answer.url)
            form = page_form(answer.body, "", with_field="code", page_path=path.path)
            form["code"] = code()
            answer = self.request(f"{path.path}?{path.query}", form)
        return answer


REFERENCE = re.compile(r"/meldingen/(MWB-\d{4}-\d{6})/ontvangen/")


@dataclass
class Filing:
    answer: Answer
    reference: str | None
    started_at: float = 0.0  # time.monotonic() when the officeholder pressed the button


def quick_report(browser: Browser, *, kind: str = "physical_violence", token=None) -> Filing:
    """File a quick report as an officeholder does; the reference if the user saw it saved."""
    started_at = time.monotonic()
    answer = browser.post_form(
        "/meldingen/snel/",
        {
            "types": [kind],
            "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
            "summary": "Geduwd en geslagen na de raadsvergadering.",
            "submission_token": token or str(uuid.uuid4()),
        },
    )
    match = REFERENCE.search(answer.url)
    return Filing(answer, match.group(1) if match else None, started_at)


def seconds_summary(seconds: list[float]) -> str:
    """ "at most 1.2 s (median 0.4 s)" for a list of durations."""
    if not seconds:
        return "none measured"
    ordered = sorted(seconds)
    return f"at most {ordered[-1]:.1f} s (median {ordered[len(ordered) // 2]:.1f} s)"


def seconds_until(filings: list[Filing], reached, *, what: str, timeout: float) -> list[float]:
    """For each saved filing, the seconds from pressing the button until `reached(reference)`
    was first seen (all filings polled together, so one slow report does not add to others)."""
    pending = {filing.reference: filing for filing in filings if filing.reference}
    seconds = []

    def all_reached() -> bool:
        connection.close()  # PostgreSQL may have restarted
        for reference, filing in list(pending.items()):
            if reached(reference):
                seconds.append(time.monotonic() - filing.started_at)
                del pending[reference]
        return not pending

    _wait(all_reached, what=what, timeout=timeout, every=0.1)
    return seconds


# --- Experiments -----------------------------------------------------------------------------


@dataclass
class Experiment:
    name: str
    filed: int = 0
    confirmed: list[str] = field(default_factory=list)
    errors: int = 0
    first_pk: int = 0
    last_pk: int = 0
    notes: list[str] = field(default_factory=list)
    # What the person got instead of a confirmation: HTTP status (0: no answer) -> count.
    error_statuses: Counter = field(default_factory=Counter)

    def record(self, filing: Filing) -> None:
        self.filed += 1
        if filing.reference:
            self.confirmed.append(filing.reference)
        else:
            self.errors += 1
            self.error_statuses[filing.answer.status] += 1


COLUMNS = (
    "experiment", "filed", "stored", "escalated", "cases", "e-mails", "duplicates", "lost",
    "errors seen", "errors, saved",
)  # fmt: skip


@dataclass
class Stored:
    """What the database holds for one experiment's incidents."""

    references: set[str]
    escalations: list[int]  # the incident of each Escalation row
    cases: list[int]  # the incident of each SupportCase row
    message_ids: set[str]  # the Message-ID of each notification with an e-mail address
    attempts: int = 0


def table_row(experiment: Experiment, stored: Stored, received: Counter) -> dict:
    """One row of the table. `received` counts the e-mails the SMTP server got by Message-ID.

    duplicates: a second Escalation or SupportCase for an incident, more incidents than
    reports filed (a double submit stored twice), every e-mail received more than once.
    lost: a report the user was shown as saved that is not stored, a stored report without
    an escalation or a support case (every report of the run escalates), a notification
    whose e-mail never arrived. errors, saved: stored reports for which the user saw no
    confirmation (an error page for a saved report).
    """
    references, escalated, with_case = stored.references, set(stored.escalations), set(stored.cases)
    duplicates = (
        len(stored.escalations) - len(escalated)
        + len(stored.cases) - len(with_case)
        + max(0, len(references) - experiment.filed)
        + sum(received[mid] - 1 for mid in stored.message_ids if received[mid] > 1)
    )  # fmt: skip
    lost = (
        len(set(experiment.confirmed) - references)
        + (len(references) - len(escalated))
        + (len(references) - len(with_case))
        + sum(1 for mid in stored.message_ids if received[mid] == 0)
    )
    return {
        "experiment": experiment.name,
        "filed": experiment.filed,
        "stored": len(references),
        "escalated": len(escalated),
        "cases": len(with_case),
        "e-mails": sum(received[mid] for mid in stored.message_ids),
        "duplicates": duplicates,
        "lost": lost,
        "errors seen": experiment.errors,
        "errors, saved": len(references - set(experiment.confirmed)),
    }


def format_table(rows: list[dict]) -> list[str]:
    """The rows as a Markdown table (README quotes it as is)."""
    widths = {c: max(len(c), *(len(str(row[c])) for row in rows)) for c in COLUMNS}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in COLUMNS) + " |"]
    lines.append("|" + "|".join("-" * (widths[c] + 2) for c in COLUMNS) + "|")
    for row in rows:
        cells = (
            str(row[c]).ljust(widths[c]) if c == "experiment" else str(row[c]).rjust(widths[c])
            for c in COLUMNS
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _max_incident_pk() -> int:
    from incidents.models import Incident

    connection.close()  # PostgreSQL may have restarted since the last query
    return Incident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


class Command(BaseCommand):
    help = "Start a production-like stack, inject faults, print what was lost or duplicated."

    def add_arguments(self, parser):
        parser.add_argument("--throwaway-database", action="store_true")
        parser.add_argument("--reports", type=int, default=8, help="Reports per experiment.")
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            help="Run only the experiments whose name contains this word (repeatable).",
        )
        parser.add_argument(
            "--keep-logs", action="store_true", help="Keep the servers' logs afterwards."
        )

    def handle(self, *args, **options):
        require_throwaway_database(options)
        if connection.vendor != "postgresql":
            raise CommandError("The fault run needs PostgreSQL (make faults starts one).")
        for variable in ("TEST_SERVICES_DIR", "TEST_REDIS_PORT"):
            if variable not in os.environ:
                raise CommandError(f"{variable} is missing: run through make faults.")
        for program in ("nginx", "redis-server"):
            if shutil.which(program, path=f"{os.environ.get('PATH', '')}:/usr/sbin") is None:
                raise CommandError(f"{program} is missing (make faults lists the packages).")
        # `make faults` stops the run with SIGTERM after 20 minutes: the servers stop too.
        signal.signal(signal.SIGTERM, _interrupt)
        self.reports = options["reports"]
        self.only = options["only"]
        self.started = time.monotonic()
        self.work = Path(tempfile.mkdtemp(prefix="mwb-faults-"))
        self.processes: dict[str, Process] = {}
        self.redis_servers: list[Redis] = []
        try:
            self._start_stack()
            experiments = self._run_experiments()
            self._print_table(experiments)
        except BaseException:
            self.stderr.write(f"The fault run stopped; the server logs are in {self.work}")
            raise
        finally:
            self._stop_stack()
        if options["keep_logs"]:
            self.stdout.write(f"The server logs are in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        self.stdout.write(f"Total time: {time.monotonic() - self.started:.0f} s.")

    # --- the stack ---------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:6.1f} s] {text}")
        self.stdout.flush()

    def _start_stack(self) -> None:
        services_dir = Path(os.environ["TEST_SERVICES_DIR"])
        self.postgres = PostgreSQL(services_dir)
        self.broker = Redis(
            "redis",
            int(os.environ["TEST_REDIS_PORT"]),
            services_dir,
            pid_file=services_dir / "redis.pid",
        )
        cache_port, gunicorn_port, http_port, https_port, smtp_port = free_ports(5)
        self.cache = Redis("cache", cache_port, self.work)
        self.cache.start()
        self.redis_servers = [self.broker, self.cache]
        self.base_url = f"https://127.0.0.1:{https_port}"
        self.mail_file = self.work / "mails.jsonl"
        self.mail_file.touch()
        env = {
            **os.environ,
            **FAST_ENVIRONMENT,
            "DEBUG": "false",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.broker.port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{self.cache.port}/0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # nginx passes $host (no port) on; the browser's Referer names the port.
            "CSRF_TRUSTED_ORIGINS": self.base_url,
            "TRUST_X_FORWARDED_PROTO": "true",
            "TRUSTED_PROXY_COUNT": "1",
            "PORTAL_BASE_URL": self.base_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            # A loopback SMTP server is refused in production (portal/checks.py).
            "LOOPBACK_TEST_STACK": "true",
            "EMAIL_PORT": str(smtp_port),
            "WEB_CONCURRENCY": "3",
            "LOG_LEVEL": "WARNING",
            "PRIVATE_STORAGE_ROOT": str(self.work / "private"),
        }
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "portal"]
        quiet = ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
        definitions = {
            "smtp": [python, "-m", "devtools.smtp_sink", "--port", str(smtp_port),
                     "--out", str(self.mail_file)],
            "gunicorn": [python, "-m", "gunicorn", "portal.wsgi", "--bind",
                         f"127.0.0.1:{gunicorn_port}"],
            "worker": [*celery, "worker", "--queues=celery", "--concurrency=2",
                       "--hostname=faults-worker@%h", *quiet],
            "mail-worker": [*celery, "worker", "--queues=mail", "--concurrency=2",
                            "--hostname=faults-mail@%h", *quiet],
            "beat": [*celery, "beat", "--loglevel=WARNING", "--schedule",
                     str(self.work / "celerybeat-schedule")],
        }  # fmt: skip
        nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
        main = nginx_config(
            self.work / "nginx",
            upstream=f"127.0.0.1:{gunicorn_port}",
            http_port=http_port,
            https_port=https_port,
        )
        definitions["nginx"] = [
            nginx, "-p", f"{self.work / 'nginx'}/", "-c", str(main),
            "-e", str(self.work / "nginx" / "error.log"), "-g", "daemon off;",
        ]  # fmt: skip
        self._say(f"Seeding the demo accounts; servers and logs in {self.work}")
        from devtools.demo import people as demo

        demo.seed(password=PASSWORD)
        self._second_registrar()
        self._repeat_rule_off()
        for name, argv in definitions.items():
            self.processes[name] = Process(name, argv, env, self.work).start()
        self._wait_serving()
        self._say(
            f"Stack up: nginx {self.base_url} -> gunicorn :{gunicorn_port}, PostgreSQL, Redis "
            f":{self.broker.port} (broker) and :{self.cache.port} (cache), worker, mail worker, "
            f"beat, SMTP sink :{smtp_port}"
        )

    def _second_registrar(self) -> None:
        """A second registrar at the Utrecht desk, to race the first one."""
        from devtools.demo.people import demo_totp_device_ensure
        from portal.models import User

        first = User.objects.get(username=REGISTRARS[0])
        second, _ = User.objects.get_or_create(
            username=REGISTRARS[1],
            defaults={
                "email": f"{REGISTRARS[1]}@example.org",
                "role": first.role,
                "desk": first.desk,
                "first_name": "Tweede",
                "last_name": "Registrator",
            },
        )
        second.set_password(PASSWORD)
        second.save()
        demo_totp_device_ensure(user=second)

    def _repeat_rule_off(self) -> None:
        """The "3 incidents in 30 days" rule off: the run files dozens of reports for two
        officeholders, and the racing registrars need reports that are not escalated yet.
        Physical violence still escalates by its own rule."""
        from support.constants import RuleCode
        from support.models import EscalationRule

        EscalationRule.objects.update_or_create(
            code=RuleCode.REPEAT_INCIDENTS, defaults={"enabled": False}
        )

    def _wait_serving(self) -> None:
        def serving() -> bool:
            for process in self.processes.values():
                if process.process.poll() is not None:
                    raise CommandError(f"{process.name} exited:\n{process.log_tail()}")
            return Browser(self.base_url).request("/account/inloggen/").status == 200

        try:
            _wait(serving, what="login page through nginx", timeout=START_TIMEOUT)
        except CommandError:
            for process in self.processes.values():
                self.stderr.write(f"--- {process.name} ---\n{process.log_tail()}")
            raise

    def _restart(self, name: str) -> None:
        self.processes[name].start()

    def _stop_stack(self) -> None:
        for name in ("beat", "worker", "mail-worker", "gunicorn", "nginx", "smtp"):
            process = self.processes.get(name)
            if process is not None:
                process.signal_group(signal.SIGCONT)
                process.stop()
        for server in self.redis_servers:
            try:
                server.signal(signal.SIGCONT)
            except (OSError, ValueError):
                pass
        self.cache.shutdown()

    # --- the people --------------------------------------------------------------------------

    def _officeholders(self) -> list[Browser]:
        browsers = []
        for username in OFFICEHOLDERS:
            browser = Browser(self.base_url)
            if not browser.login(username):
                answer = browser.last_login
                raise CommandError(
                    f"{username} could not log in on the healthy stack: {answer.status} "
                    f"{answer.url}\n{answer.body[:2000]}"
                )
            browsers.append(browser)
        return browsers

    def _registrar(self, username: str) -> Browser:
        from portal.models import User
        from portal.two_factor import totp_code, totp_device_get

        def code() -> str:
            connection.close()
            return totp_code(totp_device_get(user=User.objects.get(username=username)))

        browser = Browser(self.base_url)
        if not browser.login(username, code=code):
            answer = browser.last_login
            raise CommandError(
                f"{username} could not log in with the second factor: {answer.status} "
                f"{answer.url}\n{answer.body[:2000]}"
            )
        return browser

    def _file(self, experiment: Experiment, browsers: list[Browser], count: int, **kwargs):
        filings = []
        for number in range(count):
            filing = quick_report(browsers[number % len(browsers)], **kwargs)
            experiment.record(filing)
            filings.append(filing)
        return filings

    def _experiment(self, name: str, run) -> Experiment | None:
        if self.only and not any(word.lower() in name.lower() for word in self.only):
            return None
        experiment = Experiment(name)
        self._say(f"Experiment: {name}")
        experiment.first_pk = _max_incident_pk()
        run(experiment)
        experiment.last_pk = _max_incident_pk()
        self._catch_up(experiment)
        return experiment

    def _run_experiments(self) -> list[Experiment]:
        people = self._officeholders()
        n = self.reports
        experiments = [self._experiment("baseline", lambda e: self._file(e, people, n))]

        def redis_killed(e: Experiment) -> None:
            for server in self.redis_servers:
                server.kill()
            self._file(e, people, n)
            logins = [Browser(self.base_url).login(u) for u in OFFICEHOLDERS]
            e.errors += logins.count(False)
            e.notes.append(f"logins with Redis killed: {logins.count(True)}/{len(logins)}")
            for server in self.redis_servers:
                server.start()

        experiments.append(self._experiment("Redis killed (SIGKILL)", redis_killed))

        def redis_hung(e: Experiment) -> None:
            for server in self.redis_servers:
                server.signal(signal.SIGSTOP)
            try:
                filings = self._file(e, people, max(2, n // 2))
                logins = [Browser(self.base_url).login(u) for u in OFFICEHOLDERS]
            finally:
                for server in self.redis_servers:
                    server.signal(signal.SIGCONT)
            e.errors += logins.count(False)
            slowest = max(f.answer.seconds for f in filings)
            e.notes.append(
                f"logins with Redis hung: {logins.count(True)}/{len(logins)}; "
                f"slowest report {slowest:.1f} s"
            )

        experiments.append(self._experiment("Redis hung (SIGSTOP)", redis_hung))

        def worker_killed(name: str):
            def run(e: Experiment) -> None:
                self._file(e, people, n // 2)
                time.sleep(0.3)
                self.processes[name].kill()
                self._file(e, people, n - n // 2)
                time.sleep(2)
                self._restart(name)

            return run

        experiments.append(self._experiment("worker killed", worker_killed("worker")))
        experiments.append(self._experiment("mail worker killed", worker_killed("mail-worker")))

        def postgres_restarted(e: Experiment) -> None:
            self._file(e, people, n // 2)
            restart = threading.Thread(target=self.postgres.restart, daemon=True)
            restart.start()
            self._file(e, people, n - n // 2)
            restart.join(timeout=90)

        experiments.append(self._experiment("PostgreSQL restarted", postgres_restarted))

        def smtp_closed(e: Experiment) -> None:
            self.processes["smtp"].stop()
            self._file(e, people, n)
            time.sleep(15)  # attempts fail, back off and are retried
            self._restart("smtp")

        experiments.append(self._experiment("SMTP closed", smtp_closed))

        def smtp_hung(e: Experiment) -> None:
            from support.models import SupportCase

            self.processes["smtp"].signal_group(signal.SIGSTOP)
            try:
                hang_started = time.monotonic()
                filings = self._file(e, people, n)
                delays = seconds_until(
                    filings,
                    lambda reference: SupportCase.objects.filter(
                        incident__reference=reference
                    ).exists(),
                    what="support case for every report",
                    timeout=120,
                )
                time.sleep(max(0, 25 - (time.monotonic() - hang_started)))
                e.notes.append(
                    f"SMTP hung {time.monotonic() - hang_started:.0f} s; report -> support case "
                    f"{seconds_summary(delays)}"
                )
            finally:
                self.processes["smtp"].signal_group(signal.SIGCONT)

        experiments.append(self._experiment("SMTP hung (SIGSTOP)", smtp_hung))

        def saba(e: Experiment) -> None:
            from incidents.models import Incident
            from portal.constants import Role
            from portal.models import Notification

            officeholder = Browser(self.base_url)
            if not officeholder.login(SABA):
                raise CommandError(f"{SABA} could not log in on the healthy stack.")
            filings = self._file(e, [officeholder], max(2, n // 2))

            def registrar_emailed(reference: str) -> bool:
                """An e-mail reached a registrar of the desk the report is at."""
                sent = set(
                    Notification.objects.filter(
                        reference=reference,
                        recipient__role=Role.REGISTRAR,
                        recipient__desk__incidents__reference=reference,
                    ).values_list("message_id", flat=True)
                )
                return any(mail["message_id"] in sent for mail in self._mails())

            delays = seconds_until(
                filings, registrar_emailed, what="e-mail to a registrar", timeout=120
            )
            desks = sorted(
                set(
                    Incident.objects.filter(
                        reference__in=[f.reference for f in filings if f.reference]
                    ).values_list("desk__name", flat=True)
                )
            )
            e.notes.append(
                f"report at {', '.join(desks)} -> e-mail at its registrar's address "
                f"{seconds_summary(delays)}"
            )

        experiments.append(self._experiment("Saba report (Meldpunt Caribisch Nederland)", saba))

        registrars = [self._registrar(username) for username in REGISTRARS]

        def racing_registrars(e: Experiment) -> None:
            filings = self._file(e, people, max(2, n // 2), kind="threat")
            for filing in filings:
                if filing.reference is None:
                    continue
                path = f"/meldpunt/meldingen/{filing.reference}/"
                pages = [registrar.request(path) for registrar in registrars]
                forms = []
                for page in pages:
                    try:
                        form = page_form(page.body, "/doorgeven/")
                    except LookupError:
                        from incidents.models import Escalation

                        connection.close()
                        rules = list(
                            Escalation.objects.filter(
                                incident__reference=filing.reference
                            ).values_list("rules", "escalated_by")
                        )
                        raise CommandError(
                            f"No escalate form for a registrar on {path}: {page.status} "
                            f"{page.url}; escalations {rules}"
                        ) from None
                    for key in form:
                        if key.endswith("reason") and not form[key]:
                            form[key] = "Geweld tegen een ambtsdrager: door de foutenproef."
                    forms.append(form)
                answers: list[Answer] = []
                barrier = threading.Barrier(len(registrars))

                def escalate(registrar, form, barrier=barrier, answers=answers, path=path):
                    barrier.wait(timeout=30)
                    answers.append(registrar.request(f"{path}doorgeven/", form))

                threads = [
                    threading.Thread(target=escalate, args=pair)
                    for pair in zip(registrars, forms, strict=True)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
                e.errors += sum(answer.server_error for answer in answers)

        experiments.append(
            self._experiment("racing registrars (escalate at once)", racing_registrars)
        )

        def double_submits(e: Experiment) -> None:
            for number in range(max(2, n // 2)):
                browser = people[number % len(people)]
                token = str(uuid.uuid4())
                results: list[Filing] = []

                def submit(browser=browser, token=token, results=results):
                    results.append(quick_report(browser, token=token))

                threads = [threading.Thread(target=submit) for _ in range(2)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
                e.filed += 1  # one report, sent twice
                references = {r.reference for r in results if r.reference}
                e.confirmed.extend(references)
                e.errors += sum(1 for r in results if r.reference is None)
                e.error_statuses.update(r.answer.status for r in results if r.reference is None)

        experiments.append(self._experiment("double submits", double_submits))
        return [experiment for experiment in experiments if experiment is not None]

    # --- counting ----------------------------------------------------------------------------

    def _catch_up(self, experiment: Experiment) -> None:
        """Wait (bounded) until no outbox entry and no e-mail is pending any more, so that
        each experiment starts on a quiet stack and its figures are its own."""
        from portal.models import Notification, OutboxEntry, OutboxStatus

        def caught_up() -> bool:
            connection.close()
            return not (
                OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists()
                or Notification.objects.filter(
                    emailed_at__isnull=True, email_failed_at__isnull=True
                ).exists()
            )

        try:
            seconds = _wait(caught_up, what="catch-up", timeout=CATCH_UP_TIMEOUT, every=0.5)
            experiment.notes.append(f"outbox and e-mail caught up {seconds:.0f} s after it")
        except CommandError as error:
            experiment.notes.append(f"{error} (counted as it stood)")

    def _mails(self) -> list[dict]:
        return [json.loads(line) for line in self.mail_file.read_text().splitlines() if line]

    def _stored(self, experiment: Experiment) -> Stored:
        """What the database holds for the incidents filed during `experiment`."""
        from incidents.models import Escalation, Incident
        from portal.models import Notification
        from support.models import SupportCase

        incidents = Incident.objects.filter(pk__gt=experiment.first_pk, pk__lte=experiment.last_pk)
        references = set(incidents.values_list("reference", flat=True))
        escalations = Escalation.objects.filter(incident__in=incidents)
        cases = SupportCase.objects.filter(incident__in=incidents)
        notifications = Notification.objects.filter(
            reference__in=references, recipient__email__gt=""
        )
        return Stored(
            references=references,
            escalations=list(escalations.values_list("incident_id", flat=True)),
            cases=list(cases.values_list("incident_id", flat=True)),
            message_ids=set(notifications.values_list("message_id", flat=True)),
            attempts=sum(notifications.values_list("email_attempts", flat=True)),
        )

    def _print_table(self, experiments: list[Experiment]) -> None:
        from portal.models import Notification

        connection.close()
        received = Counter(mail["message_id"] for mail in self._mails())
        rows, details = [], []
        for experiment in experiments:
            stored = self._stored(experiment)
            rows.append(table_row(experiment, stored, received))
            details.append(
                f"{experiment.name}: {len(stored.message_ids)} e-mails to send took "
                f"{stored.attempts} attempts"
            )
            if experiment.error_statuses:
                statuses = ", ".join(
                    f"{count} x {status or 'no answer'}"
                    for status, count in sorted(experiment.error_statuses.items())
                )
                details.append(f"{experiment.name}: instead of a confirmation: {statuses}")
            details.extend(f"{experiment.name}: {note}" for note in experiment.notes)
        totals = Counter()
        for row in rows:
            totals.update({column: row[column] for column in COLUMNS[1:]})
        rows.append({"experiment": "total", **totals})
        self.stdout.write("")
        for line in format_table(rows):
            self.stdout.write(line)
        self.stdout.write("")
        failed = Notification.objects.filter(email_failed_at__isnull=False).count()
        self.stdout.write(
            f"E-mail: {received.total()} received at the SMTP server for "
            f"{Notification.objects.count()} notifications, {failed} marked failed."
        )
        for detail in details:
            self.stdout.write(f"- {detail}")
