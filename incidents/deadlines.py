"""Triage deadlines: 4 clock hours for serious reports, else 2 working days.

Working days skip weekends and Dutch public holidays, counted in the organisation's time zone
(so a report from Saba on a Friday evening is counted in Caribbean time).
"""

import zoneinfo
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

SERIOUS_TRIAGE_HOURS = 4
TRIAGE_WORKING_DAYS = 2


@lru_cache(maxsize=16)
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(moment: datetime, days: int) -> datetime:
    """Move `days` working days forward, keeping the local clock time."""
    result = moment
    for _ in range(days):
        result += timedelta(days=1)
        while not is_working_day(result.date()):
            result += timedelta(days=1)
    return result


def triage_due_at(*, submitted_at: datetime, serious: bool, time_zone: str) -> datetime:
    """When the desk must have triaged a report that arrived at `submitted_at` (aware)."""
    if serious:
        return submitted_at + timedelta(hours=SERIOUS_TRIAGE_HOURS)
    local = submitted_at.astimezone(zoneinfo.ZoneInfo(time_zone))
    naive_due = add_working_days(local.replace(tzinfo=None), TRIAGE_WORKING_DAYS)
    return naive_due.replace(tzinfo=zoneinfo.ZoneInfo(time_zone))
