"""The privacy statement names who is responsible, the data protection officer, the retention
period from the settings and the person's rights; the header can carry the owner's name."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_privacy_page_names_controller_officer_retention_and_rights(client, settings):
    """Configured names and contacts appear as set; the months come from RETENTION_MONTHS."""
    settings.PRIVACY_CONTROLLER_NAME = "Gemeente Voorbeeldstad"
    settings.PRIVACY_CONTROLLER_CONTACT = "privacy@voorbeeldstad.example"
    settings.PRIVACY_OFFICER_NAME = "Fenna de Groot"
    settings.PRIVACY_OFFICER_CONTACT = "fg@voorbeeldstad.example"
    settings.RETENTION_MONTHS = 18
    settings.PORTAL_OWNER_NAME = "Netwerk Weerbaar Bestuur"
    html = client.get(reverse("privacy")).content.decode()
    for text in (
        "Gemeente Voorbeeldstad",
        "privacy@voorbeeldstad.example",
        "Fenna de Groot",
        "fg@voorbeeldstad.example",
        "bewaren wij de inhoud 18 maanden",
        "Inzage",
        "Correctie",
        "Verwijdering",
        "Bezwaar",
        "Autoriteit Persoonsgegevens",
        'class="site-owner',
        "Netwerk Weerbaar Bestuur",
    ):
        assert text in html, text
    assert "een beperkte tijd" not in html
