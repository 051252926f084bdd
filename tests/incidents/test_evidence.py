"""Evidence files are checked by content on upload; the worker re-encodes photos without metadata.

`evidence_inspect` is the web side (it reads headers and parses documents, never decodes a
photo); `image_reencode` is the worker side. Neither needs the database.
"""

import hashlib
import io
import zipfile

import pytest
from django.conf import settings
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter

from incidents.constants import EvidenceFailure, EvidenceKind
from incidents.evidence import (
    EvidenceRejected,
    evidence_download_name,
    evidence_inspect,
    evidence_limits_for_browser,
    sanitise_file_name,
)
from incidents.evidence_processing import ProcessingFailed, image_reencode

MAX_FILE_BYTES = 10 * 1024 * 1024

GPS_IFD = 0x8825
MAKE = 0x010F
MODEL = 0x0110


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif[MODEL] = "EOS 5D"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (52.0, 5.0, 26.0)  # GPSLatitude: Utrecht city hall
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (5.0, 7.0, 9.0)  # GPSLongitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _png(size=(40, 30), pnginfo=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG", pnginfo=pnginfo)
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
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


EML = (
    b"From: Boze Burger <boos@example.nl>\r\n"
    b"To: wethouder@gemeente.example.nl\r\n"
    b"Subject: Je weet wel wat er gaat gebeuren\r\n"
    b"Date: Mon, 9 Mar 2026 08:12:00 +0100\r\n"
    b"Message-ID: <123@example.nl>\r\n"
    b"\r\n"
    b"We weten waar je woont.\r\n"
)


def _rejected(name: str, data: bytes) -> EvidenceRejected:
    with pytest.raises(EvidenceRejected) as caught:
        evidence_inspect(name=name, data=data)
    return caught.value


@pytest.fixture
def cleaned(tmp_path):
    """`cleaned(data)`: the bytes the worker stores for a photo (re-encoded by image_reencode)."""

    def clean(data: bytes) -> bytes:
        source, target = tmp_path / "upload", tmp_path / "cleaned"
        source.write_bytes(data)
        image_reencode(source=str(source), target=str(target))
        return target.read_bytes()

    return clean


def test_a_photo_is_only_inspected_on_upload_and_kept_as_uploaded():
    """The web side reads the header only: the upload is kept as is, for the worker to clean."""
    original = _jpeg_with_gps()
    inspected = evidence_inspect(name="IMG_0001.JPG", data=original)
    assert inspected.kind == EvidenceKind.IMAGE
    assert inspected.needs_processing
    assert inspected.content_type == "image/jpeg"
    assert inspected.name == "IMG_0001.JPG"
    assert inspected.size == len(original)
    assert inspected.original_sha256 == hashlib.sha256(original).hexdigest()
    assert inspected.source.read() == original


def test_jpeg_with_gps_is_stored_without_any_metadata(cleaned):
    """A phone photo keeps its pixels but loses GPS position and camera make and model."""
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as source:
        # The test photo really carries what must be removed.
        assert source.getexif()[MAKE] == "Canon"
        assert source.getexif().get_ifd(GPS_IFD)[1] == "N"

    stored_bytes = cleaned(original)

    with Image.open(io.BytesIO(stored_bytes)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)
        assert len(stored.getexif()) == 0
        assert stored.getexif().get_ifd(GPS_IFD) == {}
        assert "exif" not in stored.info
    assert b"Canon" not in stored_bytes


def test_png_text_chunks_are_stripped(cleaned):
    """Author, comment and location text chunks in a PNG do not survive the re-encoding."""
    info = PngInfo()
    info.add_text("Author", "Jan de Vries")
    info.add_text("Comment", "Thuisadres: Dorpsstraat 1")
    info.add_itxt("Location", "52.0907,5.1214")
    original = _png(pnginfo=info)
    with Image.open(io.BytesIO(original)) as source:
        assert source.text["Author"] == "Jan de Vries"

    inspected = evidence_inspect(name="screenshot.png", data=original)
    assert inspected.kind == EvidenceKind.IMAGE
    assert inspected.content_type == "image/png"
    stored_bytes = cleaned(original)
    with Image.open(io.BytesIO(stored_bytes)) as stored:
        assert stored.text == {}
        assert not {"Author", "Comment", "Location"} & set(stored.info)
    assert b"Dorpsstraat" not in stored_bytes


