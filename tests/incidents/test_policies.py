"""Scoping through the incident policies: who sees which incidents, messages and events, and
who may take which step; out of scope answers 404."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from incidents.constants import EventKind, MessageAudience, Status
from incidents.evidence import evidence_inspect
from incidents.policies import event_policy, evidence_policy, incident_policy, message_policy
from incidents.selectors import evidence_get_for
from incidents.services import evidence_add, incident_act, message_send, note_add
from tests.factories import (
    DeskFactory,
    EscalationFactory,
    EventFactory,
    IncidentFactory,
    MessageFactory,
    NoteFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("private_storage_in_tmp"),
]


@pytest.fixture
def utrecht():
    """meldpunt.utrecht serves only the gemeente Utrecht."""
    desk = DeskFactory(name="Meldpunt Utrecht")
    return OrganisationFactory(name="Gemeente Utrecht", desk=desk)


@pytest.fixture
def zwolle():
    """Zwolle has its own desk."""
    desk = DeskFactory(name="Meldpunt Zwolle")
    return OrganisationFactory(name="Gemeente Zwolle", desk=desk)


def _incident_in(organisation, **kwargs):
    return IncidentFactory(officeholder__organisation=organisation, **kwargs)


def _refs(queryset):
    return set(queryset.values_list("reference", flat=True))


def incidents_visible_to(user):
    return incident_policy.queryset(user, "view")


def incident_get_for(user, *, reference, queryset=None):
    return incident_policy.get(user, "view", queryset=queryset, reference=reference)


def messages_visible_to(user, *, incident):
    return message_policy.queryset(user, "view").filter(incident=incident)


def events_visible_to(user, *, incident):
    return event_policy.queryset(user, "view").filter(incident=incident)


# --- incident_policy.queryset ----------------------------------------------------------------


def test_officeholder_sees_only_own_incidents(utrecht):
    """Two officeholders of one organisation never see each other's incidents."""
    mine = _incident_in(utrecht)
    _incident_in(utrecht)
    assert _refs(incidents_visible_to(mine.officeholder)) == {mine.reference}


def test_officeholder_keeps_seeing_incidents_filed_for_them_by_the_desk(utrecht):
    """An incident filed by a registrar on the officeholder's behalf is in their own list."""
    officeholder = UserFactory(organisation=utrecht)
    registrar = UserFactory(registrar=True, desk=utrecht.desk)
    incident = IncidentFactory(officeholder=officeholder, filed_by=registrar, filed_by_desk=True)
    assert _refs(incidents_visible_to(officeholder)) == {incident.reference}


def test_registrar_sees_only_incidents_of_their_desk(utrecht, zwolle):
    """meldpunt.utrecht sees Utrecht's incidents and none of Zwolle's, whatever their status."""
    utrecht_incidents = {
        _incident_in(utrecht).reference,
        _incident_in(utrecht, closed=True).reference,
        _incident_in(utrecht, escalated=True).reference,
    }
    _incident_in(zwolle)
    _incident_in(zwolle, escalated=True)
    registrar = UserFactory(registrar=True, desk=utrecht.desk)
    assert _refs(incidents_visible_to(registrar)) == utrecht_incidents


def test_regional_desk_sees_all_organisations_it_serves():
    """A regional desk serving a gemeente, a provincie and a waterschap sees all three."""
    regional = DeskFactory(name="Regionaal meldpunt IJsselland")
    served = [
        OrganisationFactory(name="Gemeente Deventer", desk=regional),
        OrganisationFactory(name="Provincie Overijssel", type="provincie", desk=regional),
        OrganisationFactory(
            name="Waterschap Drents Overijsselse Delta", type="waterschap", desk=regional
        ),
    ]
    expected = {_incident_in(organisation).reference for organisation in served}
    _incident_in(OrganisationFactory())
    registrar = UserFactory(registrar=True, desk=regional)
    assert _refs(incidents_visible_to(registrar)) == expected


def test_support_sees_only_incidents_that_were_ever_escalated(utrecht, zwolle, support_user):
    """The Ondersteuningsteam sees escalated incidents of every desk, also after a return."""
    escalated = _incident_in(utrecht, escalated=True)
    elsewhere = _incident_in(zwolle, escalated=True)
    returned = _incident_in(zwolle, escalated=True)
    incident_act(
        action="return_to_desk",
        incident=returned,
        actor=support_user,
        reason="Terug naar het meldpunt",
        version=None,
    )
    _incident_in(utrecht)
    _incident_in(utrecht, in_triage=True)
    _incident_in(zwolle, closed=True)
    assert _refs(incidents_visible_to(support_user)) == {
        escalated.reference,
        elsewhere.reference,
        returned.reference,
    }


