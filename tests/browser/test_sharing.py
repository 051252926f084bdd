"""Sharing a screenshot to the installed portal, in Chromium at phone width: the share sheet's
POST (no session) leads through the login to the quick report with the file attached."""

import io

import pytest
from django.utils.functional import empty
from PIL import Image
from playwright.sync_api import expect

from incidents.models import Evidence, Incident, SharedUpload, private_storage
from tests.browser.fixtures import assert_accessible
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}


@pytest.fixture(autouse=True)
def private_storage_root(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty


def _screenshot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 160), (30, 30, 200)).save(out, format="PNG")
    return out.getvalue()


def test_shared_screenshot_is_attached_after_login_and_filed_only_on_send(page):
    """Share → login → quick report shows the file (name, remove button) → send → the
    incident has the screenshot as evidence; before send nothing is filed."""
    officeholder = UserFactory(username="raadslid.deelt")
    page.set_viewport_size(PHONE)
    # What Chrome on Android posts for the manifest's share_target (no cookie yet, no token).
    shared = page.request.post(
        "/meldingen/delen/",
        multipart={
            "title": "",
            "text": "",
            "bestand": {
                "name": "Screenshot_20261203.png",
                "mimeType": "image/png",
                "buffer": _screenshot(),
            },
        },
        max_redirects=0,
    )
    assert shared.status == 303
    page.goto(shared.headers["location"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    page.get_by_label("Gebruikersnaam").fill(officeholder.username)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Inloggen", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Snel melden")
    expect(page.locator("#shared-upload-name")).to_have_text("Screenshot_20261203.png")
    remove = page.locator("#shared-upload").get_by_role("button", name="Screenshot_20261203.png")
    expect(remove).to_contain_text("Verwijderen")
    assert Incident.objects.count() == 0
    assert_accessible(page)

    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Dreigbericht in mijn DM's.")
    page.get_by_role("button", name="Melding versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    evidence = Evidence.objects.get(incident__officeholder=officeholder)
    assert evidence.original_name == "Screenshot_20261203.png"
    assert not SharedUpload.objects.exists()