def test_image_name_gets_the_extension_of_what_is_stored():
    """A GIF is stored as PNG, and its name says so; a JPEG called .png becomes .jpg."""
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    assert evidence_inspect(name="meme.gif", data=gif.getvalue()).name == "meme.png"
    assert evidence_inspect(name="foto.png", data=_jpeg_with_gps()).name == "foto.jpg"


def test_a_turned_phone_photo_stays_upright(cleaned):
    """The orientation tag goes with the rest of the EXIF: the pixels are turned instead."""
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to view"
    out = io.BytesIO()
    Image.new("RGB", (80, 40), (0, 0, 0)).save(out, format="JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(cleaned(out.getvalue()))) as stored:
        assert stored.size == (40, 80)
        assert 0x0112 not in stored.getexif()


def test_a_large_photo_is_stored_at_most_the_configured_size(cleaned, settings):
    """Larger photos are scaled down to EVIDENCE_IMAGE_MAX_SIDE on their long side (JPEG
    decoded in draft mode, so memory stays bounded; see test_evidence_media)."""
    settings.EVIDENCE_IMAGE_MAX_SIDE = 100
    out = io.BytesIO()
    Image.new("RGB", (410, 200), (10, 20, 30)).save(out, format="JPEG")
    with Image.open(io.BytesIO(cleaned(out.getvalue()))) as stored:
        assert max(stored.size) == 100
        assert stored.size == (100, 49)


def test_a_photo_the_worker_cannot_decode_fails_with_a_reason(tmp_path):
    """A JPEG whose header is fine but whose data is cut off fails as "unreadable"."""
    out = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(out, format="JPEG")
    broken = out.getvalue()[: len(out.getvalue()) // 3]
    assert evidence_inspect(name="kapot.jpg", data=broken).kind == EvidenceKind.IMAGE
    (tmp_path / "upload").write_bytes(broken)
    with pytest.raises(ProcessingFailed) as failed:
        image_reencode(source=str(tmp_path / "upload"), target=str(tmp_path / "cleaned"))
    assert failed.value.code == EvidenceFailure.UNREADABLE


def test_valid_pdf_is_accepted_unchanged():
    """A PDF that parses with at least one page is stored byte for byte, without the worker."""
    data = _pdf()
    inspected = evidence_inspect(name="aangifte.pdf", data=data)
    assert inspected.kind == EvidenceKind.PDF
    assert not inspected.needs_processing
    assert inspected.content_type == "application/pdf"
    assert inspected.source.read() == data
    assert inspected.name == "aangifte.pdf"
    assert inspected.original_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\nthis is not really a pdf\n%%EOF\n", b"Gewoon wat tekst, geen PDF.", _zip()],
    ids=["broken-pdf", "text", "zip"],
)
def test_file_named_pdf_that_is_no_pdf_is_refused(data):
    """A name ending in .pdf promises a PDF: other content is refused, not stored as .pdf."""
    assert _rejected("rapport.pdf", data).file_name == "rapport.pdf"


def test_damaged_pdf_under_another_name_is_refused():
    """Content that starts like a PDF but does not parse is refused whatever the name."""
    _rejected("rapport", b"%PDF-1.4\n1 0 obj garbage\n")


@pytest.mark.parametrize("name", ["photo.jpg", "bericht.txt", "pagina"])
def test_html_is_refused_whatever_its_name(name):
    """HTML could run script when opened: refused, also when it is called photo.jpg."""
    _rejected(name, b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    ],
)
def test_svg_is_refused(data):
    """SVG is markup that can carry script: never accepted as an image."""
    _rejected("logo.svg", data)


def test_zip_archive_is_refused():
    """Archives are refused: their content cannot be checked."""
    _rejected("bewijs.zip", _zip())


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,
        b"#!/bin/sh\nrm -rf ~\n",
    ],
    ids=["windows-exe", "elf", "shell-script"],
)
def test_executables_and_scripts_are_refused(data):
    """Programs and scripts are never evidence."""
    _rejected("screenshot", data)


