"""The aangifte track (issue 20): its steps, their effect on the fact counts, the migration of
the old police facts, who may see and update it, and the guidance on the officeholder's pages.

The count values are the contract with the statistics (contract.md): one `aangifte` row per
step reached, named exactly so.
"""

import importlib
from collections import Counter
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import fact_counts
from incidents.aangifte import AangifteTrack, stage_from_tokens
from incidents.constants import EventKind, FactKind, IncidentType, Status
from incidents.errors import FactsInvalid, StaleVersion
from incidents.models import AangifteStepText, FactCount, Incident
from incidents.policies import incident_policy
from incidents.services import aangifte_update, incident_anonymise, incident_submit
from portal.errors import NotAllowed
from tests.conftest import verified_login
from tests.factories import IncidentFactory, UserFactory, act

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("escalation_rules_off")]

migration = importlib.import_module("incidents.migrations.0025_aangifte_track")


def _submit(officeholder, types=(IncidentType.THREAT,)) -> Incident:
    return incident_submit(
        officeholder=officeholder,
        facts={
            "types": list(types),
            "occurred_on": timezone.localdate() - timedelta(days=1),
            "summary": "Een dreigend bericht na de raadsvergadering.",
        },
        quick=True,
    )


def _update(incident, actor, **track) -> Incident:
    incident.refresh_from_db()
    return aangifte_update(
        incident=incident, actor=actor, track=AangifteTrack(**track), version=incident.version
    )


def _aangifte_counts() -> Counter:
    return +Counter(
        {
            row.value: row.count
            for row in FactCount.objects.filter(kind=FactKind.AANGIFTE)
            if row.count
        }
    )


# --- The track itself (pure) --------------------------------------------------------------------


def test_steps_imply_the_earlier_ones_and_are_named_as_the_contract_says():
    """An employer's aangifte is an aangifte, which means the police were contacted and the
    person wanted to report; a confirmed VPT code was asked for; the outcome is counted as
    outcome_<code>."""
    track = AangifteTrack(employer_filed=True, vpt_confirmed=True, outcome="sepot").normalised()
    assert track.steps() == [
        "wants_to_report",
        "police_contacted",
        "filed",
        "vpt_asked",
        "vpt_confirmed",
        "employer_filed",
        "outcome_sepot",
    ]
    assert AangifteTrack().normalised().steps() == []
    assert AangifteTrack(police_contacted_on=date(2026, 1, 5)).normalised().steps() == [
        "wants_to_report",
        "police_contacted",
    ]
    # An employer name without the step, or a note without an outcome, is not kept.
    assert AangifteTrack(employer="Gemeente", outcome_note="x").normalised().stored() == {}


def test_next_step_follows_the_guidance_order():
    assert AangifteTrack().next_step() == "wants_to_report"
    assert AangifteTrack(wants_to_report=True).next_step() == "police_contacted"
    filed = AangifteTrack(filed=True).normalised()
    assert filed.next_step() == "vpt_asked"
    assert AangifteTrack(filed=True, vpt_asked=True).normalised().next_step() == "domicilie"
    done = AangifteTrack(filed=True, vpt_asked=True, domicilie=True, outcome="conviction")
    assert done.normalised().next_step() == ""


def test_stored_track_reads_back_the_same():
    track = AangifteTrack(
        filed=True, filed_on=date(2026, 3, 2), report_number="PL0900-123", vpt_asked=True
    ).normalised()
    assert AangifteTrack.from_stored(track.stored()) == track
    assert track.stored()["filed_on"] == "2026-03-02"


# --- The service and the counts ----------------------------------------------------------------


def test_each_step_moves_the_counts_exactly_and_records_a_timeline_event(officeholder):
    """Every step reached is one `aangifte` count; taking a step back takes its count away; the
    timeline says "Aangifte: ..." and the officeholder sees it; the same track twice records
    nothing."""
    incident = _submit(officeholder)
    assert _aangifte_counts() == Counter()

    _update(incident, officeholder, wants_to_report=True)
    assert _aangifte_counts() == Counter({"wants_to_report": 1})

    incident = _update(
        incident,
        officeholder,
        filed=True,
        filed_on=timezone.localdate(),
        report_number="2026-PV-1",
        vpt_asked=True,
        domicilie=True,
    )
    assert _aangifte_counts() == Counter(
        {"wants_to_report": 1, "police_contacted": 1, "filed": 1, "vpt_asked": 1, "domicilie": 1}
    )
    event = incident.events.filter(kind=EventKind.AANGIFTE).latest("created_at")
    assert event.visible_to_officeholder
    assert event.payload["added"] == ["police_contacted", "filed", "vpt_asked", "domicilie"]
    assert "2026-PV-1" not in str(event.payload)

    _update(
        incident,
        officeholder,
        filed=True,
        vpt_asked=True,
        vpt_confirmed=True,
        employer_filed=True,
        employer="Gemeente Utrecht",
        outcome="prosecution",
    )
    assert _aangifte_counts() == Counter(
        {
            "wants_to_report": 1,
            "police_contacted": 1,
            "filed": 1,
            "vpt_asked": 1,
            "vpt_confirmed": 1,
            "employer_filed": 1,
            "outcome_prosecution": 1,
        }
    )
    events = incident.events.filter(kind=EventKind.AANGIFTE).count()
    incident.refresh_from_db()
    again = AangifteTrack.from_stored(incident.aangifte)
    aangifte_update(incident=incident, actor=officeholder, track=again, version=incident.version)
    assert incident.events.filter(kind=EventKind.AANGIFTE).count() == events
    # The statistics' shares read these rows: filed per incident, VPT asked per filed.
    assert _aangifte_counts()["filed"] == 1
    assert sum(FactCount.objects.filter(kind=FactKind.INCIDENT).values_list("count", flat=True))


