"""The figures (incidents.statistics): exact on a fixture of known incidents, with the period
edges in Europe/Amsterdam and America/Kralendijk; suppression in the page, the files and
across every pair of views; who reads which figures.

Incidents are made with the factory and counted with `fact_counts.add` (what
`incident_submit` does in the same transaction), so their filing time can be any moment."""

import io
import itertools
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from incidents import fact_counts
from incidents.constants import (
    Channel,
    FactKind,
    Impact,
    IncidentType,
    ReporterSeverity,
    SupportWish,
)
from incidents.statistics import (
    BY_PROVINCE,
    HIDDEN,
    TOTAL,
    Period,
    PeriodKind,
    Tally,
    figures_for,
    organisation_names,
    scope_for,
    suppress,
    view_counts,
)
from portal.constants import Gender, OfficeholderFunction, OrganisationType, Province
from tests.conftest import verified_login
from tests.factories import DeskFactory, IncidentFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.services]

# 22:30 UTC on 31 March 2026 is already 1 April in Amsterdam (summer time, UTC+2) ...
AMSTERDAM_EDGE = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
# ... and 02:00 UTC on 1 April is still 31 March on Bonaire and Saba (UTC-4).
KRALENDIJK_EDGE = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
Q1 = Period(PeriodKind.QUARTER, 2026, 1)
Q2 = Period(PeriodKind.QUARTER, 2026, 2)


def file(person, *, at, **facts):
    """One counted incident of `person`, filed at `at`, with the snapshot taken as filing does."""
    defaults = {
        "types": [IncidentType.THREAT],
        "channel": Channel.EMAIL,
        "reporter_severity": ReporterSeverity.SERIOUS,
        "support_wish": SupportWish.REGISTRATION_ONLY,
    }
    defaults.update(facts)
    incident = IncidentFactory(
        officeholder=person,
        submitted_at=at,
        triage_due_at=at + timedelta(hours=4),
        officeholder_function=person.function,
        officeholder_gender=person.gender,
        organisation_type=person.organisation.type,
        facts_counted=True,
        **defaults,
    )
    fact_counts.add(incident, fact_counts.incident_facts(incident))
    return incident


@pytest.fixture
def world(db):
    """Desk IJsselland serves a gemeente in Overijssel (Amsterdam time); the Caribbean desk
    serves Saba (Kralendijk time)."""
    ijsselland = DeskFactory(name="Meldpunt IJsselland")
    zwolle = OrganisationFactory(
        name="Gemeente Zwolle", desk=ijsselland, province=Province.OVERIJSSEL
    )
    caribbean = DeskFactory(name="Meldpunt Caribisch Nederland")
    saba = OrganisationFactory(caribbean=True, name="Openbaar lichaam Saba", desk=caribbean)
    # Five raadsleden of Zwolle (three women), each one report just after midnight on
    # 1 April local time: second quarter.
    zwolle_people = [
        UserFactory(organisation=zwolle, gender=Gender.WOMAN if n < 3 else Gender.MAN)
        for n in range(5)
    ]
    for person in zwolle_people:
        file(person, at=AMSTERDAM_EDGE, channel=Channel.SOCIAL_MEDIA)
    # Ten eilandsraadsleden of Saba (seven women), each one report late on 31 March local
    # time: first quarter. Six came through social media, four by e-mail. All were triaged
    # after three hours (the deadline was four) and all name mental-health complaints.
    saba_people = [
        UserFactory(
            organisation=saba,
            function=OfficeholderFunction.EILANDSRAADSLID,
            gender=Gender.WOMAN if n < 7 else Gender.MAN,
        )
        for n in range(10)
    ]
    saba_incidents = []
    for n, person in enumerate(saba_people):
        incident = file(
            person,
            at=KRALENDIJK_EDGE,
            channel=Channel.SOCIAL_MEDIA if n < 6 else Channel.EMAIL,
            impacts=[Impact.MENTAL_HEALTH],
            triaged_at=KRALENDIJK_EDGE + timedelta(hours=3),
        )
        saba_incidents.append(incident)
    # A withdrawn report and a duplicate never count.
    file(saba_people[0], at=KRALENDIJK_EDGE, status="withdrawn")
    file(saba_people[1], at=KRALENDIJK_EDGE, duplicate_of=saba_incidents[0])
    return {
        "ijsselland": ijsselland,
        "caribbean": caribbean,
        "zwolle": zwolle,
        "saba": saba,
        "saba_incidents": saba_incidents,
    }


