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

The counts are updated with one `INSERT ... ON CONFLICT DO UPDATE SET count = count + n`
per change, rows in a fixed order, so two transactions never deadlock on them.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from incidents.constants import FactKind, Status
from incidents.models import FactCount, Incident

# (organisation id, desk id, first day of the month filed)
Key = tuple[int, int, date]
Facts = Counter  # Counter[(kind, value)]

# The list facts of an incident and the kind they are counted under.
LIST_FACTS = (
    (FactKind.TYPE, "types"),
    (FactKind.IMPACT, "impacts"),
    (FactKind.AFFECTED_PERSON, "affected_people"),
    (FactKind.RISK_FLAG, "risk_flags"),
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


def key_of(incident: Incident) -> Key:
    return (incident.organisation_id, home_desk_id(incident), month_of(incident))


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
    # One row per step of the aangifte track reached (values: incidents.aangifte.STEP_VALUES).
    for step in incident.aangifte_steps:
        facts[(FactKind.AANGIFTE.value, step)] += 1
    return facts


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
    """Add each (key, fact) delta to its row, creating rows as needed (one statement)."""
    rows = sorted(
        (organisation, desk, month, kind, value, delta)
        for (organisation, desk, month), facts in changes.items()
        for (kind, value), delta in facts.items()
        if delta
    )
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(FactCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params = [
        param
        for organisation, desk, month, kind, value, delta in rows
        for param in (
            organisation,
            desk,
            connection.ops.adapt_datefield_value(month),
            kind,
            value,
            delta,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organisation_id, desk_id, month, kind, value, count) "  # noqa: S608
            f"VALUES {values} "
            "ON CONFLICT (organisation_id, desk_id, month, kind, value) "
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