def test_withdrawn_and_duplicate_incidents_are_not_counted(officeholder, registrar):
    """A withdrawn incident and one closed as a duplicate take their aangifte counts with them;
    the original keeps its own."""
    withdrawn = _submit(officeholder)
    _update(withdrawn, officeholder, filed=True, vpt_asked=True)
    original = _submit(officeholder)
    _update(original, officeholder, filed=True)
    duplicate = _submit(officeholder)
    _update(duplicate, registrar, filed=True, vpt_asked=True)
    assert _aangifte_counts()["filed"] == 3

    act(withdrawn, officeholder, "withdraw")
    act(duplicate, registrar, "mark_duplicate", original=original)
    assert _aangifte_counts() == Counter({"wants_to_report": 1, "police_contacted": 1, "filed": 1})
    # A withdrawn incident's track can no longer be updated (nor counted).
    with pytest.raises(NotAllowed):
        _update(withdrawn, officeholder, filed=True, outcome="other")


def test_counts_equal_what_the_tracks_say(officeholder, registrar):
    """After a mix of updates by the officeholder and the desk, the rollup equals the counts
    computed again from every incident's own track."""
    first, second = _submit(officeholder), _submit(officeholder)
    _update(first, officeholder, police_contacted=True)
    _update(second, registrar, employer_filed=True, employer="Provincie")
    _update(first, registrar, filed=True, outcome="sepot")
    _update(second, officeholder, wants_to_report=True)  # back to the first step
    expected = Counter()
    for incident in Incident.objects.select_related("organisation"):
        for (kind, value), n in fact_counts.incident_facts(incident).items():
            if kind == FactKind.AANGIFTE:
                expected[value] += n
    assert _aangifte_counts() == +expected
    assert expected["outcome_sepot"] == 1 and expected["employer_filed"] == 0


def test_refuses_a_stale_version_and_a_date_in_the_future(officeholder):
    incident = _submit(officeholder)
    with pytest.raises(StaleVersion):
        aangifte_update(
            incident=incident,
            actor=officeholder,
            track=AangifteTrack(filed=True),
            version=incident.version - 1,
        )
    with pytest.raises(FactsInvalid) as refused:
        _update(incident, officeholder, filed_on=timezone.localdate() + timedelta(days=2))
    assert "filed_on" in refused.value.fields
    assert _aangifte_counts() == Counter()


def test_anonymising_keeps_the_steps_and_removes_number_dates_and_names(officeholder):
    incident = _submit(officeholder)
    _update(
        incident,
        officeholder,
        filed=True,
        filed_on=timezone.localdate(),
        report_number="PV-99",
        employer_filed=True,
        employer="Gemeente",
        outcome="other",
        outcome_note="De politie belde terug.",
    )
    before = _aangifte_counts()
    incident_anonymise(incident=incident)
    incident.refresh_from_db()
    track = incident.aangifte_track
    assert (track.report_number, track.employer, track.outcome_note) == ("", "", "")
    assert track.filed_on is None
    assert track.steps() == ["wants_to_report", "police_contacted", "filed", "employer_filed",
                             "outcome_other"]  # fmt: skip
    assert _aangifte_counts() == before


def test_queue_stage_comes_from_the_tokens_alone(officeholder):
    incident = _submit(officeholder)
    assert stage_from_tokens(incident.aangifte_tokens) == ""
    _update(incident, officeholder, filed=True, vpt_asked=True)
    tokens = Incident.objects.values_list("aangifte_tokens", flat=True).get(pk=incident.pk)
    assert stage_from_tokens(tokens) == "filed"
    _update(incident, officeholder, filed=True, outcome="conviction")
    tokens = Incident.objects.values_list("aangifte_tokens", flat=True).get(pk=incident.pk)
    assert stage_from_tokens(tokens) == "outcome"


