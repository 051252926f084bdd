"""The OpenAPI schema and its documentation pages.

- The committed openapi.yaml is exactly what the code generates (in English): change the API,
  run `make openapi`, commit both.
- /api/schema/ serves the schema; /api/docs/ serves Swagger UI with every asset from this
  site (drf-spectacular-sidecar under /static/) and no inline script, so it works on a closed
  network and under the portal's Content-Security-Policy.
- In production (DEBUG off) both need a login (a session or a token); `API_DOCS_PUBLIC`
  opens them to anonymous visitors.
"""

import difflib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from portal.services import api_token_create
from tests.factories import UserFactory

COMMITTED = Path(settings.BASE_DIR) / "openapi.yaml"
EXTERNAL_URL = re.compile(r"""(?:https?:)?//[^/"'\s]+""")


def test_the_committed_schema_is_what_the_code_generates(tmp_path):
    """openapi.yaml equals the generated schema byte for byte; if not, run `make openapi`."""
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--lang", "en", "--file", str(generated), "--validate")
    want, have = generated.read_bytes(), COMMITTED.read_bytes()
    if want != have:
        diff = "".join(
            difflib.unified_diff(
                have.decode().splitlines(keepends=True),
                want.decode().splitlines(keepends=True),
                "openapi.yaml (committed)",
                "openapi.yaml (generated)",
                n=2,
            )
        )
        pytest.fail(
            "openapi.yaml is out of date with the API code. Run `make openapi` and commit "
            f"the result.\n\n{diff[:6000]}"
        )


def test_the_committed_schema_documents_every_api_operation_and_the_error_shape():
    """Every router endpoint is in the schema, each with the error responses it can give."""
    schema = yaml.safe_load(COMMITTED.read_text())
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 27
    assert "Error" in schema["components"]["schemas"]
    for path, method, operation in operations:
        assert path.startswith("/api/v1/"), path
        assert {"400", "401", "403", "404", "429"} <= set(operation["responses"]), (path, method)
        assert operation.get("security"), f"{method} {path} names its authentication"


def _logged_in_client() -> APIClient:
    """An API client with an officeholder's personal token."""
    _token, key = api_token_create(user=UserFactory(), name="docs")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_the_schema_and_docs_need_a_login_in_production():
    """With DEBUG off an anonymous visitor gets 401 (in the error shape) for the schema and is
    sent to the login page from the docs; the script of the docs page is closed too."""
    assert not settings.DEBUG and not settings.API_DOCS_PUBLIC
    client = APIClient()

    schema = client.get(reverse("api:schema"))
    assert schema.status_code == 401
    assert schema.json()["error"]["code"] == "not_authenticated"
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 302
    assert docs["Location"].startswith(reverse("login"))
    assert client.get(reverse("api:docs"), {"script": ""}).status_code == 302


@pytest.mark.django_db
def test_the_schema_endpoint_answers_with_a_login():
    """GET /api/schema/ answers 200 with an OpenAPI 3 document (YAML, or JSON on request)."""
    client = _logged_in_client()
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")
    as_json = client.get(reverse("api:schema"), {"format": "json"})
    assert as_json.status_code == 200
    assert as_json.json()["info"]["title"] == "Meldpunt Weerbaar Bestuur API"


@pytest.mark.django_db
def test_the_setting_opens_schema_and_docs_to_anonymous_visitors(settings):
    """API_DOCS_PUBLIC=true (the default with DEBUG on) serves both without a login."""
    settings.API_DOCS_PUBLIC = True
    client = APIClient()
    assert client.get(reverse("api:schema")).status_code == 200
    assert client.get(reverse("api:docs")).status_code == 200


class _Assets(HTMLParser):
    """Collects the script and style sheet URLs of a page and the text of inline scripts."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.urls.append(attributes[name])
        if tag == "script":
            self._in_script_without_src = not attributes.get("src")
            if self._in_script_without_src:
                self.inline_scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data):
        if self._in_script_without_src:
            self.inline_scripts[-1] += data


def _docs_page() -> tuple[str, _Assets]:
    response = _logged_in_client().get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    return html, parser


@pytest.mark.django_db
def test_the_docs_page_loads_everything_from_this_site():
    """/api/docs/ names no other host, and every asset it loads is a local static file."""
    html, assets = _docs_page()
    assert not EXTERNAL_URL.findall(html), EXTERNAL_URL.findall(html)
    assert assets.urls, "the page loads Swagger UI's assets"
    static = [url for url in assets.urls if url.startswith(settings.STATIC_URL)]
    assert any("swagger-ui-bundle" in url for url in static)
    for url in static:
        path = urlsplit(url).path.removeprefix(settings.STATIC_URL)
        assert finders.find(path), f"{url} is not a static file of this site"
    others = [url for url in assets.urls if not url.startswith(settings.STATIC_URL)]
    assert all(url.startswith("/api/docs/") for url in others), others


@pytest.mark.django_db
def test_the_docs_page_has_no_inline_script():
    """Every <script> on /api/docs/ has a src; its own script is served from a URL too."""
    _html, assets = _docs_page()
    assert assets.inline_scripts == []
    own = [url for url in assets.urls if url.startswith("/api/docs/")]
    assert own, "the page's own script comes from /api/docs/?script"
    script = _logged_in_client().get(own[0])
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert reverse("api:schema") in script.content.decode()
