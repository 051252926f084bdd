"""The desk page's deadline in words (`incidents.selectors.deadline_in_words`)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from incidents.selectors import deadline_in_words

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (timedelta(hours=3, minutes=20), "nog 3 uur"),
        (timedelta(hours=47), "nog 47 uur"),
        (timedelta(days=2, hours=5), "nog 2 dagen"),
        (-timedelta(hours=1, minutes=5), "1 uur te laat"),
        (-timedelta(days=2, hours=1), "2 dagen te laat"),
        (-timedelta(days=1, hours=1), "25 uur te laat"),
    ],
)
def test_deadline_in_words_hours_then_days(offset, words):
    """Whole hours below two days, whole days after; past the deadline says "te laat"."""
    with translation.override("nl"):
        assert deadline_in_words(NOW + offset, now=NOW) == words


def test_deadline_in_words_in_english():
    with translation.override("en"):
        assert deadline_in_words(NOW - timedelta(days=3), now=NOW) == "3 days late"