def test_eml_is_accepted_as_email():
    """An e-mail message (.eml) is kept as is, typed as message/rfc822."""
    inspected = evidence_inspect(name="dreigmail.eml", data=EML)
    assert inspected.kind == EvidenceKind.EMAIL
    assert inspected.content_type == "message/rfc822"
    assert inspected.source.read() == EML
    assert inspected.name == "dreigmail.eml"


def test_eml_with_an_html_part_is_accepted_as_email():
    """Most real e-mails carry an HTML alternative; that does not make them refused HTML."""
    data = (
        b"From: boos@example.nl\r\nTo: raadslid@example.nl\r\nSubject: Laatste waarschuwing\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nPas maar op.\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<html><body><p>Pas maar op.</p></body></html>\r\n"
        b"--b--\r\n"
    )
    inspected = evidence_inspect(name="bericht.eml", data=data)
    assert inspected.kind == EvidenceKind.EMAIL


def test_utf8_text_is_accepted_as_text():
    """A UTF-8 text file (for example a copied chat) is accepted as text."""
    data = "Bericht van 12 maart: ‘Wij weten waar jij woont’ 😡\n".encode()
    inspected = evidence_inspect(name="whatsapp.txt", data=data)
    assert inspected.kind == EvidenceKind.TEXT
    assert inspected.content_type.startswith("text/plain")
    assert inspected.source.read() == data
    assert inspected.name == "whatsapp.txt"


def test_accepted_text_is_always_named_txt():
    """Markup after the first kilobyte stays text, but it can never be opened as .html."""
    data = b"Gekopieerd uit het forum:\n" * 60 + b"<html><script>alert(1)</script></html>"
    inspected = evidence_inspect(name="forum.html", data=data)
    assert inspected.kind == EvidenceKind.TEXT
    assert inspected.name == "forum.txt"


def test_binary_junk_is_refused():
    """Bytes that are no image, PDF, e-mail or UTF-8 text are refused."""
    _rejected("data.bin", bytes(range(256)) * 8)


def test_latin1_text_with_invalid_utf8_is_refused():
    """Text in another encoding than UTF-8 is refused rather than stored garbled."""
    _rejected("notitie", "Ongeëvenaard".encode("latin-1"))


def test_empty_file_is_refused():
    """An empty upload is refused with its name."""
    assert _rejected("leeg.txt", b"").file_name == "leeg.txt"


def test_file_over_10_mb_is_refused():
    """One byte over the 10 MB limit is refused before anything is parsed."""
    error = _rejected("groot.txt", b"a" * (MAX_FILE_BYTES + 1))
    assert error.reason == "Het bestand is groter dan 10 MB."


def test_file_of_exactly_10_mb_is_accepted():
    """The limit itself is allowed."""
    assert evidence_inspect(name="groot.txt", data=b"a" * MAX_FILE_BYTES).kind == "text"


def test_the_limits_are_settings():
    """Photos and documents 10 MB, audio 25 MB, video 200 MB, by default."""
    assert settings.EVIDENCE_MAX_FILE_BYTES == MAX_FILE_BYTES
    assert settings.EVIDENCE_MAX_AUDIO_BYTES == 25 * 1024 * 1024
    assert settings.EVIDENCE_MAX_VIDEO_BYTES == 200 * 1024 * 1024
    # Larger uploads stream to a temporary file instead of the web process's memory.
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * 1024 * 1024


def test_the_browser_check_gets_the_servers_limits_and_messages():
    """The page hands the browser check the same numbers and words the server uses."""
    limits = evidence_limits_for_browser(max_files=10)
    video, audio = limits["kinds"]
    assert (video["max"], video["message"]) == (
        settings.EVIDENCE_MAX_VIDEO_BYTES,
        "De video is groter dan 200 MB.",
    )
    assert (audio["max"], audio["message"]) == (
        settings.EVIDENCE_MAX_AUDIO_BYTES,
        "De geluidsopname is groter dan 25 MB.",
    )
    assert limits["other"] == {"max": MAX_FILE_BYTES, "message": "Het bestand is groter dan 10 MB."}
    assert limits["tooMany"] == "U kunt ten hoogste 10 bestanden toevoegen."


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_with_too_many_pixels_is_refused_without_decoding():
    """A small file that decodes to a huge bitmap (a decompression bomb) is refused."""
    out = io.BytesIO()
    Image.new("1", (9000, 7000)).save(out, format="PNG")  # 63 M pixels, a few kB on disk
    assert len(out.getvalue()) < 1024 * 1024
    _rejected("bom.png", out.getvalue())


