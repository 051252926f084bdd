"""Demo incidents and support cases, so that a new user sees a living portal on first run.

The data is in `stories.yaml` (and the evidence files in `files.yaml`); this module plays it.
Each story is one incident: the facts an officeholder filed, how long ago (`age`), and the
`steps` that followed, each `after` some time since filing (durations like "2d 3h 30m"):

    view, take, assign, triage (options: severity, flags, types, advice; text: advice note),
    message (options: audience), note, follow_up, close (options: category), withdraw,
    escalate, duplicate (options: original, another story's key)

A story's `support_steps` continue it on the Ondersteuningsteam's side:

    rules (the real escalation rules run, right after filing), open_case (after the desk's
    escalation), acknowledge, action (options: service_type, due_in_days, shared),
    action_done (options: service_type), return, close

`by` says who acts: "officeholder", "desk" (the default: a registrar of the incident's desk),
"support" (a member of the team) or a username. Every step goes through the real services, so
the rows are what the running portal writes; two things are added on top:

- **Time.** Services stamp `timezone.now()`, but a story happened days or weeks ago. All steps
  of all new stories are played in one timeline, oldest moment first, noting each story moment
  on a `DemoClock`; afterwards everything written is re-dated to the moment of the step that
  wrote it. The triage and acknowledgement deadlines are then computed again from the re-dated
  times, so "overdue" follows from the portal's own rules.
- **Idempotency.** A story's incident has a fixed `submission_token` (a uuid5 of its key). A
  story whose incident exists is skipped whole, so running `seed_demo` again changes nothing,
  and a demo incident that someone has since worked on stays as they left it.

**The outbox.** The stories describe history that was already handled: the rules were applied
here, on purpose and at the right moment, and nobody needs a notification about last month. So
the outbox entries of the events written here are marked done in the same transaction; the
tasks queued after commit find them done and return at once.

The stories are chosen to match what the default rules would do: no story without support steps
would be escalated by a rule, every serious report still with the desk is triaged or younger
than four hours, and each demo officeholder has at most one report in the last 30 days that the
repeat rule counts.
"""

import io
import uuid
import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, reduce
from operator import or_
from pathlib import Path

import yaml
from django.db.models import Q, QuerySet
from django.utils import timezone
from PIL import Image, ImageDraw

from incidents import deadlines, services
from incidents.aangifte import AangifteTrack
from incidents.actions import is_serious
from incidents.constants import EvidenceProcessing, MessageAudience, OutcomeCategory
from incidents.evidence import InspectedFile, evidence_inspect
from incidents.evidence_processing import evidence_process
from incidents.models import (
    Escalation,
    Event,
    Evidence,
    Incident,
    IncidentLink,
    Message,
    Note,
    PerpetratorMatch,
)
from incidents.services import INCIDENT_EVENT_TOPIC
from portal.models import OutboxEntry, OutboxStatus, User
from portal.policies import team_members
from support import services as support_services
from support.constants import ACKNOWLEDGE_WITHIN_HOURS, ActionStatus
from support.models import SupportAction, SupportCase

DATA = Path(__file__).parent
# Never change this: the tokens derived from it are how a later run recognises its incidents.
DEMO_NAMESPACE = uuid.UUID("6f1c7a52-2b8e-4d0c-9a4e-0d9c1b7e5a31")
DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def duration(text: str) -> timedelta:
    """ "2d 3h 30m" -> timedelta(days=2, hours=3, minutes=30)."""
    parts = {}
    for part in str(text).split():
        parts[DURATION_UNITS[part[-1]]] = float(part[:-1])
    return timedelta(**parts)


def demo_token(key: str) -> uuid.UUID:
    """The fixed submission token of the demo story `key`."""
    return uuid.uuid5(DEMO_NAMESPACE, f"incidents.demo:{key}")


def demo_incident(key: str) -> Incident | None:
    """The incident of the demo story `key`, if it was seeded."""
    return Incident.objects.filter(submission_token=demo_token(key)).first()


@dataclass(frozen=True)
class Step:
    after: timedelta
    action: str
    by: str = "desk"
    text: str = ""
    options: Mapping = field(default_factory=dict)
    support: bool = False


@dataclass(frozen=True)
class Story:
    key: str
    officeholder: str
    age: timedelta
    facts: Mapping
    occurred_before: timedelta = timedelta(hours=3)
    time_known: bool = True
    identifiers: Sequence[tuple[str, str]] = ()
    evidence: Sequence[str] = ()
    quick: bool = False
    filed_by_desk: bool = False
    steps: Sequence[Step] = ()


