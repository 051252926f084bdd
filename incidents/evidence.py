"""Check an uploaded evidence file by its content, never by its name (the web side).

This runs while the file is uploaded and reads no more than it must, so the request answers
at once; the worker does the heavy work afterwards (incidents/evidence_processing.py).

- **Everything**: an empty file, or one over the limit of its kind (photos and documents
  `EVIDENCE_MAX_FILE_BYTES`, audio `EVIDENCE_MAX_AUDIO_BYTES`, video
  `EVIDENCE_MAX_VIDEO_BYTES`), is refused. So is a polyglot (a photo or PDF that is also
  markup, or any file with an archive appended), and so are SVG, HTML, programs, scripts and
  archives, whatever their name. A name that promises a photo, PDF, e-mail, audio or video
  must be kept by the content.
- **Photos** (JPEG, PNG, GIF, WebP, BMP, TIFF): only the header is read here (format, pixel
  count against decompression bombs). The worker re-encodes them without metadata.
- **Audio** (m4a, mp3, ogg/opus) and **video** (mp4, mov): recognised by their first bytes
  and then by ffprobe (incidents/media.py). The worker remuxes them without metadata.
- **PDF**: must parse (pypdf). A PDF with JavaScript, automatic actions (/OpenAction as an
  action, /AA), launch actions or embedded files is **refused, not cleaned**: the document is
  evidence and stays byte for byte what was uploaded (a signature stays valid); the message
  says how to make a clean copy. An /OpenAction that is only a destination ("open at page
  1", as LibreOffice writes) runs nothing and is allowed.
- **E-mail** (.eml): must parse as MIME with the standard library's parser
  (`policy.default`), and every line from the first one up to the blank line must be a
  header: anything else in front makes it "geen e-mail". An HTML part is kept but never
  rendered (every file is only ever served as a download). An attachment, or any part,
  that is an archive or a program is refused by name ("De bijlage factuur.zip is een
  archief"), and so is a part that claims to be plain text but is a web page.
- **Text**: UTF-8 without markup at its start; always stored as .txt.

The stored name always ends in the extension of what the content turned out to be
(`aangifte.pdf.bat`, `brief.hta` and `scan.html` holding a PDF become `aangifte.pdf`,
`brief.pdf` and `scan.pdf`), and `evidence_download_name` applies the same rule when serving.
"""

import email
import email.errors
import email.policy
import hashlib
import io
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from incidents.constants import PROCESSED_EVIDENCE_KINDS, EvidenceKind
from incidents.media import MediaError, MediaFormat, media_format_sniff, media_probe
from portal.errors import DomainError

# Pillow refuses decompression bombs at open: a few kB that decode to gigabytes. The worker
# sets the same limit from EVIDENCE_IMAGE_MAX_PIXELS before it decodes anything.
Image.MAX_IMAGE_PIXELS = 60_000_000

# Decoded formats that the worker re-encodes to JPEG (photos) or PNG (everything else).
# MPO is the JPEG with a depth map that iPhones write for portrait photos.
ACCEPTED_IMAGE_INPUT = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF"}
IMAGE_TARGETS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}

# The extension each stored content type is downloaded with.
EXTENSIONS = {
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "application/pdf": ("pdf",),
    "message/rfc822": ("eml",),
    "text/plain": ("txt",),
    "video/mp4": ("mp4",),
    "video/quicktime": ("mov",),
    "audio/mp4": ("m4a",),
    "audio/mpeg": ("mp3",),
    "audio/ogg": ("ogg", "opus"),
}

READ_BLOCK = 1024 * 1024
HEAD_SIZE = 64 * 1024


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
    """An upload that passed the checks, as it will be stored.

    `source` is the upload itself (seekable); `content_type` and `name` describe the file
    that will be served: for photos, audio and video that is the worker's cleaned file.
    """

    kind: str
    name: str
    content_type: str
    size: int
    original_sha256: str
    source: IO[bytes]

    @property
    def needs_processing(self) -> bool:
        return self.kind in PROCESSED_EVIDENCE_KINDS


