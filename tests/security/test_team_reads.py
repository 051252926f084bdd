""" "Wie heeft ingezien": one line per team per day, however often and however many people.

`access_log_record` keeps the full access log (every read, for the administrator) and, for a
registrar's or support member's read, one `TeamReadDay` row per (reference, team, Dutch day),
written with one upsert under a unique constraint.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from portal.models import AccessLogEntry, TeamReadDay
from portal.services import team_read_record
from tests.factories import IncidentFactory, UserFactory
from tests.security.conftest import log_in


@pytest.mark.django_db
def test_reloads_and_colleagues_of_one_desk_make_one_row_per_day(client, world):
    """Two registrars of one desk opening the page four times: four log entries, one team row;
    the support team is a row of its own; the officeholder's own visits add no row."""
    incident = world.incidents["escalated"]
    registrar = world.users["registrar"]
    colleague = UserFactory(registrar=True, desk=registrar.desk)
    for user, times in ((registrar, 3), (colleague, 1)):
        log_in(client, user)
        for _ in range(times):
            assert client.get(reverse("desk:detail", args=[incident.reference])).status_code == 200
    log_in(client, world.users["support"])
    client.get(reverse("support:case", args=[incident.reference]))
    log_in(client, world.users["owner"])
    client.get(incident.get_absolute_url())

    assert AccessLogEntry.objects.filter(reference=incident.reference).count() == 6
    rows = {row.team: row for row in TeamReadDay.objects.filter(reference=incident.reference)}
    assert set(rows) == {f"desk:{registrar.desk_id}", "support"}
    desk_row = rows[f"desk:{registrar.desk_id}"]
    assert desk_row.times == 4
    assert desk_row.day == timezone.localdate()
    assert desk_row.first_at <= desk_row.last_at


@pytest.mark.django_db
def test_another_day_is_another_row(db):
    """The same team the next day is a new line."""
    incident = IncidentFactory()
    now = timezone.now()
    for at in (now, now + timedelta(minutes=1), now + timedelta(days=1)):
        team_read_record(
            reference=incident.reference,
            organisation_id=incident.organisation_id,
            team=f"desk:{incident.desk_id}",
            role="registrar",
            desk_id=incident.desk_id,
            at=at,
        )
    assert sorted(TeamReadDay.objects.values_list("times", flat=True)) == [1, 2]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_registrars_opening_at_the_same_moment_make_one_row():
    """Two transactions counting the same team and day at once: one row with both reads
    (neither fails on the unique constraint, and no read is lost)."""
    assert connection.vendor == "postgresql", "run under scripts/with-test-services.sh"
    incident = IncidentFactory()
    at = timezone.now()
    barrier = threading.Barrier(2)
    errors = []

    def read():
        from django.db import transaction

        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                team_read_record(
                    reference=incident.reference,
                    organisation_id=incident.organisation_id,
                    team=f"desk:{incident.desk_id}",
                    role="registrar",
                    desk_id=incident.desk_id,
                    at=at,
                )
        except Exception as error:  # the test inspects what each thread got
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert list(TeamReadDay.objects.values_list("times", flat=True)) == [2]