def test_admin_sees_no_incidents(utrecht, admin_user):
    """The functional administrator manages the portal but reads no incidents."""
    _incident_in(utrecht)
    _incident_in(utrecht, escalated=True)
    assert not incidents_visible_to(admin_user).exists()


def test_inactive_and_anonymous_users_see_nothing(utrecht):
    """A deactivated account or an anonymous visitor sees no incident at all."""
    incident = _incident_in(utrecht)
    incident.officeholder.is_active = False
    incident.officeholder.save()
    assert not incidents_visible_to(incident.officeholder).exists()
    assert not incidents_visible_to(AnonymousUser()).exists()


# --- incident_policy.get and evidence -------------------------------------------------------


def test_incident_get_for_returns_an_incident_in_scope(utrecht):
    """Fetching and checking happen in one call."""
    incident = _incident_in(utrecht)
    assert incident_get_for(incident.officeholder, reference=incident.reference) == incident


@pytest.mark.parametrize(
    "who", ["other_officeholder", "other_registrar", "support_user", "admin_user"]
)
def test_incident_get_for_answers_404_for_a_real_reference_out_of_scope(
    who, request, utrecht, zwolle
):
    """Out of scope looks exactly like missing: Http404, also for an existing reference."""
    incident = _incident_in(utrecht)
    user = {
        "other_officeholder": lambda: UserFactory(organisation=utrecht),
        "other_registrar": lambda: UserFactory(registrar=True, desk=zwolle.desk),
        "support_user": lambda: request.getfixturevalue("support_user"),
        "admin_user": lambda: request.getfixturevalue("admin_user"),
    }[who]()
    with pytest.raises(Http404):
        incident_get_for(user, reference=incident.reference)
    with pytest.raises(Http404):
        incident_get_for(user, reference="MWB-2026-999999")


def test_incident_get_for_narrows_but_never_widens_a_given_queryset(utrecht, zwolle):
    """A caller's queryset is combined with the scope, so it cannot reach further."""
    from incidents.models import Incident

    theirs = _incident_in(zwolle)
    registrar = UserFactory(registrar=True, desk=utrecht.desk)
    with pytest.raises(Http404):
        incident_get_for(registrar, reference=theirs.reference, queryset=Incident.objects.all())
    mine = _incident_in(utrecht, closed=True)
    open_only = Incident.objects.exclude(status=Status.CLOSED)
    with pytest.raises(Http404):
        incident_get_for(registrar, reference=mine.reference, queryset=open_only)


def test_evidence_of_another_incident_answers_404(utrecht):
    """Evidence is reached only through its own incident: a foreign id answers 404."""
    own = _incident_in(utrecht)
    other = _incident_in(utrecht)
    inspected = evidence_inspect(name="a.txt", data=b"bewijs")
    [own_file] = evidence_add(incident=own, actor=own.officeholder, files=[inspected])
    [other_file] = evidence_add(incident=other, actor=other.officeholder, files=[inspected])

    user = own.officeholder
    assert evidence_get_for(user=user, reference=own.reference, pk=own_file.pk) == own_file
    with pytest.raises(Http404):
        evidence_get_for(user=user, reference=own.reference, pk=other_file.pk)
    with pytest.raises(Http404):
        evidence_get_for(user=user, reference=other.reference, pk=other_file.pk)
    assert set(evidence_policy.queryset(user, "view")) == {own_file}
    assert evidence_policy.allows(other.officeholder, "view", other_file)
    assert not evidence_policy.allows(user, "view", other_file)


# --- messages and events -------------------------------------------------------------------


@pytest.fixture
def conversation(utrecht, support_user):
    """An escalated incident with a thread message, a staff message and a note."""
    escalation = EscalationFactory(incident__officeholder__organisation=utrecht)
    incident = escalation.incident
    registrar = UserFactory(registrar=True, desk=utrecht.desk)
    thread = message_send(
        incident=incident,
        actor=registrar,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body="Wij nemen contact met u op.",
    )
    staff = message_send(
        incident=incident, actor=registrar, audience=MessageAudience.STAFF, body="Graag overleg."
    )
    note_add(incident=incident, actor=registrar, body="Dader eerder gemeld in Zwolle.")
    return {
        "incident": incident,
        "registrar": registrar,
        "support": support_user,
        "thread": thread,
        "staff": staff,
    }


def test_officeholder_never_sees_the_staff_channel(conversation):
    """The officeholder reads only their own thread."""
    incident = conversation["incident"]
    visible = messages_visible_to(incident.officeholder, incident=incident)
    assert list(visible) == [conversation["thread"]]