def national(user=None):
    return scope_for(user=user or UserFactory(analyst=True))


def test_the_figures_of_the_first_quarter_exactly(world):
    """Q1 2026 nationally holds Saba's ten reports (31 March in Kralendijk), not Zwolle's
    (1 April in Amsterdam); each figure is exactly what the incidents say, or hidden."""
    scope = national()
    figures = figures_for(Q1, scope, organisation_names=organisation_names(scope))
    assert figures.total == 10
    rows = {table.key: {row.label: row.shown for row in table.rows} for table in figures.tables}
    shares = {table.key: {row.label: row.share for row in table.rows} for table in figures.tables}
    assert rows["type"][str(IncidentType.THREAT.label)] == "10"
    assert rows["monitor_group"]["Bedreiging en intimidatie"] == "10"
    assert rows["function"][str(OfficeholderFunction.EILANDSRAADSLID.label)] == "10"
    assert rows["function"][str(OfficeholderFunction.RAADSLID.label)] == HIDDEN  # none in Q1
    assert rows["organisation_type"][str(OrganisationType.OPENBAAR_LICHAAM.label)] == "10"
    assert rows["impact"][str(Impact.MENTAL_HEALTH.label)] == "10"
    assert shares["impact"][str(Impact.MENTAL_HEALTH.label)] == 100
    assert rows["severity"][str(ReporterSeverity.SERIOUS.label)] == "10"
    assert rows["support_wish"][str(SupportWish.REGISTRATION_ONLY.label)] == "10"
    # Four by e-mail is hidden, and so is the only other channel (6), or 10 - 6 would say 4.
    assert rows["channel"][str(Channel.EMAIL.label)] == HIDDEN
    assert rows["channel"][str(Channel.SOCIAL_MEDIA.label)] == HIDDEN
    assert figures.online_share is None
    # Three men: hidden. Seven women: hidden too, as the only other value of the column
    # (10 - 3), and because the year holds three more women (Zwolle's, in April).
    assert rows["gender"][str(Gender.MAN.label)] == HIDDEN
    assert rows["gender"][str(Gender.WOMAN.label)] == HIDDEN
    assert figures.triage_median == "tussen 2 en 4 uur"
    assert figures.triage_on_time_share == 100
    assert figures.ack_median == HIDDEN  # nothing was escalated
    assert [count for _period, count in figures.trend] == [None] * 7 + [10]


def test_the_second_quarter_and_the_month_edges(world):
    """Zwolle's reports of 22:30 UTC on 31 March count in April; Saba's of 02:00 UTC on
    1 April count in March."""
    scope = national()
    shown, _view = view_counts(Q2, scope)
    assert shown[TOTAL] == 5
    assert shown[(FactKind.CHANNEL.value, Channel.SOCIAL_MEDIA.value)] == 5
    assert shown[(FactKind.FUNCTION.value, OfficeholderFunction.RAADSLID.value)] == 5
    assert shown[(BY_PROVINCE, Province.OVERIJSSEL.value)] == 5
    assert shown[(FactKind.GENDER.value, Gender.WOMAN.value)] is None  # three people
    march, _ = view_counts(Period(PeriodKind.MONTH, 2026, 3), scope)
    april, _ = view_counts(Period(PeriodKind.MONTH, 2026, 4), scope)
    assert (march[TOTAL], april[TOTAL]) == (10, 5)
    year, _ = view_counts(Period(PeriodKind.YEAR, 2026), scope)
    assert year[TOTAL] == 15