def sanitise_file_name(name: str) -> str:
    """A safe display name: no directories, no control characters, at most 150 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:150] or "bestand"


def _with_extension(display_name: str, extension: str, accepted=()) -> str:
    """The name with `extension`: the last extension goes ("brief.hta" → "brief.pdf"), and
    one left behind that already is right is not doubled ("aangifte.pdf.bat" → "aangifte.pdf")."""
    accepted = {extension, *accepted}
    stem, dot, last = display_name.rpartition(".")
    if not dot:
        stem, last = display_name, ""
    if last.lower() in accepted:
        return f"{stem or 'bestand'}.{last}"
    inner_stem, inner_dot, inner = stem.rpartition(".")
    if inner_dot and inner.lower() in accepted:
        return f"{inner_stem or 'bestand'}.{inner}"
    return f"{stem or 'bestand'}.{extension}"


def evidence_download_name(name: str, content_type: str) -> str:
    """The name a file is served under: always the extension of its stored type."""
    base_type = content_type.split(";")[0].strip()
    extensions = EXTENSIONS.get(base_type)
    if not extensions:
        return _with_extension(name, "bin")
    return _with_extension(name, extensions[0], extensions[1:])


def size_limit(kind: str) -> int:
    """The largest file accepted of this kind, in bytes (settings EVIDENCE_MAX_*)."""
    if kind == EvidenceKind.VIDEO:
        return settings.EVIDENCE_MAX_VIDEO_BYTES
    if kind == EvidenceKind.AUDIO:
        return settings.EVIDENCE_MAX_AUDIO_BYTES
    return settings.EVIDENCE_MAX_FILE_BYTES


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def too_large_message(kind: str) -> str:
    """The reason given for a file over its limit; the browser check shows the same text."""
    limit = _megabytes(size_limit(kind))
    if kind == EvidenceKind.VIDEO:
        return _("De video is groter dan %(limit)s.") % {"limit": limit}
    if kind == EvidenceKind.AUDIO:
        return _("De geluidsopname is groter dan %(limit)s.") % {"limit": limit}
    return _("Het bestand is groter dan %(limit)s.") % {"limit": limit}


def _dangerous_message() -> str:
    return _(
        "Dit soort bestand kunnen wij niet aannemen "
        "(bijvoorbeeld HTML, SVG, een programma of een archief)."
    )


# --- Reading the upload without holding it in memory --------------------------------------------


def _size_of(source: IO[bytes]) -> int:
    size = getattr(source, "size", None)
    if isinstance(size, int):
        return size
    position = source.tell()
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def _blocks(source: IO[bytes]) -> Iterator[bytes]:
    source.seek(0)
    while block := source.read(READ_BLOCK):
        yield block


def _head(source: IO[bytes]) -> bytes:
    source.seek(0)
    head = source.read(HEAD_SIZE)
    source.seek(0)
    return head


def _sha256(source: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in _blocks(source):
        digest.update(block)
    source.seek(0)
    return digest.hexdigest()


@contextmanager
def _local_path(source: IO[bytes]) -> Iterator[str]:
    """A path to the upload's bytes: its own temporary file, or a copy for a small upload."""
    path = getattr(source, "temporary_file_path", None)
    if path is not None:
        yield path()
        return
    with tempfile.NamedTemporaryFile(
        dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="mwb-probe-"
    ) as copy:
        for block in _blocks(source):
            copy.write(block)
        copy.flush()
        source.seek(0)
        yield copy.name


# --- Content checks ---------------------------------------------------------------------------

