"""The installable portal: the web app manifest and the service worker's list of files.

The service worker (templates/portal/serviceworker.js) keeps only static files and the
offline page, which it fetches without cookies: nothing personal is ever in its cache. The
manifest's share target posts a shared screenshot or voice message to the incidents app
(`incidents:share`), which keeps it for the quick report.
"""

import hashlib

from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

THEME_COLOR = "#154273"

# Files every page needs; the service worker stores them at installation, so the offline
# page (and a page on a bad connection) still has its styles.
PRECACHED_STATIC = [
    "vendor/bootstrap/bootstrap.min.css",
    "css/portal.css",
    "css/print.css",
    "img/favicon.svg",
    "img/icons/icon-192.png",
    "js/portal.js",
    "js/pwa.js",
]
# What can be shared to the portal: screenshots and photos, voice messages.
SHARE_ACCEPT = [
    "image/*",
    "audio/*",
    ".png",
    ".jpg",
    ".jpeg",
    ".webp",
    ".m4a",
    ".mp3",
    ".ogg",
    ".opus",
]
SHARE_FILE_FIELD = "bestand"


def web_app_manifest() -> dict:
    """The manifest (https://www.w3.org/TR/appmanifest/), with hashed static URLs."""
    return {
        "id": "/",
        "name": "Meldpunt Weerbaar Bestuur",
        "short_name": "Meldpunt",
        "description": _("Meld agressie en intimidatie tegen politieke ambtsdragers."),
        "lang": "nl",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static("img/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "share_target": {
            "action": reverse("incidents:share"),
            "method": "POST",
            "enctype": "multipart/form-data",
            "params": {
                "title": "title",
                "text": "text",
                "url": "url",
                "files": [{"name": SHARE_FILE_FIELD, "accept": SHARE_ACCEPT}],
            },
        },
    }


def precached_urls() -> list[str]:
    return [static(path) for path in PRECACHED_STATIC]


def service_worker_version(urls: list[str]) -> str:
    """Changes whenever a precached file changes (hashed names with DEBUG off)."""
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()[:16]