def test_the_police_figures_read_the_aangifte_track(world):
    """Aangifte share = (aangifte, filed) / incidents; VPT share = (aangifte, vpt_asked) /
    (aangifte, filed), as the aangifte track counts them (written here through the rollup)."""
    for incident in world["saba_incidents"][:5]:
        fact_counts.apply(
            {
                fact_counts.key_of(incident): Counter(
                    {
                        (FactKind.AANGIFTE.value, "filed"): 1,
                        (FactKind.AANGIFTE.value, "vpt_asked"): 1,
                    }
                )
            }
        )
    scope = national()
    police = figures_for(Q1, scope, organisation_names={}).table("police").rows
    assert [(row.shown, row.share) for row in police] == [("5", 50), ("5", 100)]


def test_a_desk_sees_only_its_own_organisations(world):
    """The IJsselland registrar's figures hold Zwolle only; Saba's reports are not in them."""
    registrar = UserFactory(registrar=True, desk=world["ijsselland"])
    scope = scope_for(user=registrar)
    assert scope.organisations == {world["zwolle"].pk}
    assert not scope.national
    assert view_counts(Q1, scope)[0].get(TOTAL) is None
    q2 = figures_for(Q2, scope, organisation_names=organisation_names(scope))
    assert q2.total == 5
    assert [(row.label, row.shown) for row in q2.table("organisation").rows] == [
        ("Gemeente Zwolle", "5")
    ]
    # Asking for another desk's organisation narrows nothing: the scope stays its own.
    assert scope_for(user=registrar, organisation=world["saba"].pk).organisation is None


def test_officeholders_and_administrators_read_no_figures(world):
    assert scope_for(user=UserFactory()) is None
    assert scope_for(user=UserFactory(admin=True)) is None


def test_suppress_hides_small_cells_their_differences_and_one_more_per_column():
    """The three rules of the one suppression function, on hand-made tallies."""
    view = Tally(
        counts=Counter({TOTAL: 30, ("channel", "a"): 20, ("channel", "b"): 6, ("channel", "c"): 4}),
        people=Counter({TOTAL: 30, ("channel", "a"): 3, ("channel", "b"): 6, ("channel", "c"): 4}),
    )
    shown = suppress(view)
    # a: twenty reports but three people; c: four reports. Two hidden: nothing more to hide.
    assert shown == {TOTAL: 30, ("channel", "a"): None, ("channel", "b"): 6, ("channel", "c"): None}
    one_hidden = Tally(
        counts=Counter({("channel", "a"): 20, ("channel", "b"): 6, ("channel", "c"): 4}),
        people=Counter({("channel", "a"): 20, ("channel", "b"): 6, ("channel", "c"): 4}),
    )
    assert suppress(one_hidden) == {
        ("channel", "a"): 20,
        ("channel", "b"): None,  # the next smallest
        ("channel", "c"): None,
    }
    larger = Tally(counts=Counter({("channel", "a"): 2}), people=Counter({("channel", "a"): 2}))
    assert suppress(one_hidden, differences=[larger])[("channel", "a")] is None


def _login(user):
    client = Client()
    verified_login(client, user)
    return client


