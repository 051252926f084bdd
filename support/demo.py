"""Demo support cases, so that the support inbox is not empty on first run. Used by `seed_demo`.

`seed_demo` runs this after `incidents.demo`, in the same transaction. Each `CaseStory` below
continues a story of incidents/demo.py: the escalation rules run on the incident right after
it was filed (`incident_rules_apply`, the real rules engine, so the rule names and the link
between the two incidents that share a perpetrator handle are what the portal itself would
record), or the desk escalated it by hand and the case is opened with `support_case_open`.
Then the Ondersteuningsteam works on it, up to the state the story ends in: new (past its
acknowledgement deadline), acknowledged with a handler, in progress with a legal-help action
shared with the desk and a communication-advice action that is not, closed with an outcome
(twice), and returned to the desk. Steps are dated like the incident stories (`DemoClock`).

**Why the demo's events are marked as processed.** Every event recorded through the services
is announced after commit, and `support` then queues one Celery task per event to run the
rules and notify people. The demo stories describe history that was already handled: the rules
were applied here, on purpose and at the right moment, and nobody needs a notification about
last month. So this module writes an `EventProcessing` row (in the same transaction) for every
event of the demo incidents created in this run. The tasks that are still queued after commit
find the row and return at once (`incident_event_process` is idempotent), the sweeper skips
those events, and the broker sees one cheap task per demo event on the first run only. The
alternatives were worse: processing the events here would re-run rules against finished
stories and notify everyone about the past, and disconnecting the receiver cannot work because
the announcements fire after `seed_demo`'s transaction commits, when no seed function runs.

"Created in this run" means: a demo incident whose filing event has no `EventProcessing` row
yet. An incident from an earlier run had all its events marked then, so a second run touches
nothing, and events that people cause later on demo incidents are processed normally.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from incidents.constants import EventKind, MessageAudience, TriageSeverity
from incidents.demo import (
    STORIES,
    DemoClock,
    People,
    Step,
    days,
    demo_token,
    hours,
    minutes,
    step_run,
)
from incidents.models import Event, Incident
from support import services
from support.constants import ACKNOWLEDGE_WITHIN_HOURS, ActionStatus, ServiceType
from support.models import EventProcessing, SupportAction, SupportCase


@dataclass(frozen=True)
class CaseStory:
    """The support side of the incident story `incident` (a key of incidents.demo.STORIES)."""

    incident: str
    steps: Sequence[Step]


STAFF = {"audience": MessageAudience.STAFF}

CASE_STORIES: Sequence[CaseStory] = (
    # New, escalated five hours ago: past its 4-hour acknowledgement deadline.
    CaseStory(incident="saba-whatsapp", steps=[Step(minutes(1), "rules")]),
    # Acknowledged: the team member who acknowledged it is the handler (the contact person).
    # The rules linked it to the wethouder's report with the same X account.
    CaseStory(
        incident="utrecht-x-raadslid",
        steps=[
            Step(minutes(1), "rules"),
            Step(minutes(30), "view"),
            Step(
                hours(1),
                "message",
                options=STAFF,
                text=(
                    "Dit account viel ons al op bij een melding van wethouder De Vries; de "
                    "meldingen zijn gekoppeld. Graag jullie oordeel over een aanpak voor beiden."
                ),
            ),
            Step(
                hours(1) + minutes(5),
                "message",
                text=(
                    "Beste heer Yilmaz, uw melding is doorgegeven aan het Ondersteuningsteam, "
                    "omdat hetzelfde account ook een collega heeft bedreigd. U hoort vandaag van "
                    "hen. Bij acuut gevaar belt u 112."
                ),
            ),
            Step(hours(3), "acknowledge", by="support"),
            Step(
                hours(3) + minutes(20),
                "message",
                by="support",
                text=(
                    "Beste heer Yilmaz, ik ben Fatima El Amrani van het Ondersteuningsteam "
                    "Weerbaar Bestuur en uw vaste contactpersoon. Ik bel u morgenochtend om "
                    "samen te bespreken wat u nodig heeft."
                ),
            ),
            Step(
                hours(3) + minutes(30),
                "message",
                by="support",
                options=STAFF,
                text="Opgepakt. Wij bekijken ook de melding van de wethouder met dit account.",
            ),
        ],
    ),
    # Closed with an outcome (and with it the incident).
    CaseStory(
        incident="zwolle-doxing",
        steps=[
            Step(minutes(1), "rules"),
            Step(minutes(40), "view"),
            Step(hours(1), "acknowledge", by="support"),
            Step(
                hours(2),
                "message",
                by="support",
                text=(
                    "Beste mevrouw Jansen, ik ben Fatima El Amrani van het Ondersteuningsteam "
                    "Weerbaar Bestuur en uw vaste contactpersoon. Ik bel u vandaag om 16.00 uur. "
                    "Heeft u de politie al gevraagd om extra surveillance bij uw huis? Bij acuut "
                    "gevaar belt u 112."
                ),
            ),
            Step(
                hours(3),
                "message",
                by="officeholder",
                text="Ja, de wijkagent rijdt vannacht extra rondes. Ik wacht op uw telefoontje.",
            ),
            Step(
                hours(5),
                "action",
                by="support",
                text=(
                    "Aangifte van doxing (art. 285d Sr) begeleiden en X vragen de post te "
                    "verwijderen."
                ),
                options={
                    "service_type": ServiceType.LEGAL_HELP,
                    "due_in_days": 7,
                    "shared": True,
                },
            ),
            Step(
                hours(6),
                "action",
                by="support",
                text="Woningscan en afspraken met de wijkagent over surveillance.",
                options={
                    "service_type": ServiceType.SECURITY_MEASURES,
                    "due_in_days": 5,
                    "shared": True,
                },
            ),
            Step(
                days(4),
                "action_done",
                by="support",
                options={"service_type": ServiceType.SECURITY_MEASURES},
            ),
            Step(
                days(6),
                "action_done",
                by="support",
                options={"service_type": ServiceType.LEGAL_HELP},
            ),
            Step(
                days(14),
                "close",
                by="support",
                text=(
                    "X heeft de post en het account verwijderd; de aangifte loopt. De woning is "
                    "gescand en de wijkagent surveilleert. Afgesloten in overleg met mevrouw "
                    "Jansen; zij belt ons als er iets nieuws gebeurt."
                ),
            ),
        ],
    ),
    # In progress: legal help shared with the desk, communication advice kept to the team.
    CaseStory(
        incident="utrecht-inspraakavond",
        steps=[
            Step(minutes(1), "rules"),
            Step(minutes(25), "view"),
            Step(minutes(40), "acknowledge", by="support"),
            Step(
                hours(1),
                "message",
                by="support",
                text=(
                    "Beste mevrouw De Vries, ik ben Fatima El Amrani van het Ondersteuningsteam "
                    "Weerbaar Bestuur en vanaf nu uw vaste contactpersoon. Wat u is overkomen is "
                    "ernstig. Ik bel u vanmiddag om samen te kijken wat u nodig heeft. Goed dat "
                    "u bij de aangifte het adres van het stadhuis heeft gebruikt."
                ),
            ),
            Step(
                hours(4),
                "message",
                by="officeholder",
                text="Dank u. Mijn man is erg geschrokken. Is er ook hulp voor hem?",
            ),
            Step(
                days(1),
                "action",
                by="support",
                text="Gesprek met de partner over wat er gebeurde; Slachtofferhulp aangeboden.",
                options={"service_type": ServiceType.AFTERCARE_FAMILY, "due_in_days": 7},
            ),
            Step(
                days(2),
                "message",
                options=STAFF,
                text=(
                    "Het wijkcentrum heeft de camerabeelden aan de politie gegeven. Wij letten "
                    "op bij de volgende inspraakavond."
                ),
            ),
            Step(
                days(6),
                "action_done",
                by="support",
                options={"service_type": ServiceType.AFTERCARE_FAMILY},
            ),
            Step(
                days(28),
                "action",
                by="support",
                text=(
                    "Advocaat via het Ondersteuningsteam: de wethouder voegt zich als benadeelde "
                    "partij in de strafzaak en vraagt schadevergoeding."
                ),
                options={
                    "service_type": ServiceType.LEGAL_HELP,
                    "due_in_days": 21,
                    "shared": True,
                },
            ),
            Step(
                days(28) + minutes(5),
                "message",
                by="support",
                options=STAFF,
                text="Juridische hulp is geregeld; de actie staat ook voor jullie in het dossier.",
            ),
            Step(
                days(30),
                "action",
                by="support",
                text=(
                    "Woordvoering voorbereiden rond de rechtszaak, samen met de afdeling "
                    "Communicatie van de gemeente."
                ),
                options={"service_type": ServiceType.COMMUNICATION_ADVICE, "due_in_days": 16},
            ),
            Step(
                days(30) + minutes(10),
                "note",
                by="support",
                text=(
                    "Zitting naar verwachting over zes weken. Lokale media hebben de gemeente al "
                    "vragen gesteld."
                ),
            ),
        ],
    ),
    # Closed with an outcome (and with it the incident); escalated by hand by the desk.
    CaseStory(
        incident="overijssel-kogel",
        steps=[
            Step(minutes(46), "open_case"),
            Step(hours(2), "acknowledge", by="support"),
            Step(
                hours(3),
                "action",
                by="support",
                text="Beveiligingsscan van de woning en een camera bij de voordeur.",
                options={
                    "service_type": ServiceType.SECURITY_MEASURES,
                    "due_in_days": 7,
                    "shared": True,
                },
            ),
            Step(
                days(1),
                "action",
                by="support",
                text="Juridisch advies over een contactverbod en over het verhalen van kosten.",
                options={
                    "service_type": ServiceType.LEGAL_HELP,
                    "due_in_days": 30,
                    "shared": True,
                },
            ),
            Step(
                days(1) + hours(1),
                "message",
                by="support",
                text=(
                    "Beste heer Bakker, ik ben Fatima El Amrani van het Ondersteuningsteam. "
                    "Maandag komt een beveiligingsadviseur bij u thuis voor een woningscan. "
                    "Daarnaast regelen wij juridisch advies. U kunt mij altijd bellen."
                ),
            ),
            Step(
                days(6),
                "action_done",
                by="support",
                options={"service_type": ServiceType.SECURITY_MEASURES},
            ),
            Step(
                days(12),
                "action",
                by="support",
                text="Nazorggesprek na de aanhouding van de verdachte.",
                options={"service_type": ServiceType.AFTERCARE_OFFICEHOLDER, "due_in_days": 7},
            ),
            Step(
                days(18),
                "action_done",
                by="support",
                options={"service_type": ServiceType.LEGAL_HELP},
            ),
            Step(
                days(19),
                "action_done",
                by="support",
                options={"service_type": ServiceType.AFTERCARE_OFFICEHOLDER},
            ),
            Step(
                days(20),
                "close",
                by="support",
                text=(
                    "Woningscan gedaan en camera geplaatst. De verdachte is aangehouden en heeft "
                    "een contactverbod. Nazorggesprek gevoerd; de heer Bakker heeft geen verdere "
                    "hulp nodig. Afgesloten in overleg met hem en het meldpunt."
                ),
            ),
        ],
    ),
    # Returned: the team gave it back to the desk, which took it up again.
    CaseStory(
        incident="utrecht-appgroep",
        steps=[
            Step(minutes(1), "rules"),
            Step(hours(1), "view"),
            Step(hours(3), "acknowledge", by="support"),
            Step(
                hours(4),
                "message",
                by="support",
                text="Beste heer Yilmaz, ik heb uw melding gelezen en bel u morgenochtend.",
            ),
            Step(
                days(1) + hours(2),
                "return",
                by="support",
                text=(
                    "Na een gesprek met de heer Yilmaz: inzet van het Ondersteuningsteam is nu "
                    "niet nodig. Het meldpunt begeleidt hem verder; buurtbemiddeling is een goede "
                    "volgende stap."
                ),
            ),
            Step(days(1) + hours(4), "assign"),
            Step(
                days(1) + hours(5),
                "triage",
                text="Buurtbemiddeling aangevraagd voor het gesprek met de twee buurtbewoners.",
                options={"severity": TriageSeverity.MEDIUM},
            ),
            Step(
                days(1) + hours(6),
                "message",
                text=(
                    "Beste heer Yilmaz, het Ondersteuningsteam heeft uw melding aan ons "
                    "teruggegeven. Wij hebben buurtbemiddeling gevraagd om met de twee "
                    "buurtbewoners te praten en bellen u volgende week."
                ),
            ),
        ],
    ),
)


DEMO_TOKENS = {demo_token(story.key): story.key for story in STORIES}


def _case(incident: Incident) -> SupportCase | None:
    return SupportCase.objects.filter(incident=incident).order_by("-created_at", "-pk").first()


def case_step_run(*, incident: Incident, step: Step, people: People, at: datetime) -> bool:
    """Take one step of a case story; False when the story cannot go on (no case)."""
    incident.refresh_from_db()
    if step.action == "rules":
        services.incident_rules_apply(incident=incident)
        return _case(incident) is not None
    if step.action == "open_case":
        escalation = incident.escalations.filter(closed_at__isnull=True).first()
        if escalation is None:
            return False
        services.support_case_open(escalation=escalation)
        return True
    case = _case(incident)
    actor = people.actor(step.by, incident)
    options = step.options
    match step.action:
        case "acknowledge":
            services.support_case_acknowledge(case=case, actor=actor, version=case.version)
        case "action":
            services.support_action_add(
                case=case,
                actor=actor,
                service_type=options["service_type"],
                owner=actor,
                description=step.text,
                due_on=timezone.localdate(at) + timedelta(days=options["due_in_days"]),
                shared_with_desk=options.get("shared", False),
            )
        case "action_done":
            action = case.actions.get(service_type=options["service_type"])
            services.support_action_update(
                action=action,
                actor=actor,
                status=ActionStatus.DONE,
                shared_with_desk=action.shared_with_desk,
                due_on=action.due_on,
            )
        case "return":
            services.support_case_return(
                case=case, actor=actor, reason=step.text, version=case.version
            )
        case "close":
            services.support_case_close(
                case=case, actor=actor, outcome=step.text, version=case.version
            )
        case _:
            step_run(incident=incident, step=step, people=people)
    return True


def support_redate(*, clock: DemoClock, incident_ids: Iterable[int]) -> None:
    """Re-date the incidents and their support cases and actions (see `DemoClock`)."""
    ids = list(incident_ids)
    clock.redate_incidents(ids)
    cases = clock.redate(
        SupportCase.objects.filter(incident_id__in=ids),
        ["created_at", "acknowledged_at", "closed_at"],
    )
    clock.redate(
        SupportAction.objects.filter(case__incident_id__in=ids), ["created_at", "updated_at"]
    )
    # The acknowledgement deadline follows from the (re-dated) moment the case was opened.
    for case in cases:
        case.acknowledge_due_at = case.created_at + timedelta(hours=ACKNOWLEDGE_WITHIN_HOURS)
    SupportCase.objects.bulk_update(cases, ["acknowledge_due_at"])


def demo_incidents_created_now() -> dict[str, Incident]:
    """Demo incidents seeded in this run: their filing event is not marked processed yet."""
    fresh = Incident.objects.filter(
        submission_token__in=DEMO_TOKENS,
        events__kind__in=(EventKind.SUBMITTED, EventKind.FILED_BY_DESK),
        events__processing__isnull=True,
    ).distinct()
    return {DEMO_TOKENS[incident.submission_token]: incident for incident in fresh}


def seed(*, password: str) -> None:
    """Escalate and work the demo cases of this run's demo incidents. Idempotent."""
    clock = DemoClock()
    fresh = demo_incidents_created_now()
    if not fresh:
        return
    ids = [incident.pk for incident in fresh.values()]
    timeline = []
    for order, story in enumerate(CASE_STORIES):
        incident = fresh.get(story.incident)
        if incident is None:
            continue
        for number, step in enumerate(story.steps):
            timeline.append((incident.submitted_at + step.after, order, number, incident, step))
    timeline.sort(key=lambda item: item[:3])
    people = People()
    stopped: set[int] = set()
    for at, _order, _number, incident, step in timeline:
        if incident.pk in stopped:
            continue
        clock.step(at)
        if not case_step_run(incident=incident, step=step, people=people, at=at):
            # A rule switched off in the admin: the story ends where the portal would.
            stopped.add(incident.pk)
    # All demo incidents: a rule may link a new report to one seeded in an earlier run.
    every_demo_incident = Incident.objects.filter(submission_token__in=DEMO_TOKENS)
    support_redate(clock=clock, incident_ids=every_demo_incident.values_list("pk", flat=True))
    now = timezone.now()
    EventProcessing.objects.bulk_create(
        EventProcessing(event_id=event_id, processed_at=now)
        for event_id in Event.objects.filter(
            incident_id__in=ids, processing__isnull=True
        ).values_list("pk", flat=True)
    )