# --- The migration of the old police facts ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "steps"),
    [
        ("", []),
        ("not_reported", []),
        ("wants_advice", ["wants_to_report"]),
        ("police_notified", ["wants_to_report", "police_contacted"]),
        ("reported", ["wants_to_report", "police_contacted", "filed"]),
    ],
)
def test_migration_maps_each_police_status(status, steps):
    track = migration.police_facts_to_track(
        status=status, report_number="", used_work_address=False, vpt_requested=False, outcome=""
    )
    assert migration.track_steps(track) == steps
    # What the migration stores reads as the same steps in today's code.
    assert AangifteTrack.from_stored(track).normalised().steps() == steps


def test_migration_maps_number_address_vpt_and_outcome():
    """A report number means an aangifte was filed; the work address is domicilie; the VPT
    marking asked for is the VPT code asked for; a free-text outcome is outcome "other"."""
    track = migration.police_facts_to_track(
        status="police_notified",
        report_number="2026-77",
        used_work_address=True,
        vpt_requested=True,
        outcome="Verdachte aangehouden.",
    )
    loaded = AangifteTrack.from_stored(track)
    assert loaded.report_number == "2026-77"
    assert loaded.outcome_note == "Verdachte aangehouden."
    assert migration.track_steps(track) == [
        "wants_to_report",
        "police_contacted",
        "filed",
        "vpt_asked",
        "domicilie",
        "outcome_other",
    ]
    back = migration.track_to_police_facts(track)
    assert back == {
        "police_status": "reported",
        "police_report_number": "2026-77",
        "police_used_work_address": True,
        "police_vpt_requested": True,
        "police_outcome": "Verdachte aangehouden.",
    }


def test_step_texts_are_seeded_for_every_step_once_without_overwriting_edits():
    """The seed (migration 0019) makes one row per step; run again, it keeps an edited text.
    (Called directly: a transactional test elsewhere may have flushed the seeded rows.)"""
    from django.apps import apps

    from incidents.constants import AangifteStep

    AangifteStepText.objects.all().delete()
    migration.step_texts_seed(apps, None)
    texts = dict(AangifteStepText.objects.values_list("step", "text_nl"))
    assert set(texts) == set(AangifteStep.values)
    assert "VPT" in texts["vpt_asked"] and "huisadres" in texts["domicilie"]
    AangifteStepText.objects.filter(step="filed").update(text_nl="Bewerkt.")
    migration.step_texts_seed(apps, None)
    assert AangifteStepText.objects.count() == len(AangifteStep.values)
    assert AangifteStepText.objects.get(step="filed").text_nl == "Bewerkt."


# --- Who may see and update the track ------------------------------------------------------------


def _post_officeholder(client, incident, **data):
    return client.post(
        reverse("incidents:aangifte", kwargs={"reference": incident.reference}),
        {"aangifte-version": incident.version, **{f"aangifte-{k}": v for k, v in data.items()}},
    )


def _post_desk(client, incident, **data):
    return client.post(
        reverse("desk:aangifte", kwargs={"reference": incident.reference}),
        {"aangifte-version": incident.version, **{f"aangifte-{k}": v for k, v in data.items()}},
    )


def test_owner_and_own_desk_update_others_get_404(client, officeholder, registrar):
    incident = _submit(officeholder)
    other_officeholder = UserFactory(organisation=officeholder.organisation)
    other_registrar = UserFactory(registrar=True)

    client.force_login(other_officeholder)
    assert _post_officeholder(client, incident, filed="on").status_code == 404
    client.force_login(officeholder)
    response = _post_officeholder(client, incident, filed="on", vpt_asked="on")
    assert response.status_code == 302
    assert response.url.endswith("#aangifte")
    incident.refresh_from_db()
    assert incident.aangifte_track.vpt_asked

    client.logout()
    verified_login(client, other_registrar)
    assert _post_desk(client, incident, domicilie="on").status_code == 404
    client.logout()
    verified_login(client, registrar)
    assert _post_desk(client, incident, filed="on", domicilie="on").status_code == 302
    incident.refresh_from_db()
    assert incident.aangifte_track.domicilie and not incident.aangifte_track.vpt_asked
    assert _aangifte_counts()["domicilie"] == 1


def test_support_may_view_but_not_update(client, officeholder, support_user):
    """The team follows the track on the cases it holds; it never edits it (no desk page,
    no officeholder page, and the policy says no)."""
    incident = IncidentFactory(escalated=True, officeholder=officeholder)
    assert incident_policy.allows(support_user, "view_aangifte", incident)
    assert not incident_policy.allows(support_user, "update_aangifte", incident)
    with pytest.raises(NotAllowed):
        _update(incident, support_user, filed=True)
    verified_login(client, support_user)
    assert _post_desk(client, incident, filed="on").status_code == 404
    assert _post_officeholder(client, incident, filed="on").status_code == 404
    unrelated = IncidentFactory()
    assert not incident_policy.allows(support_user, "view_aangifte", unrelated)


