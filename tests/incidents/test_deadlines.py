"""Triage deadlines: 4 clock hours for serious reports, else 2 working days (local time)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.deadlines import is_working_day, triage_due_at

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
KRALENDIJK = ZoneInfo("America/Kralendijk")


def _due(local: datetime, *, serious: bool = False, time_zone: str = "Europe/Amsterdam"):
    # Submission times are stored in UTC; pass one in to show the conversion is done.
    return triage_due_at(submitted_at=local.astimezone(UTC), serious=serious, time_zone=time_zone)


def test_ordinary_weekday_submission_is_due_two_working_days_later():
    """Tuesday 10:00 → Thursday 10:00."""
    due = _due(datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM))
    assert due == datetime(2026, 3, 12, 10, 0, tzinfo=AMSTERDAM)


def test_friday_afternoon_submission_is_due_on_tuesday_at_the_same_time():
    """Friday 15:30 skips Saturday and Sunday: Monday is day one, Tuesday 15:30 day two."""
    due = _due(datetime(2026, 3, 13, 15, 30, tzinfo=AMSTERDAM))
    assert due.astimezone(AMSTERDAM) == datetime(2026, 3, 17, 15, 30, tzinfo=AMSTERDAM)
    assert due.astimezone(AMSTERDAM).strftime("%A") == "Tuesday"


@pytest.mark.parametrize(
    "submitted", [datetime(2026, 3, 14, 11, 0), datetime(2026, 3, 15, 11, 0)], ids=["sat", "sun"]
)
def test_weekend_submission_is_due_on_tuesday(submitted):
    """A report on Saturday or Sunday counts Monday and Tuesday: due Tuesday, same clock time."""
    due = _due(submitted.replace(tzinfo=AMSTERDAM))
    assert due == datetime(2026, 3, 17, 11, 0, tzinfo=AMSTERDAM)


def test_kingsday_on_a_monday_is_skipped():
    """Koningsdag (Monday 27 April 2026) is no working day: Friday 24 April → Wednesday 29."""
    assert not is_working_day(date(2026, 4, 27))
    due = _due(datetime(2026, 4, 24, 9, 15, tzinfo=AMSTERDAM))
    assert due == datetime(2026, 4, 29, 9, 15, tzinfo=AMSTERDAM)


def test_christmas_holidays_and_weekend_are_skipped_together():
    """Thursday 24 Dec 2026: Christmas (Fri), weekend and Tweede Kerstdag do not count."""
    # 25 Dec 2026 is a Friday, 26 Dec (Tweede Kerstdag) a Saturday: Monday 28 is day one.
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 26))
    due = _due(datetime(2026, 12, 24, 16, 0, tzinfo=AMSTERDAM))
    assert due == datetime(2026, 12, 29, 16, 0, tzinfo=AMSTERDAM)


def test_tweede_kerstdag_on_a_weekday_is_skipped():
    """In 2025 both Christmas days are weekdays: Wednesday 24 Dec → Tuesday 30 Dec."""
    # Thu 25 and Fri 26 are holidays, then the weekend: Monday 29 is day one.
    assert not is_working_day(date(2025, 12, 26))
    due = _due(datetime(2025, 12, 24, 12, 0, tzinfo=AMSTERDAM))
    assert due == datetime(2025, 12, 30, 12, 0, tzinfo=AMSTERDAM)


def test_serious_report_is_due_four_clock_hours_later():
    """Serious reports count clock hours, not working days."""
    submitted = datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM)
    assert _due(submitted, serious=True) == submitted + timedelta(hours=4)


def test_serious_report_on_friday_evening_is_due_that_night_not_after_the_weekend():
    """Friday 22:00 serious → Saturday 02:00: the 4 hours run through the weekend."""
    due = _due(datetime(2026, 3, 13, 22, 0, tzinfo=AMSTERDAM), serious=True)
    assert due == datetime(2026, 3, 14, 2, 0, tzinfo=AMSTERDAM)


def test_serious_report_over_the_dst_change_counts_real_hours():
    """Saturday 28 March 2026 23:30 CET + 4 real hours = Sunday 04:30 CEST (clocks jump at 2)."""
    due = _due(datetime(2026, 3, 28, 23, 30, tzinfo=AMSTERDAM), serious=True)
    assert due - datetime(2026, 3, 28, 22, 30, tzinfo=UTC) == timedelta(hours=4)
    assert due.astimezone(AMSTERDAM).replace(tzinfo=None) == datetime(2026, 3, 29, 4, 30)


def test_caribbean_organisation_counts_in_its_own_local_time():
    """Friday 20:00 on Bonaire is Saturday 01:00 in Amsterdam; Bonaire's Friday counts.

    Counted in Bonaire time the deadline is Tuesday 20:00 there; counted in Amsterdam time
    (wrongly) it would be Tuesday 01:00 Amsterdam, which is Monday 20:00 on Bonaire.
    """
    submitted = datetime(2026, 3, 13, 20, 0, tzinfo=KRALENDIJK)
    due = _due(submitted, time_zone="America/Kralendijk")
    assert due == datetime(2026, 3, 17, 20, 0, tzinfo=KRALENDIJK)
    amsterdam_count = _due(submitted, time_zone="Europe/Amsterdam")
    assert due - amsterdam_count == timedelta(days=1)


def test_deadline_over_the_dst_change_keeps_the_local_clock_time():
    """Friday 27 March 14:00 CET → Tuesday 31 March 14:00 CEST: 14:00 on the clock both times."""
    due = _due(datetime(2026, 3, 27, 14, 0, tzinfo=AMSTERDAM))
    local = due.astimezone(AMSTERDAM)
    assert (local.date(), local.hour, local.minute) == (date(2026, 3, 31), 14, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_deadline_over_the_autumn_dst_change_keeps_the_local_clock_time():
    """Friday 23 Oct 2026 09:00 CEST → Tuesday 27 Oct 09:00 CET (08:00 UTC)."""
    due = _due(datetime(2026, 10, 23, 9, 0, tzinfo=AMSTERDAM))
    assert due.astimezone(UTC) == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)


def test_late_evening_submission_is_counted_on_the_local_date():
    """Friday 23:30 in Amsterdam is 22:30 UTC: still Friday locally, so due Tuesday 23:30."""
    due = _due(datetime(2026, 3, 13, 23, 30, tzinfo=AMSTERDAM))
    assert due == datetime(2026, 3, 17, 23, 30, tzinfo=AMSTERDAM)


def test_deadline_is_an_aware_datetime():
    """The deadline is stored in a DateTimeField with USE_TZ: it must carry its time zone."""
    due = _due(datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM))
    assert due.tzinfo is not None and due.utcoffset() is not None