@pytest.mark.parametrize(
    ("payload", "marker"),
    [
        (_zip(), b"PK\x03\x04"),
        (b"<html><script>alert(document.cookie)</script></html>", b"<script>"),
    ],
    ids=["png+zip", "png+html"],
)
def test_polyglot_png_is_refused(payload, marker):
    """An image with an archive or HTML appended is a polyglot: refused, not cleaned."""
    polyglot = _png() + payload
    assert marker in polyglot
    assert _rejected("plaatje.png", polyglot).reason


def test_jpeg_comment_with_script_is_refused():
    """A JPEG whose comment segment carries markup is a polyglot too."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, format="JPEG", comment=b"<script>alert(1)</script>")
    assert b"<script>" in out.getvalue()
    assert _rejected("x.jpg", out.getvalue()).reason


def test_jpeg_without_markup_keeps_no_comment(cleaned):
    """An ordinary JPEG comment does not survive the re-encoding."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, format="JPEG", comment=b"Gemaakt in de raadszaal")
    assert evidence_inspect(name="x.jpg", data=out.getvalue()).kind == EvidenceKind.IMAGE
    assert b"raadszaal" not in cleaned(out.getvalue())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/absolute/path/foto.jpg", "foto.jpg"),
        ("na\x00me\x1f\x7f.txt", "name.txt"),
        ("regel\r\nInjected: header.txt", "regelInjected: header.txt"),
        (".htaccess", "htaccess"),
        ("  spaties.pdf  ", "spaties.pdf"),
        ("", "bestand"),
        ("../", "bestand"),
    ],
)
def test_file_names_are_sanitised(name, expected):
    """No directories, control characters, leading dots or empty names reach the display name."""
    assert sanitise_file_name(name) == expected


def test_long_file_names_are_shortened():
    """A display name is at most 150 characters."""
    assert len(sanitise_file_name("a" * 400 + ".txt")) == 150


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("aangifte.pdf.bat", "application/pdf", "aangifte.pdf"),
        ("brief.hta", "application/pdf", "brief.pdf"),
        ("scan.html", "application/pdf", "scan.pdf"),
        ("scan", "application/pdf", "scan.pdf"),
        ("foto.JPEG", "image/jpeg", "foto.JPEG"),
        ("foto.jpg.exe", "image/jpeg", "foto.jpg"),
        ("opname.mp4", "audio/mp4", "opname.m4a"),
        ("spraak.opus", "audio/ogg", "spraak.opus"),
        ("chat.html", "text/plain; charset=utf-8", "chat.txt"),
        ("mail.txt", "message/rfc822", "mail.eml"),
    ],
)
def test_the_download_name_follows_the_stored_type(name, content_type, expected):
    """Whatever a file was called, it is downloaded with the extension of what it is."""
    assert evidence_download_name(name, content_type) == expected


def test_rejection_names_the_sanitised_file_and_a_reason():
    """The error names the file (safely) and says why, for the message next to the field."""
    error = _rejected("../../geheim.exe", b"MZ\x90\x00" + b"\x00" * 32)
    assert error.file_name == "geheim.exe"
    assert str(error.reason)


@pytest.mark.parametrize("text", [b"I'm free to say so.\n", b"Too wide a gap\n", b"OK. moov it\n"])
def test_text_that_looks_like_a_media_box_is_still_text(text):
    """A text with "free", "wide" or "moov" in its first bytes is no QuickTime file: the box
    size must fit the file."""
    assert evidence_inspect(name="notitie.txt", data=text).kind == EvidenceKind.TEXT
