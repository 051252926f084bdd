"""A Redis server of a test's own, which the test can stop, start, hang and resume.

Usage: the `private_redis` fixture (a plugin of tests/conftest.py), or `RedisServer` directly.
The shared TEST_REDIS_URL of `scripts/with-test-services.sh` is left to the other tests: only a
server of its own may be stopped or frozen by a test. Without redis-server the test fails and
says why; it never skips.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

SERVER_START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], bool], *, what: str, timeout: float, logs: Callable[[], str]
) -> None:
    """Poll `condition` until true; fail with the processes' logs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"No {what} after {timeout} s.\n{logs()}")


class RedisServer:
    """A throwaway redis-server on a free loopback port, stopped and started by the test."""

    def __init__(self, directory: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server).")
        self.binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.pid_file = directory / "redis.pid"
        self.log_file = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def _client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)

    def answers(self) -> bool:
        try:
            return bool(self._client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start (again) on the same port; fail with the server log if it does not answer."""
        subprocess.run(
            [
                self.binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--daemonize", "yes",
                "--save", "",
                "--appendonly", "no",
                "--pidfile", str(self.pid_file),
                "--logfile", str(self.log_file),
                "--dir", str(self.directory),
            ],
            check=True,
            timeout=SERVER_START_TIMEOUT,
        )  # fmt: skip
        wait_until(self.answers, what="answer from Redis", timeout=10, logs=self.log)

    def stop(self) -> None:
        """Shut the server down (nothing is saved: what was queued is lost, as in a crash)."""
        try:
            self._client().shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection while it shuts down
        wait_until(
            lambda: not self.answers() and not self._running(),
            what="Redis shutdown",
            timeout=10,
            logs=self.log,
        )

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _running(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def pause(self) -> None:
        """Hang the server (SIGSTOP): connections stay open, nothing answers, as when a broker
        hangs; the kernel still accepts new connections into the listen backlog."""
        pid = self._pid()
        assert pid is not None and self._running(), "Redis is not running"
        os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        pid = self._pid()
        if pid is not None and self._running():
            os.kill(pid, signal.SIGCONT)

    def kill(self) -> None:
        """Teardown: make sure the server this test started is gone (paused or not)."""
        if self._running():
            os.kill(self._pid(), signal.SIGKILL)


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test alone; the shared TEST_REDIS_URL is left to the other tests."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()
