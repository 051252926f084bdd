"""Check an uploaded evidence file by its content, never by its name.

Images are decoded and re-encoded: that drops all metadata (GPS position, camera, author).
A polyglot file (an image or PDF that is also markup, a script or an archive) is refused
outright, whatever its name, before anything is decoded. PDFs must parse. E-mail (.eml)
and text files are accepted as they are, but the portal only ever offers them as a download,
never renders them.
"""

import email
import email.policy
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from incidents.constants import MAX_EVIDENCE_BYTES, EvidenceKind
from portal.errors import DomainError

Image.MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs

IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
# Decoded formats that are re-encoded to PNG (lossless) or JPEG (photos).
ACCEPTED_IMAGE_INPUT = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"}


class EvidenceRejected(DomainError):
    """The file is not acceptable; the message says why, in the user's language."""

    code = "invalid"
    default_message = gettext_lazy("Het bestand is geweigerd.")

    def __init__(self, file_name: str, reason: str):
        super().__init__()
        self.file_name = file_name
        self.reason = reason
        self.fields = {"file": [f"{file_name}: {reason}"]}

    def __str__(self):
        return f"{self.file_name}: {self.reason}"


@dataclass(frozen=True)
class InspectedFile:
    kind: str
    content: bytes
    content_type: str
    name: str
    sha256: str


def sanitise_file_name(name: str) -> str:
    """A safe display name: no directories, no control characters, at most 150 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:150] or "bestand"


def _reencode_image(data: bytes) -> tuple[bytes, str, str]:
    with Image.open(io.BytesIO(data)) as opened:
        if opened.format not in ACCEPTED_IMAGE_INPUT:
            raise ValueError(opened.format)
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse before decoding.
        if opened.width * opened.height > Image.MAX_IMAGE_PIXELS:
            raise Image.DecompressionBombError(f"{opened.width}x{opened.height}")
        source_format = opened.format
        opened.load()
        # Keep the photo upright once the orientation tag is gone.
        image = ImageOps.exif_transpose(opened)
        target = "JPEG" if source_format == "JPEG" else "PNG"
        wanted = ("RGB", "L") if target == "JPEG" else ("RGB", "RGBA", "L", "LA")
        pixels = (
            image if image.mode in wanted else image.convert(wanted[0 if target == "JPEG" else 1])
        )
        # A fresh image holds pixels only: no EXIF, XMP, ICC or comments survive.
        clean = Image.new(pixels.mode, pixels.size)
        clean.paste(pixels)
        out = io.BytesIO()
        clean.save(out, format=target, **({"quality": 90} if target == "JPEG" else {}))
    content_type, extension = IMAGE_FORMATS[target]
    return out.getvalue(), content_type, extension


def _is_pdf(data: bytes) -> bool:
    if not data.startswith(b"%PDF-"):
        return False
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        return len(reader.pages) > 0
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return False


def _is_email(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    message = email.message_from_string(text, policy=email.policy.default)
    headers = {key.lower() for key in message.keys()}
    return bool(headers & {"from", "to"}) and bool(headers & {"subject", "date", "message-id"})


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Markup a browser would run. Anywhere in a photo or PDF (not only at its start) it makes the
# file a polyglot; six or more bytes, so compressed pixels do not hit one by chance.
MARKUP_ANYWHERE = (b"<script", b"<html", b"<svg", b"<!doctype html", b"<iframe", b"<?php")


def _looks_dangerous(data: bytes) -> bool:
    """Markup, scripts, executables and archives are never evidence, whatever the name."""
    head = data[:1024].lstrip().lower()
    signatures = (b"mz", b"\x7felf", b"pk\x03\x04", b"\x1f\x8b", b"rar!", b"7z\xbc\xaf", b"#!")
    markup = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script")
    return head.startswith(signatures) or any(tag in head for tag in markup)


def _is_polyglot(data: bytes) -> bool:
    """A file that is also something else: refused before anything is decoded.

    A photo or PDF (binary formats) with markup anywhere in it, or any file with an archive
    appended (a ZIP is recognised by its central directory at the end, as unzip tools find
    it). Plain text may quote markup after its first kilobyte: it is only ever stored and
    served as .txt, so it cannot be opened as a page.
    """
    lowered = data.lower()
    binary_format = data.startswith(b"%PDF-") or not _is_text(data)
    if binary_format and any(tag in lowered for tag in MARKUP_ANYWHERE):
        return True
    return zipfile.is_zipfile(io.BytesIO(data)) or b"rar!\x1a\x07" in lowered


def _dangerous_message() -> str:
    return _(
        "Dit soort bestand kunnen wij niet aannemen "
        "(bijvoorbeeld HTML, SVG, een programma of een archief)."
    )


# Names that promise a format the content must then really have.
CLAIMED_BINARY_EXTENSIONS = {"pdf", "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"}


def _with_extension(display_name: str, extension: str) -> str:
    stem = display_name.rsplit(".", 1)[0] if "." in display_name else display_name
    return f"{stem or 'bestand'}.{extension}"


def evidence_inspect(*, name: str, data: bytes) -> InspectedFile:
    """Return the file as it will be stored, or raise EvidenceRejected with a clear reason.

    The stored name always ends in the extension of what the content turned out to be, so
    a text file called "page.html" or "scan.pdf" can never be opened as HTML or PDF later.
    """
    display_name = sanitise_file_name(name)
    if len(data) == 0:
        raise EvidenceRejected(display_name, _("Het bestand is leeg."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceRejected(display_name, _("Het bestand is groter dan 10 MB."))
    # Before any decoding: a polyglot is refused, not cleaned. An e-mail may carry an HTML
    # part; it is only ever downloaded as .eml, never rendered.
    if _is_polyglot(data) and not _is_email(data):
        raise EvidenceRejected(display_name, _dangerous_message())

    try:
        content, content_type, extension = _reencode_image(data)
    except (UnidentifiedImageError, ValueError, OSError, Image.DecompressionBombError):
        content = None
    if content is not None:
        name = _with_extension(display_name, extension)
        return _inspected(EvidenceKind.IMAGE, content, content_type, name)

    if _is_pdf(data):
        return _inspected(EvidenceKind.PDF, data, "application/pdf", display_name)
    claimed = display_name.rsplit(".", 1)[-1].lower() if "." in display_name else ""
    if data.startswith(b"%PDF-") or claimed in CLAIMED_BINARY_EXTENSIONS:
        # A damaged PDF or a fake image must not slip through as "text" under its old name.
        raise EvidenceRejected(
            display_name,
            _("Dit bestand is geen leesbare foto of PDF, ook al zegt de naam dat wel."),
        )
    is_email = _is_email(data)
    # An e-mail may carry an HTML part; it is only ever downloaded as .eml, never rendered.
    if _looks_dangerous(data) and not is_email:
        raise EvidenceRejected(display_name, _dangerous_message())
    if is_email:
        name = _with_extension(display_name, "eml")
        return _inspected(EvidenceKind.EMAIL, data, "message/rfc822", name)
    if _is_text(data):
        name = _with_extension(display_name, "txt")
        return _inspected(EvidenceKind.TEXT, data, "text/plain; charset=utf-8", name)
    raise EvidenceRejected(
        display_name,
        _(
            "Dit bestandstype wordt niet ondersteund. Gebruik een foto, schermafbeelding, "
            "PDF, e-mail (.eml) of tekstbestand."
        ),
    )


def _inspected(kind, content, content_type, name) -> InspectedFile:
    return InspectedFile(
        kind=kind,
        content=content,
        content_type=content_type,
        name=name,
        sha256=hashlib.sha256(content).hexdigest(),
    )