def test_a_cell_of_four_never_appears_in_the_page_or_the_files(world):
    """Saba's four e-mails of Q1 read "<5" on the page, in the CSV and in the ODS."""
    client = _login(UserFactory(support=True))
    query = {"kind": "quarter", "year": 2026, "quarter": 1}
    page = client.get(reverse("statistics"), query)
    assert page.status_code == 200
    html = page.content.decode()
    email_row = html.split(f'<th scope="row">{Channel.EMAIL.label}</th>')[1].split("</tr>")[0]
    assert "&lt;5" in email_row and ">4<" not in email_row
    csv_text = client.get(reverse("statistics_csv"), query).content.decode("utf-8-sig")
    email_line = next(line for line in csv_text.splitlines() if line.startswith("Kanaal;E-mail"))
    assert email_line == "Kanaal;E-mail;<5;"
    ods = client.get(reverse("statistics_ods"), query)
    assert ods["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    with zipfile.ZipFile(io.BytesIO(ods.content)) as archive:
        assert archive.namelist()[0] == "mimetype"
        content = archive.read("content.xml").decode()
    assert "<text:p>E-mail</text:p></table:table-cell><table:table-cell " in content
    after_email = content.split("<text:p>E-mail</text:p>")[1].split("</table:table-row>")[0]
    assert "&lt;5" in after_email and 'office:value="4"' not in after_email


def test_the_page_has_charts_with_text_alternatives(world):
    """Every chart is an SVG with a title and a description, and a table with its numbers."""
    client = _login(UserFactory(analyst=True))
    html = client.get(reverse("statistics"), {"kind": "quarter", "year": 2026, "quarter": 1})
    html = html.content.decode()
    charts = html.count('<svg class="chart"')
    assert charts >= 10
    assert html.count("<title id=") == charts
    assert html.count("<desc id=") == charts
    assert 'role="img"' in html and "style=" not in html
    assert "Lijndiagram van het aantal meldingen per periode." in html
    assert "een enquête onder ambtsdragers" in html  # beside the Monitor, with the caveat


def test_only_whole_periods_can_be_chosen(world):
    client = _login(UserFactory(analyst=True))
    response = client.get(reverse("statistics"), {"kind": "quarter", "year": 2026})
    assert response.status_code == 200
    assert "Kies een kwartaal." in response.content.decode()
    response = client.get(reverse("statistics_csv"), {"kind": "dag", "year": 2026})
    assert response.status_code == 400


@pytest.mark.parametrize("audience", ["support", "analyst", "registrar"])
def test_each_staff_audience_opens_its_figures(world, audience):
    """Support and the analyst read national figures (per province), a desk its own
    organisations; an officeholder gets 404."""
    if audience == "registrar":
        user = UserFactory(registrar=True, desk=world["ijsselland"])
    else:
        user = UserFactory(**{audience: True})
    html = _login(user).get(reverse("statistics")).content.decode()
    assert ('id="province-heading"' in html) == (audience != "registrar")
    assert ("Gemeente Zwolle" in html) == (audience == "registrar")
    officeholder = Client()
    officeholder.force_login(UserFactory())
    assert officeholder.get(reverse("statistics")).status_code == 404


# --- No difference of two views gives a hidden cell away -------------------------------------


def test_no_difference_of_two_views_reveals_a_small_number(db):
    """Every pair of views an analyst can choose (each month, quarter and the year, all of
    the country or one province): where one view holds the other and both show a cell, the
    difference of the two numbers is 0 or about at least 5 reports and 5 people. The truth is
    taken from the fixture's own list, not from the rollup."""
    utrecht = OrganisationFactory(province=Province.UTRECHT)
    drenthe = OrganisationFactory(province=Province.DRENTHE, type=OrganisationType.WATERSCHAP)
    plan = [  # (organisation, month, people, channel)
        (utrecht, 1, 6, Channel.EMAIL),
        (utrecht, 2, 3, Channel.EMAIL),
        (utrecht, 5, 7, Channel.SOCIAL_MEDIA),
        (drenthe, 1, 2, Channel.EMAIL),
        (drenthe, 2, 5, Channel.PHONE),
        (drenthe, 7, 1, Channel.PHONE),
    ]
    truth = []  # (organisation id, month, person id, channel)
    for organisation, month, people, channel in plan:
        for _n in range(people):
            person = UserFactory(organisation=organisation)
            file(person, at=datetime(2026, month, 15, 10, tzinfo=UTC), channel=channel)
            truth.append((organisation.pk, month, person.pk, channel))
    scope_all = national()
    periods = (
        [Period(PeriodKind.MONTH, 2026, m) for m in range(1, 13)]
        + [Period(PeriodKind.QUARTER, 2026, q) for q in range(1, 5)]
        + [Period(PeriodKind.YEAR, 2026)]
    )
    provinces = ["", Province.UTRECHT.value, Province.DRENTHE.value]
    views = {}
    for period, province in itertools.product(periods, provinces):
        scope = scope_for(user=UserFactory(analyst=True), province=province)
        shown, _ = view_counts(period, scope)
        months = {m.month for m in period.months}
        organisations = scope.chosen()
        views[(period, province)] = (shown, months, organisations)
    cells = [TOTAL] + [(FactKind.CHANNEL.value, c) for c in Channel.values]

    def members(cell, months, organisations):
        return [
            (org, person)
            for org, month, person, channel in truth
            if month in months and org in organisations and (cell == TOTAL or channel == cell[1])
        ]

    checked = 0
    for (a_key, (a, a_months, a_orgs)), (b_key, (b, b_months, b_orgs)) in itertools.permutations(
        views.items(), 2
    ):
        if not (a_months <= b_months and a_orgs <= b_orgs):
            continue
        for cell in cells:
            if a.get(cell) is None or b.get(cell) is None:
                continue
            inner = set(members(cell, a_months, a_orgs))
            outer = set(members(cell, b_months, b_orgs))
            difference = outer - inner
            people = {person for _org, person in difference}
            assert not difference or (len(difference) >= 5 and len(people) >= 5), (
                f"{b_key} minus {a_key} gives {len(difference)} for {cell}"
            )
            checked += 1
    assert checked > 20  # the fixture leaves enough visible to compare
    assert scope_all.national


def test_the_api_answers_the_same_suppressed_figures(world):
    """The analyst's API answer: the four e-mails are null with "<5", the total is 10; an
    officeholder gets 404."""
    client = _login(UserFactory(analyst=True))
    response = client.get("/api/v1/statistics/", {"kind": "quarter", "year": 2026, "quarter": 1})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["period"], data["national"], data["total"]) == ("2026-Q1", True, 10)
    channel = next(table for table in data["tables"] if table["key"] == "channel")
    email = next(row for row in channel["rows"] if row["label"] == Channel.EMAIL.label)
    assert email == {"label": "E-mail", "count": None, "shown": "<5", "share": None}
    assert all(row["count"] != 4 for table in data["tables"] for row in table["rows"])
    wrong = client.get("/api/v1/statistics/", {"kind": "month", "year": 2026})
    assert wrong.status_code == 400
    officeholder = Client()
    officeholder.force_login(UserFactory())
    assert officeholder.get("/api/v1/statistics/").status_code == 404