@pytest.mark.parametrize("who", ["registrar", "support"])
def test_desk_and_support_see_both_channels(conversation, who):
    """The desk and the support team read the thread and the staff channel."""
    incident = conversation["incident"]
    visible = messages_visible_to(conversation[who], incident=incident)
    assert list(visible) == [conversation["thread"], conversation["staff"]]


def test_admin_sees_no_messages(conversation, admin_user):
    """The administrator reads no message content."""
    incident = conversation["incident"]
    assert not messages_visible_to(admin_user, incident=incident).exists()


def test_officeholder_timeline_hides_notes_and_staff_messages(conversation):
    """Internal events (notes, staff messages) never reach the officeholder's timeline."""
    incident = conversation["incident"]
    events = list(events_visible_to(incident.officeholder, incident=incident))
    assert [e.kind for e in events] == [EventKind.MESSAGE]
    assert events[0].payload["message_id"] == conversation["thread"].pk
    assert not any(e.kind == EventKind.NOTE for e in events)


def test_registrar_timeline_shows_notes_and_both_channels(conversation):
    """The desk sees its notes and both kinds of message in the timeline."""
    incident = conversation["incident"]
    kinds = [e.kind for e in events_visible_to(conversation["registrar"], incident=incident)]
    assert kinds == [EventKind.MESSAGE, EventKind.MESSAGE, EventKind.NOTE]


def test_factory_built_timeline_is_scoped_the_same_way(utrecht):
    """Messages, notes and events made by the factories follow the same visibility rules."""
    incident = _incident_in(utrecht, in_triage=True)
    thread = MessageFactory(incident=incident)
    staff = MessageFactory(incident=incident, staff=True)
    note = NoteFactory(incident=incident)
    EventFactory(incident=incident, kind=EventKind.SUBMITTED)
    EventFactory(incident=incident, kind=EventKind.NOTE, actor=note.author)
    officeholder = incident.officeholder
    assert staff.author.desk == incident.desk
    assert list(messages_visible_to(officeholder, incident=incident)) == [thread]
    assert [e.kind for e in events_visible_to(officeholder, incident=incident)] == ["submitted"]
    assert len(events_visible_to(note.author, incident=incident)) == 2


# --- may-do checks --------------------------------------------------------------------------


def test_only_the_owner_may_withdraw_and_only_before_the_desk_started(utrecht):
    """Withdrawing is for the officeholder who filed it, while still `submitted`."""
    incident = _incident_in(utrecht)
    owner = incident.officeholder

    def may_withdraw(user, incident):
        return incident_policy.allows(user, "withdraw", incident)

    assert may_withdraw(owner, incident)
    assert not may_withdraw(UserFactory(organisation=utrecht), incident)
    assert not may_withdraw(UserFactory(registrar=True, desk=utrecht.desk), incident)
    started = _incident_in(utrecht, in_triage=True)
    assert not may_withdraw(started.officeholder, started)


def _offered(user, incident):
    return [action.name for action in incident_policy.actions_for(user, incident)]


def test_actions_for_another_desk_or_another_officeholder_are_empty(utrecht, zwolle):
    """Nobody is offered a step on an incident that is not theirs to handle; the own desk gets
    the desk's steps of a new incident, the owner only withdrawing it."""
    incident = _incident_in(utrecht)
    assert _offered(UserFactory(registrar=True, desk=zwolle.desk), incident) == []
    assert _offered(UserFactory(organisation=utrecht), incident) == []
    own_desk = UserFactory(registrar=True, desk=utrecht.desk)
    assert _offered(own_desk, incident) == [
        "take",
        "assign",
        "triage",
        "escalate",
        "close",
        "mark_duplicate",
        "link",
        "set_callback",
        "clear_callback",
    ]
    steps = {
        action.to_status
        for action in incident_policy.actions_for(own_desk, incident)
        if action.to_status
    }
    assert steps == {Status.IN_TRIAGE, Status.ESCALATED, Status.CLOSED}
    assert _offered(incident.officeholder, incident) == ["withdraw"]


def test_triage_and_adding_information_stay_within_the_desk(utrecht, zwolle):
    """Another desk may neither triage nor add to an incident; the owner may add until closed."""
    incident = _incident_in(utrecht)
    outsider = UserFactory(registrar=True, desk=zwolle.desk)

    def may(user, action, incident):
        return incident_policy.allows(user, action, incident)

    assert not may(outsider, "triage", incident)
    assert not may(outsider, "add_information", incident)
    assert may(UserFactory(registrar=True, desk=utrecht.desk), "triage", incident)
    assert may(incident.officeholder, "add_information", incident)
    closed = _incident_in(utrecht, closed=True)
    assert not may(closed.officeholder, "add_information", closed)
    assert incident_policy.queryset(outsider, "triage").count() == 0
    assert list(incident_policy.queryset(incident.officeholder, "add_information")) == [incident]
