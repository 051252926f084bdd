"""The portal under gunicorn on a free loopback port, for the benchmarks (`bench_http`,
`bench_evidence`) and the fault runs (`faults`): the database of this process, shared with
the server by URL."""

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """This process's database as a DATABASE_URL, for a server or worker started beside it."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        if config["NAME"] in ("", ":memory:") or "mode=memory" in str(config["NAME"]):
            raise CommandError("An in-memory SQLite database cannot be shared with gunicorn.")
        return f"sqlite:///{config['NAME']}"
    return postgres_url(config)


def postgres_url(config: dict) -> str:
    """A PostgreSQL connection's settings (`connection.settings_dict`) as a DATABASE_URL."""
    user = quote(config["USER"] or "", safe="")
    password = quote(config["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config["HOST"] or "localhost"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(config['NAME'], safe='')}"


class Gunicorn:
    """gunicorn with gunicorn.conf.py, started and answering once the constructor returns.

    `ready` is asked, again and again until START_TIMEOUT, whether the started server answers
    as it should; a server that exits or never answers stops the command with its log.
    """

    def __init__(
        self,
        *,
        env: dict[str, str],
        log: Path,
        ready: Callable[["Gunicorn"], bool],
        arguments: tuple[str, ...] = (),
        request_timeout: int = 60,
    ):
        self.port = free_port()
        self.request_timeout = request_timeout
        self._log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{self.port}"]
            + list(arguments),
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise CommandError(f"gunicorn exited:\n{log.read_text(errors='replace')}")
            try:
                if ready(self):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise CommandError(f"gunicorn did not answer:\n{log.read_text(errors='replace')}")

    def request(self, method, url, body=None, headers=None) -> http.client.HTTPResponse:
        """One request on a new connection; the response is read."""
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.request_timeout)
        client.request(method, url, body=body, headers=headers or {})
        response = client.getresponse()
        response.read()
        client.close()
        return response

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
