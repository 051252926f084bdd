"""The installable portal in Chromium: a valid manifest, and a service worker that keeps only
static files and the offline page (never an authenticated answer)."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import DESKTOP, assert_accessible, login
from tests.factories import TEST_PASSWORD, IncidentFactory, UserFactory

pytestmark = pytest.mark.browser


def test_manifest_is_valid_and_installable(page):
    """Chromium parses the manifest without an error, with icons, standalone display and the
    share target (POST, multipart, a file field for images and audio)."""
    page.goto("/account/inloggen/")
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert manifest["url"].endswith("/manifest.webmanifest")
    data = json.loads(manifest["data"])
    assert data["display"] == "standalone"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in data["icons"]}
    for icon in data["icons"]:
        response = page.request.get(icon["src"])
        assert response.ok and response.headers["content-type"] == "image/png"
    share = data["share_target"]
    assert share["action"] == "/meldingen/delen/"
    assert (share["method"], share["enctype"]) == ("POST", "multipart/form-data")
    assert {"image/*", "audio/*"} <= set(share["params"]["files"][0]["accept"])
    parsed = cdp.send("Page.getAppManifest").get("manifest", {})
    if parsed:  # newer Chromium also returns the parsed manifest
        assert parsed["shareTarget"]["action"].endswith("/meldingen/delen/")


@pytest.fixture
def worker_page(browser, live_server, transactional_db):
    """A context that allows service workers (every other test blocks them), with the same
    guards: only the live server, no console error."""
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport=DESKTOP, service_workers="allow"
    )
    context.set_default_timeout(10_000)
    problems = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (problems.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert not problems, problems


CACHED_URLS = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      found.push({url: request.url, cacheControl: response.headers.get("Cache-Control") || "",
                  body: (response.headers.get("Content-Type") || "").startsWith("text/html")
                        ? await response.text() : ""});
    }
  }
  return found;
}"""


def test_service_worker_caches_no_authenticated_answer_and_shows_offline_page(
    worker_page, live_server
):
    """Logged in, pages are fetched through the worker; its cache then holds only /static/
    files and the offline page without any personal data, and offline the offline page shows."""
    page = worker_page
    officeholder = UserFactory(first_name="Geheimnaam", username="wethouder.offline")
    incident = IncidentFactory(officeholder=officeholder, organisation=officeholder.organisation)
    login(page, officeholder.username, TEST_PASSWORD)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    # Pages and a download-like answer, now answered while the worker controls the page.
    for url in ("/", "/meldingen/", f"/meldingen/{incident.reference}/", "/account/profiel/"):
        page.goto(url)
        assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.evaluate("fetch('/api/v1/incidents/', {credentials: 'same-origin'})")
    page.wait_for_timeout(300)

    cached = page.evaluate(CACHED_URLS)
    assert cached, "the worker stored the static files"
    offline_url = f"{live_server.url}/offline/"
    for entry in cached:
        path = entry["url"].removeprefix(live_server.url)
        assert path.startswith("/static/") or entry["url"] == offline_url, path
        assert "no-store" not in entry["cacheControl"], entry
        assert "Geheimnaam" not in entry["body"] and officeholder.username not in entry["body"]
    assert offline_url in {entry["url"] for entry in cached}

    page.context.set_offline(True)
    page.goto("/meldingen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Geen verbinding")
    page.context.set_offline(False)
    page.goto("/offline/")
    assert_accessible(page)
