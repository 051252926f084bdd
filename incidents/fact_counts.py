"""The fact counts (`incidents.FactCount`): statistics without reading any incident's facts.

The facts of each incident are encrypted, so nothing can count them in SQL. Instead every
service that changes what an incident counts as moves the counts in the same transaction:
`snapshot` before the change, `follow` after it (or `add` for something new, such as an
escalation's rule codes or a support action). Only incidents with `facts_counted` take part:
older rows are counted (once) by `manage.py encrypt_incident_facts`, which sets the flag.
Support actions carry a flag of their own (`encrypt_support_facts` counts the older ones).

The key is the incident's organisation, its own desk (`home_desk_id`: a move to another
desk or a take-back never changes it) and the month it was filed. A withdrawn incident has
no escalations or support actions (withdrawing is only possible before triage), so `forget`
takes all of a deleted incident out.

Every count is also kept per person (`FactPeopleCount`, under a keyed token that differs per
fact value), so the statistics can tell how many different officeholders a cell is about.
Besides the encrypted facts the incident counts its snapshot (function, gender and type of
organisation at filing), its plain facts (channel, severity, support wish, outcome category)
and the histograms of the time to triage and to acknowledgement (docs/architecture.md,
"Statistics").

The counts are updated with one `INSERT ... ON CONFLICT DO UPDATE SET count = count + n`
per table and change, rows in a fixed order, so two transactions never deadlock on them.
"""

import hashlib
import hmac
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from incidents.constants import (
    MONITOR_GROUPS,
    TIME_BUCKET_HOURS,
    TIME_BUCKET_MORE,
    FactKind,
    MonitorGroup,
    Status,
)
from incidents.models import FactCount, FactPeopleCount, Incident

# (organisation id, desk id, first day of the month filed, person): the person is the
# officeholder's id, or "incident:<id>" for an incident without one; it is never stored,
# only its keyed token per fact (`person_token`).
Key = tuple[int, int, date, str]
Facts = Counter  # Counter[(kind, value)]

# The list facts of an incident and the kind they are counted under.
LIST_FACTS = (
    (FactKind.TYPE, "types"),
    (FactKind.IMPACT, "impacts"),
    (FactKind.AFFECTED_PERSON, "affected_people"),
    (FactKind.RISK_FLAG, "risk_flags"),
)


# Plain codes counted as they are (empty: not counted): the snapshot and the plain facts.
PLAIN_FACTS = (
    (FactKind.FUNCTION, "officeholder_function"),
    (FactKind.GENDER, "officeholder_gender"),
    (FactKind.ORGANISATION_TYPE, "organisation_type"),
    (FactKind.CHANNEL, "channel"),
    (FactKind.SEVERITY, "reporter_severity"),
    (FactKind.SUPPORT_WISH, "support_wish"),
    (FactKind.OUTCOME, "outcome_category"),
)


def month_of(incident: Incident) -> date:
    """The first day of the month the incident was filed in, in its organisation's zone."""
    zone = ZoneInfo(incident.organisation.time_zone)
    return timezone.localtime(incident.submitted_at, zone).date().replace(day=1)


def home_desk_id(incident: Incident) -> int:
    """The desk the incident belongs to: its own desk, also while it is handled at another
    one because its own desk could not be reached (`moved_from_desk`). This never changes when
    an incident moves or is taken back, so its counts never have to move with it."""
    return incident.moved_from_desk_id or incident.desk_id


def person_of(incident: Incident) -> str:
    if incident.officeholder_id is not None:
        return str(incident.officeholder_id)
    return f"incident:{incident.pk}"


def key_of(incident: Incident) -> Key:
    return (
        incident.organisation_id,
        home_desk_id(incident),
        month_of(incident),
        person_of(incident),
    )


PERSON_TOKEN_PURPOSE = b"mwb.fact-person-token.v1"


@lru_cache(maxsize=4)
def _person_token_key(identifier_key: str) -> bytes:
    return hmac.new(identifier_key.encode(), PERSON_TOKEN_PURPOSE, hashlib.sha256).digest()


def person_token(kind: str, value: str, person: str) -> str:
    """The keyed token of one person under one fact value (128 bits, hex)."""
    key = _person_token_key(settings.IDENTIFIER_HASH_KEY)
    message = f"{kind}\x1f{value}\x1f{person}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def time_bucket(start: datetime, end: datetime) -> str:
    """The histogram bucket of a duration: the smallest upper bound (hours) it fits under."""
    hours = (end - start).total_seconds() / 3600
    for bound in TIME_BUCKET_HOURS:
        if hours <= bound:
            return str(bound)
    return TIME_BUCKET_MORE


def stands(incident: Incident) -> bool:
    """Whether the incident counts: not withdrawn and not closed as a duplicate."""
    return incident.status != Status.WITHDRAWN and incident.duplicate_of_id is None


