"""After the elections: a coordinator uploads a CSV of officeholders.

Every row is checked before anything is created; nothing is created while a row has a
problem; on confirmation a background task creates or updates the accounts and invites the
new ones; the same file again updates and never duplicates.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal import services
from portal.models import ImportStatus, Invitation, OfficeholderImport, User
from tests.conftest import verified_login
from tests.factories import DeskFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "first_name,last_name,email,function,organisation_code,term_start,term_end\n"
EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "officeholders.csv"


@pytest.fixture
def desk():
    return DeskFactory()


@pytest.fixture
def coordinator(desk):
    OrganisationFactory(desk=desk, code="GM0193", name="Gemeente Zwolle")
    OrganisationFactory(desk=desk, code="PV23", name="Provincie Overijssel", type="provincie")
    OrganisationFactory(desk=desk, code="WS0664", name="Waterschap", type="waterschap")
    return UserFactory(registrar=True, desk=desk, is_coordinator=True)


def _problems(checked):
    return {row.line: " | ".join(row.problems) for row in checked if row.problems}


def test_every_kind_of_problem_is_found_per_row_and_nothing_is_stored(coordinator):
    OrganisationFactory(code="GM0344")  # another desk's
    OrganisationFactory(desk=coordinator.desk, code="GM0009", ended_on="2019-01-01")
    UserFactory(email="taken@example.org")  # an account of another desk
    data = (
        HEADER
        + "A,B,a@example.org,raadslid,GM0193,2026-03-30,2030-03-27\n"
        + "A,B,niet-een-adres,raadslid,GM0193,,\n"
        + "A,B,A@example.org,raadslid,GM0193,,\n"
        + "A,B,c@example.org,koning,GM0193,,\n"
        + "A,B,d@example.org,raadslid,GM9999,,\n"
        + "A,B,e@example.org,raadslid,GM0344,,\n"
        + "A,B,f@example.org,raadslid,GM0009,,\n"
        + "A,B,g@example.org,raadslid,GM0193,30 maart,2030-03-27\n"
        + "A,B,h@example.org,raadslid,GM0193,2030-03-27,2026-03-30\n"
        + "A,B,taken@example.org,raadslid,GM0193,,\n"
        + ",,i@example.org,raadslid,GM0193,,\n"
    ).encode()
    stored, checked = services.officeholder_import_prepare(
        actor=coordinator, data=data, file_name="raad.csv"
    )
    assert stored is None
    problems = _problems(checked)
    assert 2 not in problems
    assert "klopt niet" in problems[3]
    assert "ook op regel 2" in problems[4]
    assert "koning" in problems[5]
    assert "onbekende organisatiecode" in problems[6]
    assert "hoort niet bij uw meldpunt" in problems[7]
    assert "opgeheven" in problems[8]
    assert "geen datum" in problems[9]
    assert "voor het begin" in problems[10]
    assert "buiten uw meldpunt" in problems[11]
    assert "naam ontbreekt" in problems[12]
    assert not OfficeholderImport.objects.exists()
    assert not User.objects.filter(email="a@example.org").exists()


def test_a_valid_file_is_applied_in_the_background_and_again_updates(
    coordinator, committed, mailoutbox
):
    """Confirm: accounts and invitations; the same file again: updates, never duplicates."""
    data = EXAMPLE.read_bytes()
    stored, checked = services.officeholder_import_prepare(
        actor=coordinator, data=data, file_name="officeholders.csv"
    )
    assert stored.status == ImportStatus.PREVIEW and stored.total == 5
    assert not User.objects.filter(email="l.hendriks@zwolle.example").exists()
    with committed():
        assert services.officeholder_import_confirm(actor=coordinator, upload=stored)
    stored.refresh_from_db()
    assert (stored.status, stored.processed, stored.created_count, stored.invited_count) == (
        ImportStatus.DONE,
        5,
        5,
        5,
    )
    lotte = User.objects.get(email="l.hendriks@zwolle.example")
    assert (lotte.is_active, lotte.function, str(lotte.term_end)) == (
        False,
        "raadslid",
        "2030-03-27",
    )
    assert len(mailoutbox) == 5
    assert not services.officeholder_import_confirm(actor=coordinator, upload=stored)

    changed = data.replace(
        b"Fenna,Kok,f.kok@zwolle.example,wethouder", b"Fenna,Kok,f.kok@zwolle.example,raadslid"
    )
    again, checked = services.officeholder_import_prepare(
        actor=coordinator, data=changed, file_name="officeholders.csv"
    )
    assert {row.plan for row in checked} == {"update"}
    with committed():
        services.officeholder_import_confirm(actor=coordinator, upload=again)
    again.refresh_from_db()
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 4)
    assert User.objects.filter(email="f.kok@zwolle.example").get().function == "raadslid"
    assert User.objects.filter(email__endswith=".example").count() == 5
    assert Invitation.objects.count() == 5
    assert len(mailoutbox) == 5


def test_the_pages_preview_refuse_and_show_progress(client, coordinator, committed):
    verified_login(client, coordinator)
    bad = SimpleUploadedFile("raad.csv", (HEADER + "A,B,x,raadslid,GM0193,,\n").encode())
    page = client.post(reverse("manage:import"), {"file": bad})
    assert page.status_code == 200
    assert "Er is niets geïmporteerd" in page.content.decode()
    assert not OfficeholderImport.objects.exists()
    good = SimpleUploadedFile("raad.csv", EXAMPLE.read_bytes())
    response = client.post(reverse("manage:import"), {"file": good})
    upload = OfficeholderImport.objects.get()
    assert response["Location"] == reverse("manage:import_detail", args=[upload.pk])
    preview = client.get(response["Location"])
    assert "Import bevestigen" in preview.content.decode()
    assert "nieuw account en uitnodiging" in preview.content.decode()
    with committed():
        client.post(response["Location"])
    done = client.get(response["Location"]).content.decode()
    assert "De import is klaar." in done and "Nieuw: 5" in done
    other = UserFactory(registrar=True, desk=DeskFactory(), is_coordinator=True)
    verified_login(client, other)
    assert client.get(response["Location"]).status_code == 404
    assert client.post(response["Location"]).status_code == 404


def test_the_two_waterschap_functions_are_accepted_and_the_former_code_is_refused(coordinator):
    """Since the split, a waterschap member is algemeen or dagelijks bestuur (code or Dutch
    label); the former `waterschapsbestuurder` is refused with a message naming both codes."""
    data = (
        HEADER
        + "A,B,a@example.org,algemeen_bestuur_waterschap,WS0664,,\n"
        + "C,D,c@example.org,Lid dagelijks bestuur waterschap,WS0664,,\n"
        + "E,F,e@example.org,waterschapsbestuurder,WS0664,,\n"
    ).encode()

    checked = services.officeholder_rows_check(actor=coordinator, data=data)

    assert [row.values["function"] for row in checked[:2]] == [
        "algemeen_bestuur_waterschap",
        "dagelijks_bestuur_waterschap",
    ]
    problems = _problems(checked)
    assert set(problems) == {4}
    assert problems[4] == (
        "de functie waterschapsbestuurder bestaat niet meer: kies algemeen_bestuur_waterschap "
        "(lid algemeen bestuur) of dagelijks_bestuur_waterschap (lid dagelijks bestuur)"
    )