# Markup a browser would run. Anywhere in a photo or PDF (not only at its start) it makes the
# file a polyglot.
MARKUP_ANYWHERE = (b"<script", b"<html", b"<svg", b"<!doctype html", b"<iframe", b"<?php")
ARCHIVE_SIGNATURES = (
    b"pk\x03\x04",
    b"pk\x05\x06",
    b"\x1f\x8b",
    b"rar!",
    b"7z\xbc\xaf",
    b"bzh",
    b"\xfd7zxz\x00",
    b"mscf",
)
PROGRAM_SIGNATURES = (
    b"mz",
    b"\x7felf",
    b"#!",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
ARCHIVE_EXTENSIONS = {
    "zip", "zipx", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "cab", "iso", "img", "arj",
    "lzh", "z",
}  # fmt: skip
PROGRAM_EXTENSIONS = {
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "js", "jse", "vbs",
    "vbe", "vb", "wsf", "wsh", "ps1", "psm1", "hta", "jar", "lnk", "reg", "sh", "apk", "app",
    "dmg", "pkg", "deb", "rpm", "elf", "bin", "run", "scf", "url", "application", "gadget",
}  # fmt: skip


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_archive(data: bytes) -> bool:
    """A ZIP is recognised by its central directory at the end, as unzip tools find it."""
    return zipfile.is_zipfile(io.BytesIO(data)) or b"rar!\x1a\x07" in data.lower()


def _is_polyglot(data: bytes) -> bool:
    """A file that is also something else: refused before anything is decoded.

    A photo or PDF (binary formats) with markup anywhere in it, or any file with an archive
    appended. Plain text may quote markup after its first kilobyte: it is only ever stored and
    served as .txt, so it cannot be opened as a page.
    """
    lowered = data.lower()
    binary_format = data.startswith(b"%PDF-") or not _is_text(data)
    if binary_format and any(tag in lowered for tag in MARKUP_ANYWHERE):
        return True
    return _has_archive(data)


def _looks_dangerous(data: bytes) -> bool:
    """Markup, scripts, executables and archives are never evidence, whatever the name."""
    head = data[:1024].lstrip().lower()
    markup = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script", b"<iframe", b"<body")
    return (
        head.startswith(ARCHIVE_SIGNATURES + PROGRAM_SIGNATURES)
        or any(tag in head for tag in markup)
        or (head[257:262] == b"ustar")
    )


def _image_target(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of the re-encoded photo, from the header only; None if no photo."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                source_format, (width, height) = opened.format, opened.size
    except Image.DecompressionBombError:
        source_format, width, height = "bomb", 1, 1
    except (UnidentifiedImageError, ValueError, OSError):
        return None
    if source_format == "bomb" or width * height > settings.EVIDENCE_IMAGE_MAX_PIXELS:
        raise _Refused(_("Deze afbeelding heeft te veel pixels. Maak er een kleinere foto van."))
    if source_format not in ACCEPTED_IMAGE_INPUT:
        return None
    return IMAGE_TARGETS["JPEG" if source_format in ("JPEG", "MPO") else "PNG"]


class _Refused(Exception):
    def __init__(self, reason: str):
        self.reason = reason


# --- PDF --------------------------------------------------------------------------------------

# Keys that make a PDF run something, open something or carry files.
PDF_ACTIVE_KEYS = {
    "/JS",
    "/JavaScript",
    "/AA",
    "/Launch",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/RichMedia",
    "/XFA",
}
PDF_ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/GoToE",
    "/Rendition",
}
PDF_MAX_OBJECTS = 200_000


def _pdf_reader(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF-"):
        return None
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        return reader if len(reader.pages) > 0 else None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
        return None


def _pdf_active_content(reader) -> bool | None:
    """True when any object of the PDF (reachable or not) runs, launches or embeds something;
    None when it has too many objects to check.

    Every object in the cross-reference table is read, including those in object streams, so
    hiding an action in an unreferenced object or behind a #-escaped name does not help.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    for generation, objects in getattr(reader, "xref", {}).items():
        stack.extend(IndirectObject(number, generation, reader) for number in objects)
    stack.extend(IndirectObject(number, 0, reader) for number in getattr(reader, "xref_objStm", {}))
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            return None  # too large to check: not a PDF we accept
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in PDF_ACTIVE_KEYS:
                    return True
                if name == "/S" and isinstance(value, NameObject) and value in PDF_ACTIVE_ACTIONS:
                    return True
                if name == "/OpenAction":
                    target = value.get_object() if isinstance(value, IndirectObject) else value
                    if isinstance(target, DictionaryObject):  # an action, not a destination
                        return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def _pdf_check(data: bytes) -> bool:
    """True for a PDF that parses and is safe; refuses one with active content."""
    reader = _pdf_reader(data)
    if reader is None:
        return False
    try:
        active = _pdf_active_content(reader)
    except (ValueError, KeyError, TypeError, OSError, RecursionError, AttributeError):
        return False  # damaged objects: not a PDF we can read (and so refused)
    except Exception as error:  # pypdf raises its own errors for damaged objects
        if type(error).__module__.startswith("pypdf"):
            return False
        raise
    if active is None:
        return False
    if active:
        raise _Refused(
            _(
                "Deze PDF bevat JavaScript, automatische acties of ingesloten bestanden. "
                "Die nemen wij niet aan. Open de PDF, kies Afdrukken en dan 'Opslaan als PDF', "
                "en voeg die nieuwe PDF toe."
            )
        )
    return True


# --- E-mail -----------------------------------------------------------------------------------

HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")


EMAIL_HEADER_LIMIT = 256 * 1024


def _email_header_block(data: bytes) -> bool:
    """True when the file starts with header lines (folded ones allowed) up to a blank line."""
    position, headers = 0, 0
    while position < min(len(data), EMAIL_HEADER_LIMIT):
        end = data.find(b"\n", position)
        if end == -1:
            return False  # no blank line: headers without a message
        line = data[position:end].rstrip(b"\r")
        position = end + 1
        if not line:
            return headers > 0
        if HEADER_LINE.match(line):
            headers += 1
        elif not (line[:1] in (b" ", b"\t") and headers):  # a folded header continues one
            return False
    return False


def _email_parse(data: bytes):
    """The parsed message if `data` is an e-mail by its headers; None when it is not one."""
    if not _email_header_block(data):
        return None
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = {key.lower() for key in message.keys()}
    if "from" not in headers or not headers & {"to", "subject", "date", "message-id"}:
        return None
    return message


STRUCTURE_DEFECTS = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
)


def _part_danger(payload: bytes, filename: str) -> str | None:
    """'archive' or 'program' when an e-mail part is one, by its content or its name."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    head = payload[:1024].lower()
    if (
        extension in ARCHIVE_EXTENSIONS
        or head.startswith(ARCHIVE_SIGNATURES)
        or head[257:262] == b"ustar"
        or _has_archive(payload)
    ):
        return "archive"
    if extension in PROGRAM_EXTENSIONS or head.startswith(PROGRAM_SIGNATURES):
        return "program"
    return None


def _email_check(message) -> None:
    """Refuse an e-mail with an archive or program in it, or a web page disguised as text."""
    for part in message.walk():
        if any(isinstance(defect, STRUCTURE_DEFECTS) for defect in part.defects):
            raise _Refused(_("Dit bestand is geen e-mail die wij kunnen lezen."))
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        filename = sanitise_file_name(part.get_filename() or "") if part.get_filename() else ""
        danger = _part_danger(payload, filename)
        if danger and filename:
            if danger == "archive":
                raise _Refused(_("De bijlage %(name)s is een archief.") % {"name": filename})
            raise _Refused(_("De bijlage %(name)s is een programma.") % {"name": filename})
        if danger:
            raise _Refused(
                _("In dit e-mailbericht zit een archief of een programma. Dat nemen wij niet aan.")
            )
        # An HTML part says so (text/html) and is kept; plain text that is a page is a disguise.
        if part.get_content_type() == "text/plain" and _looks_dangerous(payload):
            raise _Refused(
                _("Dit lijkt een e-mail, maar de inhoud is een webpagina. Dat nemen wij niet aan.")
            )


# --- Audio and video --------------------------------------------------------------------------


def _inspect_media(
    display_name: str, source: IO[bytes], size: int, media_format: MediaFormat
) -> InspectedFile:
    # Cheap before anything else: the largest limit any media may have.
    audio_only = media_format.demuxer != "mov" or media_format.audio_brand
    guess = EvidenceKind.AUDIO if audio_only else EvidenceKind.VIDEO
    if size > size_limit(guess):
        raise EvidenceRejected(display_name, too_large_message(guess))
    if zipfile.is_zipfile(source):
        raise EvidenceRejected(display_name, _dangerous_message())
    source.seek(0)
    with _local_path(source) as path:
        try:
            info = media_probe(path, media_format=media_format, timeout=15)
        except MediaError:
            raise EvidenceRejected(display_name, str(MEDIA_UNREADABLE)) from None
    if size > size_limit(info.kind):
        raise EvidenceRejected(display_name, too_large_message(info.kind))
    return InspectedFile(
        kind=info.kind,
        name=_with_extension(display_name, info.extension),
        content_type=info.content_type,
        size=size,
        original_sha256=_sha256(source),
        source=source,
    )


# Names that promise a format the content must then really have.
CLAIMED_PHOTO_OR_PDF = {"pdf", "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic"}
CLAIMED_MEDIA = {"mp4", "m4v", "mov", "qt", "m4a", "mp3", "ogg", "oga", "opus", "3gp", "aac", "wav"}
MEDIA_UNREADABLE = gettext_lazy(
    "Dit bestand is geen video of geluidsopname die wij kunnen lezen. "
    "Gebruik mp4, mov, m4a, mp3 of ogg (opus)."
)


def evidence_inspect(
    *, name: str, data: bytes | None = None, file: IO[bytes] | None = None
) -> InspectedFile:
    """Return the upload as it will be stored, or raise EvidenceRejected with a clear reason.

    Give the bytes (`data`) or a seekable file (`file`, e.g. an UploadedFile: a large one is
    never read into memory). The stored name always ends in the extension of what the
    content turned out to be, so a text file called "page.html" or "scan.pdf" can never be
    opened as HTML or PDF later.
    """
    source = io.BytesIO(data) if data is not None else file
    if source is None:
        raise ValueError("Give data or file.")
    display_name = sanitise_file_name(name)
    size = _size_of(source)
    if size == 0:
        raise EvidenceRejected(display_name, _("Het bestand is leeg."))
    head = _head(source)
    media_format = media_format_sniff(head, size=size)
    if media_format is not None:
        return _inspect_media(display_name, source, size, media_format)
    if size > settings.EVIDENCE_MAX_FILE_BYTES:
        raise EvidenceRejected(display_name, too_large_message(EvidenceKind.PDF))
    data = b"".join(_blocks(source))  # at most EVIDENCE_MAX_FILE_BYTES
    source.seek(0)
    try:
        return _inspect_document(display_name, source, data)
    except _Refused as refused:
        raise EvidenceRejected(display_name, refused.reason) from None


def _inspect_document(display_name: str, source: IO[bytes], data: bytes) -> InspectedFile:
    digest = hashlib.sha256(data).hexdigest()

    def inspected(kind: str, content_type: str, extension: str, accepted=()) -> InspectedFile:
        return InspectedFile(
            kind=kind,
            name=_with_extension(display_name, extension, accepted),
            content_type=content_type,
            size=len(data),
            original_sha256=digest,
            source=source,
        )

    message = _email_parse(data)
    # Before any decoding: a polyglot is refused, not cleaned. An e-mail may carry an HTML
    # part or an attachment; its parts are checked one by one below instead.
    if message is None and _is_polyglot(data):
        raise _Refused(_dangerous_message())
    image = _image_target(data) if message is None else None
    if image is not None:
        content_type, extension = image
        return inspected(EvidenceKind.IMAGE, content_type, extension, ("jpeg",))
    if message is None and _pdf_check(data):
        return inspected(EvidenceKind.PDF, "application/pdf", "pdf")
    claimed = display_name.rsplit(".", 1)[-1].lower() if "." in display_name else ""
    # A damaged PDF, a fake photo or video must not slip through as "text" under its old name.
    if message is None and claimed == "eml":
        raise _Refused(_("Dit bestand is geen e-mail, ook al zegt de naam dat wel."))
    if message is None and claimed in CLAIMED_MEDIA:
        raise _Refused(str(MEDIA_UNREADABLE))
    if message is None and (data.startswith(b"%PDF-") or claimed in CLAIMED_PHOTO_OR_PDF):
        raise _Refused(_("Dit bestand is geen leesbare foto of PDF, ook al zegt de naam dat wel."))
    if message is not None:
        _email_check(message)
        return inspected(EvidenceKind.EMAIL, "message/rfc822", "eml")
    if _looks_dangerous(data):
        raise _Refused(_dangerous_message())
    if _is_text(data):
        return inspected(EvidenceKind.TEXT, "text/plain; charset=utf-8", "txt")
    raise _Refused(
        _(
            "Dit bestandstype wordt niet ondersteund. Gebruik een foto, schermafbeelding, "
            "PDF, e-mail (.eml), tekstbestand, geluidsopname of video."
        )
    )


def evidence_limits_for_browser(*, max_files: int) -> dict:
    """What the browser check needs (static/js/evidence-upload.js): the same limits and the
    same messages as the server, in the page's language."""
    return {
        "maxFiles": max_files,
        "tooMany": _("U kunt ten hoogste %(max)s bestanden toevoegen.") % {"max": max_files},
        "maxRequest": settings.EVIDENCE_MAX_REQUEST_BYTES,
        "tooMuch": _(
            "Deze bestanden zijn samen groter dan %(limit)s. Verstuur ze in delen: "
            "voeg de rest later toe bij de melding."
        )
        % {"limit": _megabytes(settings.EVIDENCE_MAX_REQUEST_BYTES)},
        "notSent": _(
            "Wat hierboven staat, is niet toegevoegd en wordt niet verstuurd. Kies een kleiner "
            "bestand, of voeg het later toe bij de melding."
        ),
        "kinds": [
            {
                "types": ["video/"],
                "extensions": ["mp4", "m4v", "mov", "qt"],
                "max": size_limit(EvidenceKind.VIDEO),
                "message": too_large_message(EvidenceKind.VIDEO),
            },
            {
                "types": ["audio/"],
                "extensions": ["m4a", "mp3", "ogg", "oga", "opus"],
                "max": size_limit(EvidenceKind.AUDIO),
                "message": too_large_message(EvidenceKind.AUDIO),
            },
        ],
        "other": {
            "max": size_limit(EvidenceKind.PDF),
            "message": too_large_message(EvidenceKind.PDF),
        },
    }