def _steps(rows: Iterable[Mapping], *, support: bool) -> list[Step]:
    return [
        Step(
            after=duration(row["after"]),
            action=row["action"],
            by=row.get("by", "desk"),
            text=row.get("text", ""),
            options=row.get("options", {}),
            support=support,
        )
        for row in rows
    ]


@cache
def stories() -> tuple[Story, ...]:
    """The stories of stories.yaml."""
    rows = yaml.safe_load((DATA / "stories.yaml").read_text(encoding="utf-8"))
    return tuple(
        Story(
            key=row["key"],
            officeholder=row["officeholder"],
            age=duration(row["age"]),
            facts=row["facts"],
            occurred_before=duration(row.get("occurred_before", "3h")),
            time_known=row.get("time_known", True),
            identifiers=[(i["kind"], i["value"]) for i in row.get("identifiers", [])],
            evidence=row.get("evidence", []),
            quick=row.get("quick", False),
            filed_by_desk=row.get("filed_by_desk", False),
            steps=_steps(row.get("steps", []), support=False)
            + _steps(row.get("support_steps", []), support=True),
        )
        for row in rows
    )


# --- Evidence files ---------------------------------------------------------------------------


def _screenshot_png(title: str, lines: Sequence[str]) -> bytes:
    """A small image that looks like a screenshot of a post (generated, no real content)."""
    image = Image.new("RGB", (560, 40 + 22 * len(lines)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 560, 28), fill=(29, 78, 137))
    draw.text((10, 8), title, fill=(255, 255, 255))
    for number, line in enumerate(lines):
        draw.text((10, 36 + 22 * number), line, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@cache
def _files() -> dict:
    return yaml.safe_load((DATA / "files.yaml").read_text(encoding="utf-8"))


def demo_file(key: str) -> InspectedFile:
    """A demo evidence file, checked by `evidence_inspect` like any upload."""
    spec = _files()[key]
    if "screenshot" in spec:
        data = _screenshot_png(spec["screenshot"]["title"], spec["screenshot"]["lines"])
    else:
        data = spec["text"].encode()
    return evidence_inspect(name=spec["name"], data=data)


# --- Playing the stories ----------------------------------------------------------------------


class People:
    """The demo accounts a step acts as, looked up once."""

    def __init__(self):
        self._cache: dict[tuple, User | None] = {}

    def _get(self, key: tuple, queryset) -> User | None:
        if key not in self._cache:
            self._cache[key] = queryset.order_by("username").first()
        return self._cache[key]

    def actor(self, by: str, incident: Incident) -> User:
        if by == "officeholder":
            user = incident.officeholder
        elif by == "desk":
            desk_staff = User.objects.filter(desk_id=incident.desk_id, is_active=True)
            user = self._get(("desk", incident.desk_id), desk_staff)
        elif by == "support":
            user = self._get(("support",), team_members())
        else:
            user = self._get(("user", by), User.objects.filter(username=by))
        if user is None:
            raise LookupError(f"No demo account acts as {by!r} for {incident.reference}.")
        return user


def _act(incident: Incident, actor: User, action: str, **inputs) -> None:
    services.incident_act(
        incident=incident, actor=actor, action=action, version=incident.version, **inputs
    )


def _case(incident: Incident) -> SupportCase | None:
    return SupportCase.objects.filter(incident=incident).order_by("-created_at", "-pk").first()


def _case_act(case: SupportCase, actor: User, action: str, **inputs) -> None:
    support_services.support_case_act(
        case=case, actor=actor, action=action, version=case.version, **inputs
    )


def _open_case(incident: Incident) -> bool:
    """What the outbox's case consumer does for an escalation (its entry is marked done)."""
    escalation = incident.escalations.filter(closed_at__isnull=True).first()
    if escalation is not None:
        support_services.support_case_open(escalation=escalation)
    return escalation is not None


CASE_STEPS = frozenset({"acknowledge", "action", "action_done", "return", "close"})


def step_run(*, incident: Incident, step: Step, people: People, at: datetime) -> bool:
    """Take one step of a story through the services; False when the story cannot go on."""
    incident.refresh_from_db()
    options = step.options
    if step.action == "rules":
        support_services.incident_rules_apply(incident=incident)
        _open_case(incident)
        return True
    if step.action == "open_case":
        return _open_case(incident)
    actor = people.actor(step.by, incident)
    case = _case(incident) if step.support else None
    if step.support and step.action in CASE_STEPS and case is None:
        return False  # no case: a rule was switched off; the story ends where the portal would
    match (step.support, step.action):
        case (_, "view"):
            services.incident_mark_viewed(incident=incident, actor=actor)
        case (_, "take"):
            _act(incident, actor, "take")
        case (_, "assign"):
            _act(incident, actor, "assign", assignee=actor)
        case (_, "triage"):
            _act(
                incident,
                actor,
                "triage",
                triage_severity=options["severity"],
                risk_flags=options.get("flags", []),
                types=options.get("types", incident.types),
                advice_given=options.get("advice", []),
                advice_note=step.text,
            )
        case (_, "message"):
            services.message_send(
                incident=incident,
                actor=actor,
                audience=options.get("audience", MessageAudience.OFFICEHOLDER_THREAD),
                body=step.text,
            )
        case (_, "note"):
            services.note_add(incident=incident, actor=actor, body=step.text)
        case (_, "follow_up"):
            services.incident_follow_up_add(incident=incident, actor=actor, text=step.text)
        case (False, "close"):
            _act(
                incident,
                actor,
                "close",
                outcome_category=options.get("category", "other"),
                outcome=step.text,
            )
        case (_, "withdraw"):
            _act(incident, actor, "withdraw", reason=step.text)
        case (_, "escalate"):
            _act(incident, actor, "escalate", reason=step.text)
        case (_, "duplicate"):
            _act(incident, actor, "mark_duplicate", original=demo_incident(options["original"]))
        case (True, "acknowledge"):
            _case_act(case, actor, "acknowledge")
        case (True, "action"):
            _case_act(
                case,
                actor,
                "add_action",
                service_type=options["service_type"],
                owner=actor,
                description=step.text,
                due_on=timezone.localdate(at) + timedelta(days=options["due_in_days"]),
                shared_with_desk=options.get("shared", False),
            )
        case (True, "action_done"):
            # The service type is encrypted: picked in Python, not in SQL.
            found = next(a for a in case.actions.all() if a.service_type == options["service_type"])
            _case_act(case, actor, "update_action", support_action=found, status=ActionStatus.DONE)
        case (True, "return"):
            _case_act(case, actor, "return_to_desk", reason=step.text)
        case (True, "close"):
            _case_act(
                case,
                actor,
                "close_case",
                outcome=step.text,
                outcome_category=OutcomeCategory.SUPPORT_GIVEN,
                open_actions_confirmed=True,
            )
        case _:
            raise ValueError(f"Unknown demo step {step.action!r}.")
    return True


class DemoClock:
    """Re-dates what the services write while seeding to the moments of the stories.

    Services stamp the real time. Before each step the clock notes the real time and the story
    moment (`step`); afterwards `redate` replaces every time written since seeding began by the
    moment of the step that wrote it. Steps run in story order, so real times and story moments
    rise together, and every story moment lies before the start of seeding: a time from
    `since` on was written by this run, an older one was not and is left alone.
    """

    def __init__(self):
        self.since = timezone.now()
        self._real: list[datetime] = []
        self._story: list[datetime] = []

    def step(self, at: datetime) -> None:
        """What is written from now on happened at the story moment `at`."""
        self._real.append(timezone.now())
        self._story.append(at)

    def story_time(self, real: datetime) -> datetime:
        return self._story[max(bisect_right(self._real, real) - 1, 0)]

    def redate(self, queryset: QuerySet, fields: Sequence[str]) -> list:
        """Re-date `fields` of the rows in `queryset` that this run wrote; returns those rows."""
        written = reduce(or_, (Q(**{f"{name}__gte": self.since}) for name in fields))
        rows = list(queryset.filter(written))
        for row in rows:
            for name in fields:
                value = getattr(row, name)
                if value is not None and value >= self.since:
                    setattr(row, name, self.story_time(value))
        queryset.model.objects.bulk_update(rows, fields, batch_size=500)
        return rows

    def redate_all(self, incident_ids: Iterable[int]) -> None:
        """Re-date the incidents, everything recorded on them and their support cases."""
        ids = list(incident_ids)
        both = Q(first_id__in=ids) | Q(second_id__in=ids)
        for queryset, fields in (
            (
                Incident.objects.filter(pk__in=ids),
                ["submitted_at", "updated_at", "triaged_at", "closed_at"],
            ),
            (Event.objects.filter(incident_id__in=ids), ["created_at"]),
            (Message.objects.filter(incident_id__in=ids), ["created_at"]),
            (Note.objects.filter(incident_id__in=ids), ["created_at"]),
            (Evidence.objects.filter(incident_id__in=ids), ["uploaded_at"]),
            (Escalation.objects.filter(incident_id__in=ids), ["created_at", "closed_at"]),
            (
                IncidentLink.objects.filter(
                    Q(from_incident_id__in=ids) | Q(to_incident_id__in=ids)
                ),
                ["created_at"],
            ),
            (PerpetratorMatch.objects.filter(both), ["created_at"]),
            (SupportAction.objects.filter(case__incident_id__in=ids), ["created_at", "updated_at"]),
        ):
            self.redate(queryset, fields)
        cases = self.redate(
            SupportCase.objects.filter(incident_id__in=ids),
            ["created_at", "acknowledged_at", "closed_at"],
        )
        # The acknowledgement deadline follows from the (re-dated) moment the case was opened.
        for case in cases:
            case.acknowledge_due_at = case.created_at + timedelta(hours=ACKNOWLEDGE_WITHIN_HOURS)
        SupportCase.objects.bulk_update(cases, ["acknowledge_due_at"])


def _facts(story: Story, submitted_at: datetime, time_zone: str) -> dict:
    occurred = timezone.localtime(
        submitted_at - story.occurred_before, zoneinfo.ZoneInfo(time_zone)
    )
    facts = dict(story.facts)
    facts.pop("aangifte", None)  # not a fact: recorded after filing (`_submit`)
    facts["occurred_on"] = occurred.date()
    if story.time_known and not story.quick:
        facts["occurred_at"] = occurred.time().replace(
            minute=occurred.minute - occurred.minute % 5, second=0, microsecond=0
        )
    return facts


def _submit(*, story: Story, submitted_at: datetime) -> Incident:
    officeholder = User.objects.select_related("organisation").get(username=story.officeholder)
    filed_by = None
    if story.filed_by_desk:
        filed_by = (
            User.objects.filter(desk_id=officeholder.organisation.desk_id, is_active=True)
            .order_by("username")
            .first()
        )
    incident = services.incident_submit(
        officeholder=officeholder,
        facts=_facts(story, submitted_at, officeholder.organisation.time_zone),
        quick=story.quick,
        identifiers=story.identifiers,
        files=[demo_file(key) for key in story.evidence],
        submission_token=demo_token(story.key),
        filed_by=filed_by,
    )
    aangifte = story.facts.get("aangifte")
    if aangifte:
        # Where the aangifte stands, as the officeholder (or the desk that filed) records it.
        incident = services.aangifte_update(
            incident=incident,
            actor=filed_by or officeholder,
            track=AangifteTrack(**aangifte),
            version=incident.version,
        )
    # The demo's photos are cleaned here and now, as the worker would: the demo does not
    # depend on a running worker (a task queued for them later finds nothing to do).
    pending = incident.evidence.filter(processing=EvidenceProcessing.PENDING)
    for evidence_id in pending.values_list("pk", flat=True):
        evidence_process(evidence_id=evidence_id)
    return incident


def seed() -> None:
    """Create the demo incidents (and cases) that do not exist yet. Idempotent."""
    clock = DemoClock()
    existing = set(
        Incident.objects.filter(
            submission_token__in=[demo_token(story.key) for story in stories()]
        ).values_list("submission_token", flat=True)
    )
    new = [story for story in stories() if demo_token(story.key) not in existing]
    # One timeline over all new stories: (moment, story order, step number, story, step);
    # step None is the filing itself.
    timeline = []
    for order, story in enumerate(new):
        submitted_at = clock.since - story.age
        timeline.append((submitted_at, order, 0, story, None))
        for number, step in enumerate(story.steps, start=1):
            if step.after >= story.age:
                raise ValueError(f"Demo story {story.key}: step {step.action} is in the future.")
            timeline.append((submitted_at + step.after, order, number, story, step))
    timeline.sort(key=lambda item: item[:3])
    people = People()
    incidents: dict[str, Incident] = {}
    stopped: set[str] = set()
    for at, _order, _number, story, step in timeline:
        if story.key in stopped:
            continue
        clock.step(at)
        if step is None:
            incidents[story.key] = _submit(story=story, submitted_at=at)
        elif not step_run(incident=incidents[story.key], step=step, people=people, at=at):
            # A rule switched off in the admin: the story ends where the portal would.
            stopped.add(story.key)
    # All demo incidents: a rule may match a new report with one seeded in an earlier run.
    every_demo_incident = Incident.objects.filter(
        submission_token__in=[demo_token(story.key) for story in stories()]
    ).values_list("pk", flat=True)
    clock.redate_all(every_demo_incident)
    for incident in incidents.values():
        incident.refresh_from_db()
        due = deadlines.triage_due_at(
            submitted_at=incident.submitted_at,
            serious=is_serious(incident),
            time_zone=incident.organisation.time_zone,
        )
        Incident.objects.filter(pk=incident.pk).update(triage_due_at=due)
    events = Event.objects.filter(incident_id__in=[i.pk for i in incidents.values()])
    OutboxEntry.objects.filter(
        topic=INCIDENT_EVENT_TOPIC,
        object_id__in=events.values_list("pk", flat=True),
        status=OutboxStatus.PENDING,
    ).update(status=OutboxStatus.DONE, done_at=timezone.now())
