"""The team's case page offers "Dossier als PDF": a small form with the staff-names checkbox,
reachable by keyboard, that downloads a real PDF of the case."""

import io

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from support.models import SupportCase
from tests.browser.fixtures import assert_accessible, login

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"


def test_the_case_page_downloads_its_case_file_with_staff_names(page: Page, demo_data):
    case = SupportCase.objects.select_related("incident").order_by("-pk").first()
    reference = case.incident.reference
    login(page, "ondersteuning", DEMO_PASSWORD)
    page.goto(f"/ondersteuning/dossiers/{reference}/")
    form = page.locator("form.case-file-form")
    expect(page.get_by_role("heading", name="Dossier als PDF")).to_be_visible()
    assert_accessible(page)

    # By keyboard: the checkbox by its label, then the button.
    checkbox = form.get_by_label("Namen van medewerkers tonen")
    expect(checkbox).not_to_be_checked()
    checkbox.focus()
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    button = form.get_by_role("button", name="Dossier als PDF downloaden")
    button.focus()
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"{reference}-dossier.pdf"
    reader = PdfReader(io.BytesIO(open(download.path(), "rb").read()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert reader.metadata.title == f"Dossier {reference}"
    assert reference in text
    assert "Ondersteuningsplan" in text
    assert "Namen van medewerkers staan er niet in" not in text