def test_filing_takes_the_snapshot_and_counts_each_person_once(officeholder):
    """incident_submit stores function, gender and organisation type on the incident; two
    reports of one person are two incidents and one person, under tokens that differ per
    fact value (so rows of two facts cannot be joined into one person's facts)."""
    from django.db.models import Count

    from incidents.models import FactCount, FactPeopleCount
    from incidents.services import incident_submit

    officeholder.gender = Gender.WOMAN
    officeholder.save()
    facts = {
        "types": [IncidentType.THREAT],
        "occurred_on": datetime(2026, 1, 1).date(),
        "summary": "Bedreigd bij de auto.",
    }
    first = incident_submit(officeholder=officeholder, facts=facts, quick=False)
    incident_submit(officeholder=officeholder, facts=facts, quick=False)
    snapshot = (first.officeholder_function, first.officeholder_gender, first.organisation_type)
    assert snapshot == ("raadslid", "woman", "gemeente")
    total = FactCount.objects.filter(kind="incident").values_list("count", flat=True)
    assert list(total) == [2]
    people = FactPeopleCount.objects.filter(kind="incident").aggregate(n=Count("person"))
    assert people["n"] == 1
    tokens = set(FactPeopleCount.objects.values_list("person", flat=True))
    kinds = FactPeopleCount.objects.values("kind", "value").distinct().count()
    assert len(tokens) == kinds  # one token per fact value, none shared


def test_the_monitor_figures_are_seeded_once_and_shown_beside_the_portal(world):
    """The seed can run twice; the page shows the 2020 edition beside the portal's share."""
    import importlib

    from django.apps import apps

    from incidents.models import MonitorFigure

    seed = importlib.import_module("incidents.migrations.0024_monitor_figures_seed")
    seed.forwards(apps, None)
    assert MonitorFigure.objects.count() == len(seed.FIGURES)
    client = _login(UserFactory(analyst=True))
    html = client.get(reverse("statistics"), {"kind": "quarter", "year": 2026, "quarter": 1})
    html = html.content.decode()
    monitor = html.split('id="monitor-heading"')[1]
    row = monitor.split("Psychische klachten")[1].split("</tr>")[0]
    assert "8% (2020)" in row and "100%" in row  # all ten Saba reports name it
    assert "35% (2020)" in monitor and "geen vergelijkbaar cijfer" in monitor
