"""The nginx in front of gunicorn (deploy/nginx): valid, and it does what it is there for.

The configuration is copied into a temporary folder laid out like the nginx image's
/etc/nginx (a main nginx.conf that includes conf.d/*.conf, the portal's snippets, a
self-signed certificate for localhost), with the compose upstream `web:8000` and the ports
replaced by loopback ones. Debian's nginx (which .ci/run installs) checks it with `nginx -t`,
then serves it in front of a small recording upstream that stands in for gunicorn: the client
address overwrites X-Forwarded-For, the body size limits follow the upload URLs, and a client
sending 1 byte a second reaches the upstream only once its request is complete. Without
nginx the tests fail and say why; they never skip.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.urls import reverse

from devtools.nginx import NGINX_DIR, render_nginx_config
from tests.redis_server import free_port
from tests.security.test_access_matrix import _all_url_names

START_TIMEOUT = 10
MEGABYTE = 1024 * 1024

# The URLs that accept evidence files; each must get the large body limit, no other URL may.
# A new upload view goes here and into the upload location of deploy/nginx/conf.d/portal.conf.
UPLOAD_URL_NAMES = {
    "incidents:quick",
    "incidents:new",
    "incidents:follow_up",
    "desk:file",
    "api:incident-evidence",
}


def nginx_binary() -> str:
    binary = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if binary is None:
        pytest.fail("nginx is not installed (apt-get install nginx); .ci/run installs it.")
    return binary


@dataclass
class RenderedConfig:
    prefix: Path
    main: Path
    certificate: Path
    http_port: int
    https_port: int


def render_config(folder: Path, *, upstream: str) -> RenderedConfig:
    """deploy/nginx as the nginx image would load it, in `folder`, with loopback ports."""
    http_port, https_port = free_port(), free_port()
    main = render_nginx_config(
        folder, upstream=upstream, http_port=http_port, https_port=https_port
    )
    return RenderedConfig(folder, main, folder / "certs" / "fullchain.pem", http_port, https_port)


def _nginx_command(config: RenderedConfig, *args: str) -> list[str]:
    return [
        nginx_binary(),
        "-p",
        f"{config.prefix}/",
        "-c",
        str(config.main),
        "-e",
        str(config.prefix / "error.log"),
        *args,
    ]


def test_nginx_accepts_the_configuration(tmp_path):
    """`nginx -t` on the configuration, with the compose upstream on loopback."""
    config = render_config(tmp_path / "nginx", upstream="127.0.0.1:8000")

    result = subprocess.run(
        _nginx_command(config, "-t"), capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr
    assert "[emerg]" not in result.stderr, result.stderr


def test_the_upload_location_covers_exactly_the_upload_urls():
    """Every URL of the portal (with made-up references) against the upload location's regex:
    the upload views get the large body limit, every other URL the global 10 MB."""
    portal = (NGINX_DIR / "conf.d" / "portal.conf").read_text()
    regex = re.search(r"location ~ (\S+) \{\s+client_max_body_size 210m;", portal)
    assert regex, "no upload location with client_max_body_size 210m in portal.conf"
    upload = re.compile(regex.group(1))
    values = {"reference": "MWB-2026-000123", "pk": "7", "action_id": "7"}
    values.update({"uidb64": "MQ", "token": "abc"})

    matched = set()
    for name, params in _all_url_names().items():
        if name == "api:not-found":
            continue
        path = reverse(name, kwargs={param: values[param] for param in params})
        if upload.match(path):
            matched.add(name)

    assert matched == UPLOAD_URL_NAMES
    assert "client_max_body_size 10m;" in portal


# --- A running nginx in front of a recording upstream -----------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body_length: int
    at: float


@dataclass
class Upstream:
    """Stands in for gunicorn: notes when a request arrives (its headers, as a sync worker is
    then taken), records it once read, answers 200 with JSON."""

    server: ThreadingHTTPServer
    requests: list[Recorded] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def upstream():
    recorded: list[Recorded] = []
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            arrivals.append(time.monotonic())
            length = int(self.headers.get("Content-Length") or 0)
            remaining = length
            while remaining:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
            recorded.append(
                Recorded(self.path, dict(self.headers.items()), length, time.monotonic())
            )
            body = json.dumps({"headers": dict(self.headers.items())}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Upstream(server, recorded, arrivals)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def nginx(tmp_path, upstream):
    """nginx with the portal's configuration in front of the recording upstream."""
    config = render_config(tmp_path / "nginx", upstream=upstream.address)
    log = tmp_path / "nginx-stdout.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            _nginx_command(config, "-g", "daemon off;"), stdout=output, stderr=subprocess.STDOUT
        )

    def logs() -> str:
        parts = [log.read_text(errors="replace")]
        error_log = config.prefix / "error.log"
        if error_log.exists():
            parts.append(error_log.read_text(errors="replace"))
        return "\n".join(parts)

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", config.https_port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nginx did not start:\n{logs()}")
            time.sleep(0.05)
    try:
        yield config
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tls_context(config: RenderedConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.certificate))


def _https(config: RenderedConfig) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection(
        "127.0.0.1", config.https_port, context=_tls_context(config), timeout=30
    )


def test_the_client_address_overwrites_x_forwarded_for_and_the_scheme_is_https(nginx, upstream):
    """Whatever the client claims in X-Forwarded-For or Forwarded, the portal hears the address
    nginx saw (TRUSTED_PROXY_COUNT=1) and that the request came over https."""
    connection = _https(nginx)
    connection.request(
        "GET",
        "/account/inloggen/",
        headers={
            "Host": "localhost",
            "X-Forwarded-For": "203.0.113.66, 198.51.100.7",
            "Forwarded": "for=203.0.113.66",
            "X-Real-IP": "203.0.113.66",
        },
    )
    response = connection.getresponse()
    seen = json.loads(response.read())["headers"]

    assert response.status == 200
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "https"
    assert "Forwarded" not in seen and "X-Real-IP" not in seen