def incident_facts(incident: Incident) -> Facts:
    """What this incident adds to the counts now (nothing when it does not stand)."""
    facts = Counter()
    if not stands(incident):
        return facts
    facts[(FactKind.INCIDENT.value, "")] = 1
    for kind, field in LIST_FACTS:
        for code in set(getattr(incident, field) or ()):
            facts[(kind.value, code)] += 1
    for group in {MONITOR_GROUPS.get(code, MonitorGroup.OTHER) for code in incident.types or ()}:
        facts[(FactKind.MONITOR_GROUP.value, group.value)] += 1
    for kind, field in PLAIN_FACTS:
        value = getattr(incident, field)
        if value:
            facts[(kind.value, value)] += 1
    if incident.triaged_at is not None:
        facts[
            (FactKind.TRIAGE_TIME.value, time_bucket(incident.submitted_at, incident.triaged_at))
        ] += 1
        on_time = "on_time" if incident.triaged_at <= incident.triage_due_at else "late"
        facts[(FactKind.TRIAGE_ON_TIME.value, on_time)] += 1
    # One row per step of the aangifte track reached (values: incidents.aangifte.STEP_VALUES).
    for step in incident.aangifte_steps:
        facts[(FactKind.AANGIFTE.value, step)] += 1
    return facts


def acknowledgement_facts(*, escalated_at: datetime, acknowledged_at: datetime) -> Facts:
    """The support team's acknowledgement of an escalation, in its histogram."""
    return Counter({(FactKind.ACK_TIME.value, time_bucket(escalated_at, acknowledged_at)): 1})


def rule_facts(rules: Iterable[str]) -> Facts:
    return Counter((FactKind.RULE_CODE.value, code) for code in set(rules))


@dataclass(frozen=True)
class Snapshot:
    key: Key
    facts: Facts


def snapshot(incident: Incident) -> Snapshot | None:
    """What the incident counts as before a change; None when it is not counted (yet)."""
    if not incident.facts_counted:
        return None
    return Snapshot(key_of(incident), incident_facts(incident))


def follow(incident: Incident, before: Snapshot | None) -> None:
    """After a change: move the counts from `before` to what the incident is now."""
    if before is None:
        return
    changes: dict[Key, Facts] = defaultdict(Counter)
    changes[before.key].subtract(before.facts)
    changes[key_of(incident)].update(incident_facts(incident))
    apply(changes)


def forget(before: Snapshot | None) -> None:
    """The incident is deleted: take it out of the counts."""
    if before is not None:
        apply({before.key: Counter({fact: -n for fact, n in before.facts.items()})})


def add(incident: Incident, facts: Facts) -> None:
    """Count something new of a counted incident (an escalation, a support action).

    The caller holds the incident's row lock, so `facts_counted` cannot change meanwhile.
    """
    if incident.facts_counted:
        apply({key_of(incident): facts})


def apply(changes: Mapping[Key, Facts]) -> None:
    """Add each (key, fact) delta to its rows, creating rows as needed: one statement for
    `FactCount` (summed over people) and one for `FactPeopleCount`."""
    totals: Counter = Counter()
    people: Counter = Counter()
    for (organisation, desk, month, person), facts in changes.items():
        for (kind, value), delta in facts.items():
            totals[(organisation, desk, month, kind, value)] += delta
            token = person_token(kind, value, person)
            people[(organisation, desk, month, kind, value, token)] += delta
    _upsert(FactCount, ("organisation_id", "desk_id", "month", "kind", "value"), totals)
    _upsert(
        FactPeopleCount,
        ("organisation_id", "desk_id", "month", "kind", "value", "person"),
        people,
    )


def _upsert(model, columns: tuple[str, ...], deltas: Counter) -> None:
    rows = sorted((*key, delta) for key, delta in deltas.items() if delta)
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    month = columns.index("month")
    placeholders = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    values = ", ".join([placeholders] * len(rows))
    params = [
        connection.ops.adapt_datefield_value(param) if index == month else param
        for row in rows
        for index, param in enumerate(row)
    ]
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}, count) "  # noqa: S608
            f"VALUES {values} "
            f"ON CONFLICT ({names}) "
            f"DO UPDATE SET count = {table}.count + EXCLUDED.count",
            params,
        )


def counts_for_desk(*, desk_id: int, month: date, kind: str) -> dict[str, int]:
    """{value: count} of one kind for a desk's incidents filed in `month` (one query)."""
    return dict(
        FactCount.objects.filter(desk_id=desk_id, month=month, kind=kind)
        .order_by()
        .values_list("value")
        .annotate(total=Sum("count"))
        .filter(total__gt=0)
        .values_list("value", "total")
    )
