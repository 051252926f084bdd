from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def complete_source_catalogue(po: polib.POFile) -> int:
    """Give every empty or fuzzy entry its msgid as msgstr (plural forms too), not fuzzy.

    The source strings are written in Dutch, so the Dutch catalogue is complete by construction:
    its translation of every message is the message itself. A fuzzy entry holds msgmerge's guess
    taken from an older, similar message, which is never right for the source language, so it is
    replaced too. Entries with a translation that is not fuzzy keep it. Returns how many entries
    were filled.
    """
    filled = 0
    for entry in po:
        if entry.obsolete:
            continue
        fuzzy = "fuzzy" in entry.flags
        if entry.msgid_plural:
            forms = _plural_form_count(po)
            if not fuzzy and all(entry.msgstr_plural.get(index) for index in range(forms)):
                continue
            entry.msgstr_plural = {
                index: (entry.msgstr_plural.get(index) if not fuzzy else None)
                or (entry.msgid if index == 0 else entry.msgid_plural)
                for index in range(forms)
            }
        elif fuzzy or not entry.msgstr:
            entry.msgstr = entry.msgid
        else:
            continue
        if fuzzy:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        entry.previous_msgctxt = None
        filled += 1
    return filled


def _plural_form_count(po: polib.POFile) -> int:
    # Dutch has two forms ("nplurals=2; plural=(n != 1);"); read the header to be sure.
    header = po.metadata.get("Plural-Forms", "")
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "nplurals" and value.strip().isdigit():
            return int(value)
    return 2


def _settle_header(po: polib.POFile, *, locale: str) -> bool:
    # makemessages creates a new catalogue with a fuzzy placeholder header; msgfmt would skip it.
    changed = False
    if po.metadata_is_fuzzy:
        po.metadata_is_fuzzy = False
        changed = True
    if not po.metadata.get("Language"):
        po.metadata["Language"] = locale
        changed = True
    if po.metadata.get("Project-Id-Version", "PACKAGE VERSION") == "PACKAGE VERSION":
        po.metadata["Project-Id-Version"] = "Meldpunt Weerbaar Bestuur"
        changed = True
    return changed


class Command(BaseCommand):
    help = (
        "Complete the catalogues of the source language (Dutch): every empty or fuzzy entry "
        "gets its msgid as msgstr and is no longer fuzzy. `make messages` runs it after "
        "makemessages."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale",
            default=settings.LANGUAGE_CODE,
            help="The locale whose catalogues hold the source language (default: %(default)s).",
        )

    def handle(self, *args, locale, **options):
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob(f"{locale}/LC_MESSAGES/*.po")):
                po = polib.pofile(str(po_path))
                filled = complete_source_catalogue(po)
                header_changed = _settle_header(po, locale=locale)
                if filled or header_changed:
                    po.save()
                name = po_path.relative_to(settings.BASE_DIR)
                self.stdout.write(f"{name}: {filled} entries filled, {len(po)} in total")