def test_anonymised_or_withdrawn_track_cannot_be_updated(officeholder, registrar):
    incident = IncidentFactory(officeholder=officeholder, status=Status.WITHDRAWN)
    assert not incident_policy.allows(officeholder, "update_aangifte", incident)
    gone = IncidentFactory(officeholder=officeholder, anonymised_at=timezone.now())
    assert not incident_policy.allows(officeholder, "update_aangifte", gone)
    assert not incident_policy.allows(registrar, "update_aangifte", gone)


def test_invalid_form_comes_back_with_the_error_next_to_the_field(client, officeholder):
    incident = _submit(officeholder)
    client.force_login(officeholder)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = _post_officeholder(client, incident, filed="on", filed_on=future)
    assert response.status_code == 200
    assert "Deze datum ligt in de toekomst" in response.content.decode()
    assert _aangifte_counts() == Counter()


# --- Guidance on the officeholder's pages ---------------------------------------------------------


def test_threat_shows_the_next_aangifte_step_on_confirmation_and_incident_page(
    client, officeholder
):
    incident = _submit(officeholder)
    client.force_login(officeholder)
    for name in ("incidents:confirmation", "incidents:detail"):
        page = client.get(reverse(name, kwargs={"reference": incident.reference})).content
        text = page.decode()
        assert "Volgende stap bij de aangifte" in text
        assert "Wil aangifte doen" in text
        assert "285d" not in text
    _update(incident, officeholder, filed=True)
    text = client.get(incident.get_absolute_url()).content.decode()
    assert "VPT-code gevraagd" in text and "Stand: Aangifte gedaan" in text


def test_doxing_shows_what_to_collect_and_that_it_is_a_crime(client, officeholder):
    incident = _submit(officeholder, types=[IncidentType.DOXING])
    client.force_login(officeholder)
    text = client.get(
        reverse("incidents:confirmation", kwargs={"reference": incident.reference})
    ).content.decode()
    assert "Maak schermafbeeldingen" in text and "link" in text
    assert "285d" in text and "burgemeesters, wethouders" in text
    assert "Volgende stap bij de aangifte" not in text


def test_other_types_show_no_guidance_block(client, officeholder):
    incident = _submit(officeholder, types=[IncidentType.VERBAL_AGGRESSION])
    client.force_login(officeholder)
    text = client.get(incident.get_absolute_url()).content.decode()
    assert 'id="guidance-heading"' not in text
    # The track itself is always there.
    assert 'id="aangifte-heading"' in text


def test_desk_queue_shows_the_stage(client, officeholder, registrar):
    incident = _submit(officeholder)
    _update(incident, officeholder, filed=True, vpt_asked=True)
    verified_login(client, registrar)
    text = client.get(reverse("desk:queue")).content.decode()
    assert "Aangifte: Aangifte gedaan" in text
    detail = client.get(reverse("desk:detail", kwargs={"reference": incident.reference}))
    assert "volgende stap: Werkadres of adres advocaat gebruikt" in detail.content.decode()


def test_support_case_page_shows_the_track_without_a_form(client, officeholder, support_user):
    from tests.factories import case_open

    incident = IncidentFactory(escalated=True, officeholder=officeholder)
    incident.aangifte = AangifteTrack(filed=True, vpt_asked=True).normalised().stored()
    incident.save()
    case_open(incident.escalations.get())
    verified_login(client, support_user)
    text = client.get(
        reverse("support:case", kwargs={"reference": incident.reference})
    ).content.decode()
    assert "Stand: Aangifte gedaan." in text
    assert 'name="aangifte-version"' not in text


def test_step_texts_are_editable_and_a_missing_row_reads_the_default():
    """The administrator's text wins (English when the page is English and it is filled in);
    a step whose row was removed still says why it matters."""
    from django.utils import translation

    from incidents.selectors import aangifte_step_texts

    AangifteStepText.objects.filter(step="domicilie").update(
        text_nl="Eigen tekst van de beheerder.", text_en="Administrator's own text."
    )
    AangifteStepText.objects.filter(step="vpt_asked").delete()
    texts = aangifte_step_texts()
    assert texts["domicilie"] == "Eigen tekst van de beheerder."
    assert texts["vpt_asked"].startswith("Vraag zelf om de VPT-code")
    with translation.override("en"):
        assert aangifte_step_texts()["domicilie"] == "Administrator's own text."
