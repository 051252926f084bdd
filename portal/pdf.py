"""The one PDF module: a Django template as PDF bytes, made with WeasyPrint.

Used by the printable case file (desk and support) and meant for the police summary too. The
caller decides what goes in (a selector's output, like the page of that person); this module
only draws it:

- **No network.** WeasyPrint fetches what a document links to (stylesheets, images, fonts)
  through `static_only_fetcher`, which refuses every URL except the portal's own static files
  (`/static/...`), read from disk through the staticfiles finders or STATIC_ROOT. A `http`,
  `https`, `file` or `data` URL in a document, typed text included, is never opened.
- **A4, DejaVu.** The base stylesheet sets the page size, margins, page numbers and the DejaVu
  fonts (Debian's `fonts-dejavu-core`), so the output looks the same on every host.
- **Metadata.** The document's title is the PDF title, with the moment it was made; no author.
- **Nothing else changes.** Importing WeasyPrint sets Pillow's process-wide
  `ImageFile.LOAD_TRUNCATED_IMAGES`, which would let the evidence checks accept a cut-off
  photo in the same process; `_weasyprint` puts it back (`tests/portal/test_pdf.py`).
"""

import mimetypes
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

# The base every relative URL in a document resolves against; never fetched itself.
BASE_URL = "https://portal.pdf.invalid/"
_BASE = urlsplit(BASE_URL)

# Always applied first: page size, margins, fonts and page numbers.
BASE_STYLESHEET = "css/pdf.css"


class RefusedURL(ValueError):
    """A document asked for something outside the portal's static files."""


def _static_path(name: str) -> Path:
    """The file of a static name ("css/pdf.css") on disk, or RefusedURL."""
    name = name.lstrip("/")
    if not name or any(part in ("", ".", "..") for part in name.split("/")):
        raise RefusedURL(name)
    found = finders.find(name)
    if found:
        return Path(found)
    root = getattr(settings, "STATIC_ROOT", None)
    if root:
        candidate = (Path(root) / name).resolve()
        if candidate.is_file() and Path(root).resolve() in candidate.parents:
            return candidate
    raise RefusedURL(name)


def _weasyprint():
    """WeasyPrint, imported without leaving Pillow's LOAD_TRUNCATED_IMAGES switched on."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint
    import weasyprint.urls

    ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


def static_only_fetcher(url: str):
    """WeasyPrint's URL fetcher: the portal's static files from disk, every other URL refused."""
    URLFetcherResponse = _weasyprint().urls.URLFetcherResponse  # noqa: N806

    parts = urlsplit(url)
    static_prefix = urlsplit(settings.STATIC_URL).path
    if (parts.scheme, parts.netloc) != (_BASE.scheme, _BASE.netloc) or not parts.path.startswith(
        static_prefix
    ):
        raise RefusedURL(url)
    path = _static_path(unquote(parts.path[len(static_prefix) :]))
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})


def render_pdf(
    template_name: str,
    context: Mapping[str, Any],
    *,
    title: str,
    stylesheets: Iterable[str] = (),
    request=None,
) -> bytes:
    """`template_name` rendered with `context`, as the bytes of an A4 PDF titled `title`.

    `stylesheets` are static names applied after the base stylesheet. The HTML may link to
    static files (`{% static %}` or `/static/...`); nothing else is fetched.
    """
    weasyprint = _weasyprint()
    CSS, HTML = weasyprint.CSS, weasyprint.HTML  # noqa: N806

    html = render_to_string(template_name, {**context, "pdf_title": title}, request=request)
    sheets = [
        CSS(
            string=_static_path(name).read_text(encoding="utf-8"),
            base_url=BASE_URL,
            url_fetcher=static_only_fetcher,
        )
        for name in (BASE_STYLESHEET, *stylesheets)
    ]
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=static_only_fetcher).render(
        stylesheets=sheets
    )
    document.metadata.title = title
    document.metadata.authors = []
    document.metadata.generator = ""
    document.metadata.created = timezone.now().isoformat(timespec="seconds")
    return document.write_pdf()


def pdf_download(content: bytes, filename: str) -> HttpResponse:
    """A PDF as a download that no cache keeps (the case file, the police summary)."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
