"""The organisations register: a CSV in the CBS format, imported idempotently.

Matched on the code: a second import changes nothing and never makes a second organisation; a
herindeling ends an organisation and names its successor; old incidents keep the organisation
they were filed under, new ones go to the successor.
"""

from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents.constants import IncidentType
from incidents.errors import IncidentError
from incidents.services import incident_submit
from portal.constants import Province
from portal.csv_files import CsvFileError
from portal.models import Organisation
from portal.services import organisations_import
from tests.conftest import verified_login
from tests.factories import IncidentFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "organisations.csv"


def _csv(*lines: str) -> bytes:
    return ("code,name,type,province,ended_on,successor_code\n" + "\n".join(lines)).encode()


def _outcomes(results):
    return [(result.code, result.outcome) for result in results]


def test_the_example_file_imports_and_a_second_run_changes_nothing():
    """The shipped example creates every organisation; importing it again leaves all unchanged."""
    first = organisations_import(data=EXAMPLE.read_bytes())
    assert {result.outcome for result in first} == {"created"}
    assert Organisation.objects.count() == len(first)
    second = organisations_import(data=EXAMPLE.read_bytes())
    assert {result.outcome for result in second} == {"unchanged"}
    assert Organisation.objects.count() == len(first)
    ten_boer = Organisation.objects.get(code="GM0009")
    assert ten_boer.ended_on == date(2019, 1, 1)
    assert ten_boer.successor.code == "GM0014"
    saba = Organisation.objects.get(code="OL9003")
    assert (saba.province, saba.time_zone, saba.emergency_number) == (
        "",
        "America/Kralendijk",
        "911",
    )


def test_a_changed_row_updates_and_bad_rows_say_why_while_the_rest_is_imported():
    """Updates are matched on the code; each bad row names its problem and changes nothing."""
    OrganisationFactory(code="GM0344", name="Gemeente Utrecht (oud)", province="")
    results = organisations_import(
        data=_csv(
            "GM0344,Gemeente Utrecht,gemeente,Utrecht,,",
            "GM0001,,gemeente,Utrecht,,",
            "GM0002,Gemeente Twee,dorp,Utrecht,,",
            "GM0003,Gemeente Drie,gemeente,Atlantis,,",
            "GM0004,Gemeente Vier,gemeente,Fryslân,31-02-2026,",
            "GM0005,Gemeente Vijf,gemeente,Friesland,,GM0344",
            "gm0344,Gemeente Nog Eens,gemeente,Utrecht,,",
        )
    )
    assert _outcomes(results) == [
        ("GM0344", "updated"),
        ("GM0001", "error"),
        ("GM0002", "error"),
        ("GM0003", "error"),
        ("GM0004", "error"),
        ("GM0005", "error"),
        ("GM0344", "error"),
    ]
    assert "naam ontbreekt" in results[1].message
    assert "dorp" in results[2].message
    assert "Atlantis" in results[3].message
    assert "31-02-2026" in results[4].message
    assert "opvolger" in results[5].message
    assert "twee keer" in results[6].message
    utrecht = Organisation.objects.get(code="GM0344")
    assert (utrecht.name, utrecht.province) == ("Gemeente Utrecht", Province.UTRECHT)
    assert not Organisation.objects.filter(code__in=["GM0001", "GM0002", "GM0004"]).exists()


def test_a_herindeling_names_a_successor_that_comes_later_in_the_file():
    """A successor may be defined after the row that ends the old organisation."""
    results = organisations_import(
        data=_csv(
            "GM0010,Gemeente Oud,gemeente,Zeeland,2026-01-01,GM0011",
            "GM0011,Nieuw,gemeente,Zeeland,,",
        )
    )
    assert _outcomes(results) == [("GM0010", "created"), ("GM0011", "created")]
    assert Organisation.objects.get(code="GM0010").successor.code == "GM0011"
    unknown = organisations_import(data=_csv("GM0012,Weg,gemeente,Zeeland,2026-01-01,GM9999"))
    assert unknown[0].outcome == "error" and "GM9999" in unknown[0].message


def test_a_file_without_the_header_is_refused_with_the_header_it_needs():
    with pytest.raises(CsvFileError, match="code,name,type,province"):
        organisations_import(data=b"gemeentecode;naam\nGM0344;Utrecht\n")


def test_semicolons_and_a_byte_order_mark_read_like_commas():
    """A file saved by Excel reads the same."""
    data = "\ufeffcode;name;type;province\nGM0344;Gemeente Utrecht;Gemeente;utrecht\n".encode()
    assert _outcomes(organisations_import(data=data)) == [("GM0344", "created")]


def test_the_command_reports_each_row_and_fails_when_a_row_failed(tmp_path):
    """`import_organisations` prints one line per row and a summary; errors make it fail."""
    out = StringIO()
    call_command("import_organisations", str(EXAMPLE), stdout=out)
    assert "line 2 GM0344: created" in out.getvalue()
    assert "12 created, 0 updated, 0 unchanged, 0 error" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv("GM0344,Gemeente Utrecht,gemeente,Nergens,,"))
    with pytest.raises(CommandError, match="1 row"):
        call_command("import_organisations", str(bad), stdout=StringIO())


def _facts():
    return {
        "types": [IncidentType.VERBAL_AGGRESSION],
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": "Uitgescholden na de raad.",
    }


@pytest.mark.usefixtures("private_storage_in_tmp")
def test_after_a_herindeling_old_incidents_keep_their_organisation_and_new_ones_go_on():
    """An ended organisation gets no new incidents: they are filed under its successor; an
    organisation that ended without one refuses them with a clear message."""
    new = OrganisationFactory()
    old = OrganisationFactory(desk=new.desk)
    officeholder = UserFactory(organisation=old)
    earlier = IncidentFactory(officeholder=officeholder)
    Organisation.objects.filter(pk=old.pk).update(ended_on=timezone.localdate(), successor=new)
    officeholder.refresh_from_db()
    incident = incident_submit(officeholder=officeholder, facts=_facts(), quick=True)
    assert incident.organisation == new
    earlier.refresh_from_db()
    assert earlier.organisation == old
    Organisation.objects.filter(pk=old.pk).update(successor=None)
    officeholder.refresh_from_db()
    with pytest.raises(IncidentError, match="bestaat niet meer"):
        incident_submit(officeholder=officeholder, facts=_facts(), quick=True)


def test_the_administrator_imports_from_an_upload_in_the_admin(client):
    """The Organisation admin has an upload page that runs the same import."""
    admin = UserFactory(admin=True)
    verified_login(client, admin)
    page = client.get("/beheer/portal/organisation/")
    assert b"/beheer/portal/organisation/importeren/" in page.content
    with EXAMPLE.open("rb") as upload:
        response = client.post("/beheer/portal/organisation/importeren/", {"file": upload})
    assert response.status_code == 200
    assert "12 nieuw, 0 bijgewerkt, 0 ongewijzigd, 0 met een fout." in response.content.decode()
    assert Organisation.objects.filter(code="GM0014").exists()
