"""A real OpenID Connect provider for the tests: oidc-provider (npm) under node, on loopback.

`running_provider(...)` starts provider.mjs with clients of its own and an accounts file that
the provider reads again on every use, so a test can block an account while it is logged in.
The session-scoped `oidc_provider` fixture (a plugin of tests/conftest.py) gives one whose
clients return to the live server's organisation login:

    client_id, client_secret = oidc_provider.client("meldpunt-utrecht")
    oidc_provider.account_set("jan", mfa=True)  # logs in as "jan" on the provider's page

Needs node and tests/oidc_provider/node_modules (`make oidc-provider`); without them the test
fails and says so.
"""

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.redis_server import free_port, wait_until

DIRECTORY = Path(__file__).resolve().parent
CLIENT_NAMES = ("meldpunt-utrecht", "ondersteuning")
START_TIMEOUT = 30


class OidcProvider:
    """A running provider: its issuer, its clients and the accounts it knows."""

    def __init__(self, issuer: str, clients: dict[str, str], accounts_file: Path):
        self.issuer = issuer
        self._clients = clients
        self._accounts_file = accounts_file

    def client(self, name: str) -> tuple[str, str]:
        """(client_id, client_secret) of the client `name`, e.g. "meldpunt-utrecht"."""
        return name, self._clients[name]

    def account_set(
        self,
        subject: str,
        *,
        mfa: bool = False,
        disabled: bool = False,
        audience: str | None = None,
    ) -> None:
        """Add or change an account. `mfa` logs in with acr urn:test:mfa and amr [pwd, mfa]
        (otherwise urn:test:pwd and [pwd]); a `disabled` account cannot log in, not even
        silently; with an `audience` the ID token is issued for that audience instead."""
        accounts = self._accounts()
        accounts[subject] = {"mfa": mfa, "disabled": disabled, "audience": audience}
        self._write(accounts)

    def accounts_clear(self) -> None:
        self._write({})

    def _accounts(self) -> dict:
        return json.loads(self._accounts_file.read_text())

    def _write(self, accounts: dict) -> None:
        # Atomically: the provider may read the file at any moment.
        partial = self._accounts_file.with_suffix(".partial")
        partial.write_text(json.dumps(accounts))
        os.replace(partial, self._accounts_file)


@contextmanager
def running_provider(
    directory: Path,
    *,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str],
    client_names: Sequence[str] = CLIENT_NAMES,
) -> Iterator[OidcProvider]:
    """Start provider.mjs on a free loopback port, with state in `directory`; stop it after."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is missing, needed for the OpenID Connect test provider: run make oidc-provider."
        )
    if not (DIRECTORY / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"{DIRECTORY / 'node_modules'} is missing: run make oidc-provider.")

    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    clients = {name: secrets.token_urlsafe(32) for name in client_names}
    accounts_file = directory / "accounts.json"
    provider = OidcProvider(issuer, clients, accounts_file)
    provider.accounts_clear()
    config = directory / "config.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "issuer": issuer,
                "accounts_file": str(accounts_file),
                "clients": [
                    {
                        "client_id": name,
                        "client_secret": secret,
                        "redirect_uris": list(redirect_uris),
                        "post_logout_redirect_uris": list(post_logout_redirect_uris),
                    }
                    for name, secret in clients.items()
                ],
            }
        )
    )
    stdout, stderr = directory / "stdout.log", directory / "stderr.log"
    # DEBUG is Django's switch here; node's `debug` package would read it as log namespaces.
    environment = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [node, DIRECTORY / "provider.mjs", config],
            cwd=DIRECTORY,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )

    def logs() -> str:
        return f"stdout:\n{stdout.read_text()}\nstderr:\n{stderr.read_text()}"

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(
                f"The OpenID Connect test provider exited ({process.returncode}).\n{logs()}"
            )
        return f"READY {issuer}\n" in stdout.read_text()

    try:
        wait_until(ready, what="OpenID Connect test provider", timeout=START_TIMEOUT, logs=logs)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory) -> Iterator[OidcProvider]:
    """The test provider of this worker, with clients `CLIENT_NAMES` that return to the live
    server's organisation login (and, after logging out, to its login page)."""
    with running_provider(
        tmp_path_factory.mktemp("oidc-provider"),
        redirect_uris=[f"{live_server.url}/account/inloggen/organisatie/terug/"],
        post_logout_redirect_uris=[f"{live_server.url}/account/inloggen/"],
    ) as provider:
        yield provider


class _Forms(HTMLParser):
    """The forms of a page: action and the named fields' values (buttons included)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag in ("input", "button") and attrs.get("name") and self.forms:
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")


def only_form(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    assert len(parser.forms) == 1, html
    return parser.forms[0]


def follow_to_client(session: requests.Session, response: requests.Response, target: str):
    """Follow redirects at the provider until the one to `target`: its query, or the page
    (a 200 answer of the provider) on which the chain stops."""
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(target):
            return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        response = session.get(location, allow_redirects=False, timeout=5)
    assert response.status_code == 200, response.text
    return response


def provider_login(
    authorization_url: str, account: str, *, back_to: str, session: requests.Session | None = None
) -> dict:
    """Log in as `account` at the provider's own page, as a person would, starting from the
    relying party's redirect to `authorization_url`; the query of the redirect back to
    `back_to` (code and state, or an error). `session` holds the provider's cookies."""
    session = session or requests.Session()
    page = follow_to_client(
        session, session.get(authorization_url, allow_redirects=False, timeout=5), back_to
    )
    form = only_form(page.text)
    response = session.post(
        urljoin(page.url, form["action"]),
        data={"account": account},
        allow_redirects=False,
        timeout=5,
    )
    return follow_to_client(session, response, back_to)