def test_plain_http_is_redirected_to_https(nginx, upstream):
    connection = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    connection.request("GET", "/meldingen/?x=1", headers={"Host": "meldpunt.example.nl"})
    response = connection.getresponse()

    assert response.status == 301
    assert response.getheader("Location") == "https://meldpunt.example.nl/meldingen/?x=1"
    assert not upstream.requests


def _post(config: RenderedConfig, path: str, body: bytes) -> int:
    connection = _https(config)
    connection.request("POST", path, body=body, headers={"Host": "localhost"})
    response = connection.getresponse()
    response.read()
    return response.status


def test_body_size_limits_follow_the_upload_urls(nginx, upstream):
    """11 MB: refused (413) on the login form, passed on to an upload URL; a body announced
    beyond 210 MB is refused on an upload URL before it is sent."""
    eleven_megabytes = b"x" * (11 * MEGABYTE)

    assert _post(nginx, "/account/inloggen/", eleven_megabytes) == 413
    assert _post(nginx, "/meldingen/snel/", eleven_megabytes) == 200
    assert [(r.path, r.body_length) for r in upstream.requests] == [
        ("/meldingen/snel/", 11 * MEGABYTE)
    ]

    connection = _https(nginx)
    connection.putrequest("POST", "/meldingen/MWB-2026-000123/vervolg/", skip_host=True)
    connection.putheader("Host", "localhost")
    connection.putheader("Content-Length", str(211 * MEGABYTE))
    connection.endheaders()
    assert connection.getresponse().status == 413
    assert len(upstream.requests) == 1


def test_a_client_sending_one_byte_a_second_reaches_gunicorn_only_when_it_is_done(nginx, upstream):
    """The body of a slow client is kept by nginx: while it trickles in (1 byte a second)
    the upstream has received nothing, so no gunicorn worker waits for it; once complete, the
    upstream gets the whole request at once."""
    body = b"abcd"
    with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=30) as raw:
        with _tls_context(nginx).wrap_socket(raw, server_hostname="localhost") as client:
            client.sendall(
                b"POST /account/inloggen/ HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            for byte in body[:-1]:
                client.sendall(bytes([byte]))
                time.sleep(1)
                assert not upstream.arrivals, "the upstream got the request before its end"
            last_byte_at = time.monotonic()
            client.sendall(body[-1:])
            answer = client.recv(4096)

    assert answer.startswith(b"HTTP/1.1 200")
    (request,) = upstream.requests
    assert request.body_length == len(body)
    assert upstream.arrivals[0] >= last_byte_at


def test_the_access_log_is_json_without_query_strings_and_passes_a_request_id(nginx, upstream):
    """nginx logs one JSON object per request, without the query string (the desk's search
    `?q=` holds names) and with a password reset token masked; the portal gets nginx's own
    request id, never the one a client sent."""
    marker = "Jansen-7c1e"
    for path in (f"/meldpunt/?q={marker}", f"/account/wachtwoord-herstellen/MQ/{marker}/"):
        connection = _https(nginx)
        connection.request("GET", path, headers={"Host": "localhost", "X-Request-ID": "mine"})
        connection.getresponse().read()

    seen = [request.headers.get("X-Request-ID") for request in upstream.requests]
    # nginx writes the line after the response has gone out: wait for it (at most 5 s).
    deadline = time.monotonic() + 5
    while True:
        lines = (nginx.prefix / "access.log").read_text().splitlines()
        if len(lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    entries = [json.loads(line) for line in lines]

    assert len(seen) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", value) for value in seen)
    assert [entry["path"] for entry in entries] == [
        "/meldpunt/",
        "/account/wachtwoord-herstellen/<uid>/<token>/",
    ]
    assert [entry["request_id"] for entry in entries] == seen
    assert all(entry["status"] == 200 for entry in entries)
    assert marker not in "\n".join(lines)


@pytest.fixture
def nginx_without_backend(tmp_path):
    """nginx in front of a port where nothing listens: gunicorn is down."""
    config = render_config(tmp_path / "nginx", upstream=f"127.0.0.1:{free_port()}")
    process = subprocess.Popen(
        _nginx_command(config, "-g", "daemon off;"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", config.https_port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("nginx did not start")
            time.sleep(0.05)
    try:
        yield config
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_maintenance_page_says_whom_to_call_while_the_portal_is_down(nginx_without_backend):
    """gunicorn down (an upgrade, a fault): every page, the upload URLs too, gets the
    maintenance page with 503, which still names 112 and 911."""
    for path in ("/", "/meldingen/snel/"):
        connection = _https(nginx_without_backend)
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        body = response.read().decode()

        assert response.status == 503, path
        assert response.getheader("Content-Type").startswith("text/html")
        assert response.getheader("Retry-After") == "60"
        assert "Bij acuut gevaar: bel 112 (Bonaire, Sint Eustatius en Saba: 911)" in body


def test_the_maintenance_page_is_not_reachable_directly(nginx, upstream):
    """`internal`: only nginx's own errors show it; asked for directly it is not there."""
    connection = _https(nginx)
    connection.request("GET", "/maintenance.html", headers={"Host": "localhost"})
    response = connection.getresponse()
    body = response.read().decode()

    assert response.status == 404
    assert "112" not in body
