"""The message catalogues: complete, faithful to their placeholders, and up to date with the code.

Dutch is the source language (every msgid is Dutch), so `locale/nl` is complete by construction
(`manage.py complete_source_catalogue`, run by `make messages`); `locale/en` is translated by hand.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from portal.management.commands.complete_source_catalogue import complete_source_catalogue

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["nl", "en"]

# %(name)s and %s style (python-format; `{{ name }}` in a blocktranslate becomes %(name)s),
# {name} (python-brace-format) and any template variable left as {{ ... }}. "%%" is a literal.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{\{.*?\}\}|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*")


def catalogue_paths() -> list[Path]:
    """Every catalogue of every language (only django.po today; djangojs.po if JS gets text)."""
    return [
        path for language in LANGUAGES for path in sorted(LOCALE_DIR.glob(f"{language}/*/*.po"))
    ]


def msgstr_pairs(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: one for a plain entry, one per plural form otherwise."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    return [
        (entry.msgid if index == 0 else entry.msgid_plural, text)
        for index, text in sorted(entry.msgstr_plural.items())
    ]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogues_exist(language):
    """Both languages have a django.po catalogue."""
    assert (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").is_file()


@pytest.mark.parametrize(
    "path", catalogue_paths(), ids=lambda path: f"{path.parent.parent.name}/{path.name}"
)
def test_no_empty_or_fuzzy_entry(path):
    """Every entry of the nl and en catalogues has a translation that is not marked fuzzy."""
    po = polib.pofile(str(path))
    assert not po.metadata_is_fuzzy, f"{path}: the header is marked fuzzy"
    empty = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not empty, f"{path}: {len(empty)} entries without a translation: {empty}"
    assert not fuzzy, f"{path}: {len(fuzzy)} fuzzy entries: {fuzzy}"


@pytest.mark.parametrize(
    "path", catalogue_paths(), ids=lambda path: f"{path.parent.parent.name}/{path.name}"
)
def test_translations_keep_placeholders_and_markup(path):
    """Each msgstr has exactly the placeholders and HTML tags of its msgid.

    A lost %(reference)s shows the wrong text; a misspelt one raises KeyError at runtime; an
    unbalanced tag breaks the page.
    """
    problems = []
    for entry in polib.pofile(str(path)):
        for source, translation in msgstr_pairs(entry):
            if placeholders(source) != placeholders(translation):
                problems.append(f"placeholders: {source!r} -> {translation!r}")
            if sorted(TAG.findall(source)) != sorted(TAG.findall(translation)):
                problems.append(f"HTML tags: {source!r} -> {translation!r}")
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_nl_and_en_hold_the_same_messages():
    """The two catalogues list the same messages, so neither language lags behind the other."""
    nl, en = (
        {
            entry.msgid
            for entry in polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
        }
        for language in LANGUAGES
    )
    assert sorted(nl - en) == [], "in nl only: run `make messages` and translate them in en"
    assert sorted(en - nl) == [], "in en only: run `make messages`"


def test_complete_source_catalogue_fills_empty_and_fuzzy_entries():
    """The source-language catalogue gets msgstr = msgid for empty and fuzzy entries only."""
    po = polib.POFile()
    po.metadata = {"Plural-Forms": "nplurals=2; plural=(n != 1);"}
    po.append(polib.POEntry(msgid="Nieuw", msgstr=""))
    po.append(polib.POEntry(msgid="Wat", msgstr="Waar", flags=["fuzzy", "python-format"]))
    po.append(polib.POEntry(msgid="Klaar", msgstr="Gereed"))
    po.append(
        polib.POEntry(
            msgid="%(n)s dossier", msgid_plural="%(n)s dossiers", msgstr_plural={0: "", 1: ""}
        )
    )

    assert complete_source_catalogue(po) == 3

    assert [entry.msgstr for entry in po][:3] == ["Nieuw", "Wat", "Gereed"]
    assert po[1].flags == ["python-format"]
    assert po[3].msgstr_plural == {0: "%(n)s dossier", 1: "%(n)s dossiers"}
    assert complete_source_catalogue(po) == 0


def test_catalogues_are_up_to_date_with_the_code(tmp_path):
    """Every translatable string in the code and templates is in the committed catalogues.

    How: copy the project's sources and its `locale/` to a temporary directory and run the real
    `makemessages` there (the same extraction as `make messages`, with gettext), so the
    committed files are never touched. The settings module of the copy puts LOCALE_PATHS inside
    the copy. Any msgid that the fresh extraction finds but the committed `en` catalogue lacks
    means someone added text without running `make messages` and translating it. Strings that
    are no longer used are harmless and not reported.
    """
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is missing: apt-get install gettext (.ci/run installs it).")
    copy = tmp_path / "project"
    shutil.copytree(settings.BASE_DIR, copy, ignore=ignore_non_sources, symlinks=True)
    committed = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
    committed_before = committed.read_bytes()

    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale", "en", "--no-obsolete"],
        cwd=copy,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PYTHONPATH": str(copy),
            "VAR_DIR": str(tmp_path / "var"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert committed.read_bytes() == committed_before, "makemessages wrote to the real catalogue"
    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    known = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(committed))}
    new = sorted(entry.msgid for entry in fresh if (entry.msgctxt, entry.msgid) not in known)
    assert new == [], (
        f"{len(new)} strings are not in the catalogues; run `make messages` and translate them "
        f"in locale/en/LC_MESSAGES/django.po: {new}"
    )


IGNORED_NAMES = {
    ".git",
    ".venv",
    "var",
    "node_modules",
    "tests",
    "build",
    "test-results",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "staticfiles",
}


def ignore_non_sources(directory: str, names: list[str]) -> set[str]:
    """What `make messages` ignores, plus what holds no source text (caches, builds, .mo files)."""
    ignored = {
        name for name in names if name in IGNORED_NAMES or name.endswith((".egg-info", ".mo"))
    }
    if Path(directory).name == "static":
        ignored.add("vendor")
    return ignored
