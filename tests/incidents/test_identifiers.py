"""Perpetrator identifiers are normalised so the same person is recognised across incidents."""

import pytest

from incidents.constants import IdentifierKind
from incidents.identifiers import (
    identifier_normalise,
    normalise_email,
    normalise_handle,
    normalise_phone,
)


@pytest.mark.parametrize(
    "value",
    [
        "@Jan_Boos",
        "jan_boos",
        "  @jan_boos  ",
        "https://x.com/Jan_Boos?s=20",
        "https://twitter.com/jan_boos/status/1790000000000000000",
        "twitter.com/jan_boos/",
        "www.x.com/Jan_Boos",
        "https://www.instagram.com/jan_boos/",
        "https://www.tiktok.com/@jan_boos",
        "https://www.tiktok.com/@Jan_Boos/video/7300000000000000000",
        "https://www.youtube.com/@jan_boos",
    ],
)
def test_handle_variants_normalise_to_one_name(value):
    """A handle typed with @, in capitals, or as a profile or post URL is the same handle."""
    assert normalise_handle(value) == "jan_boos"


@pytest.mark.parametrize(
    "value",
    [
        "https://www.facebook.com/profile.php?id=123",
        "facebook.com/profile.php?id=123&ref=bookmarks",
        "https://m.facebook.com/profile.php/?id=123",
    ],
)
def test_facebook_profile_without_name_normalises_to_its_number(value):
    """A Facebook profile.php URL has no name: the numeric id identifies the person."""
    assert normalise_handle(value) == "123"


def test_handle_keeps_dots_and_hyphens_and_drops_other_characters():
    """Dots, hyphens and underscores are part of a handle; spaces and emoji are not."""
    assert normalise_handle("@jan.boos-2 🙂") == "jan.boos-2"


def test_linkedin_profile_url_uses_the_name_after_in():
    """linkedin.com/in/<name> identifies <name>, not the word "in"."""
    assert normalise_handle("https://www.linkedin.com/in/Jan-Boos/") == "jan-boos"


@pytest.mark.parametrize(
    "value",
    ["https://x.com/", "https://www.instagram.com", "https://www.facebook.com/profile.php"],
)
def test_site_address_without_a_profile_names_nobody(value):
    """A bare site URL gives no handle, so unrelated incidents are never matched on it."""
    assert normalise_handle(value) == ""


@pytest.mark.parametrize(
    "value",
    ["Jan.Boos@Example.NL", "  jan.boos@example.nl\n", "JAN.BOOS@EXAMPLE.NL"],
)
def test_email_compares_without_case_and_whitespace(value):
    """E-mail addresses are lower-cased and trimmed."""
    assert normalise_email(value) == "jan.boos@example.nl"


@pytest.mark.parametrize(
    "value",
    [
        "+31 6 1234 5678",
        "+31612345678",
        "06-12345678",
        "06 12 34 56 78",
        "0031612345678",
        "0031 6 12345678",
        "+31 (0)6 12345678",
        "+31 (0)6-1234-5678",
    ],
)
def test_dutch_mobile_formats_normalise_to_international_form(value):
    """+31 6, 06, 0031 and +31 (0)6 notations of one number all become +31612345678."""
    assert normalise_phone(value) == "+31612345678"


@pytest.mark.parametrize("value", ["+599 416 1234", "00599 416 1234", "+599-416-1234"])
def test_caribbean_netherlands_number_keeps_its_own_country_code(value):
    """A BES number (+599) is not mistaken for a Dutch one."""
    assert normalise_phone(value) == "+5994161234"


def test_landline_with_area_code_normalises_to_international_form():
    """A Dutch landline with its area code (030 for Utrecht) gets +31 and loses the 0."""
    assert normalise_phone("030 - 123 45 67") == "+31301234567"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (IdentifierKind.HANDLE, "https://x.com/Jan_Boos", "jan_boos"),
        (IdentifierKind.EMAIL, " Jan@Example.nl ", "jan@example.nl"),
        (IdentifierKind.PHONE, "06-12345678", "+31612345678"),
        ("phone", "+31 6 1234 5678", "+31612345678"),
    ],
)
def test_identifier_normalise_dispatches_on_kind(kind, value, expected):
    """`identifier_normalise` picks the normaliser for the identifier's kind (code or enum)."""
    assert identifier_normalise(kind=kind, value=value) == expected


def test_identifier_normalise_refuses_an_unknown_kind():
    """An identifier kind outside the taxonomy is a programming error, not silently accepted."""
    with pytest.raises(ValueError):
        identifier_normalise(kind="postcode", value="1234 AB")
