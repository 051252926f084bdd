"""The aangifte track of an incident: where the route to the police stands (issue 20).

The track lives on the incident as one encrypted JSON value (`Incident.aangifte`): the report
number, the dates and who filed are as sensitive as the other facts, one value is one
decryption, and the fact counts read it from the incident they already hold (no join, no
extra query in the services). Its reached steps are also kept as keyed tokens
(`Incident.aangifte_tokens`), so the desk's queue shows the stage without decrypting a row.

Pure: no database, no request. The rules of the steps (which step implies which) live here
and are applied by the one service that writes the track, `services.aangifte_update`.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.constants import AangifteOutcome, AangifteStep

REPORT_NUMBER_MAX = 50
EMPLOYER_MAX = 200
OUTCOME_NOTE_MAX = 1000

# Why each step matters, when the administrator's row (`AangifteStepText`, seeded by migration
# 0025 with these texts) is missing: a missing row never leaves a step without its reason.
DEFAULT_STEP_TEXTS = {
    AangifteStep.WANTS_TO_REPORT: gettext_lazy(
        "Aangifte doen helpt. De politie kan dan onderzoek doen. Het meldpunt kan u helpen "
        "met de voorbereiding."
    ),
    AangifteStep.POLICE_CONTACTED: gettext_lazy(
        "Bel de politie op 0900-8844 of maak een afspraak. Bij acuut gevaar belt u 112."
    ),
    AangifteStep.FILED: gettext_lazy(
        "Schrijf het registratienummer van de aangifte op. Dan kunnen u en het meldpunt de "
        "zaak volgen."
    ),
    AangifteStep.VPT_ASKED: gettext_lazy(
        "Vraag zelf om de VPT-code (Veilige Publieke Taak). De politie zet die er niet altijd "
        "vanzelf op. Met de code weet de politie dat het om iemand met een publieke taak gaat."
    ),
    AangifteStep.VPT_CONFIRMED: gettext_lazy(
        "Vraag na of de VPT-code echt op de aangifte staat. Staat hij er niet op? Vraag het "
        "meldpunt om hulp."
    ),
    AangifteStep.DOMICILIE: gettext_lazy(
        "Geef uw werkadres of het adres van uw advocaat op, niet uw huisadres. Zo komt uw "
        "huisadres niet in het dossier dat de verdachte later kan lezen."
    ),
    AangifteStep.EMPLOYER_FILED: gettext_lazy(
        "Uw werkgever, zoals de gemeente of de provincie, kan de aangifte namens u doen. Dan "
        "hoeft u dit niet alleen te doen."
    ),
    AangifteStep.OUTCOME: gettext_lazy(
        "Iemand volgt de zaak: u, het meldpunt of uw werkgever. Vraag de politie of het "
        "Openbaar Ministerie wat er met de aangifte gebeurt."
    ),
}

# The main line of the track, in order: a later step means the earlier ones were reached.
MAIN_LINE = (AangifteStep.WANTS_TO_REPORT, AangifteStep.POLICE_CONTACTED, AangifteStep.FILED)


@dataclass(frozen=True)
class AangifteTrack:
    wants_to_report: bool = False
    police_contacted: bool = False
    police_contacted_on: date | None = None
    filed: bool = False
    filed_on: date | None = None
    report_number: str = ""
    vpt_asked: bool = False
    vpt_confirmed: bool = False
    domicilie: bool = False
    employer_filed: bool = False
    employer: str = ""
    outcome: str = ""
    outcome_note: str = ""

    @classmethod
    def from_stored(cls, value: Mapping[str, Any] | None) -> "AangifteTrack":
        """The track from `Incident.aangifte` (dates as ISO text; unknown keys ignored)."""
        value = dict(value or {})
        known = {field.name for field in fields(cls)}
        data = {key: item for key, item in value.items() if key in known}
        for key in ("police_contacted_on", "filed_on"):
            if data.get(key):
                data[key] = date.fromisoformat(data[key])
            else:
                data[key] = None
        return cls(**data)

    def stored(self) -> dict[str, Any]:
        """What `Incident.aangifte` holds: only what was filled in (an empty track is {})."""
        data = {}
        for key, value in asdict(self).items():
            if isinstance(value, date):
                value = value.isoformat()
            if value not in (None, "", False):
                data[key] = value
        return data

    def normalised(self) -> "AangifteTrack":
        """The same track with what the steps imply: an employer's aangifte is an aangifte, an
        aangifte means the police were contacted and that the person wanted to report, a
        confirmed VPT code was asked for; a date or number goes with its step."""
        track = self
        if track.employer_filed or track.filed_on or track.report_number:
            track = replace(track, filed=True)
        if not track.employer_filed:
            track = replace(track, employer="")
        if track.filed or track.police_contacted_on:
            track = replace(track, police_contacted=True)
        if track.police_contacted:
            track = replace(track, wants_to_report=True)
        if track.vpt_confirmed:
            track = replace(track, vpt_asked=True)
        if not track.outcome:
            track = replace(track, outcome_note="")
        return track

    def steps(self) -> list[str]:
        """The steps reached, as the fact counts name them (`contract.md`): the step codes, and
        `outcome_<code>` for a known outcome."""
        reached = [
            step
            for step in (
                AangifteStep.WANTS_TO_REPORT,
                AangifteStep.POLICE_CONTACTED,
                AangifteStep.FILED,
                AangifteStep.VPT_ASKED,
                AangifteStep.VPT_CONFIRMED,
                AangifteStep.DOMICILIE,
                AangifteStep.EMPLOYER_FILED,
            )
            if getattr(self, step.value)
        ]
        values = [step.value for step in reached]
        if self.outcome:
            values.append(f"outcome_{self.outcome}")
        return values

    def stage(self) -> str:
        """The furthest step of the main line (or the outcome): "" when nothing is recorded."""
        return stage_of(self.steps())

    def next_step(self) -> str:
        """The step that is useful next ("" when the track is complete)."""
        if not self.filed:
            return next(step.value for step in MAIN_LINE if not getattr(self, step.value))
        if not self.vpt_asked:
            return AangifteStep.VPT_ASKED
        if not self.domicilie:
            return AangifteStep.DOMICILIE
        if not self.outcome:
            return AangifteStep.OUTCOME
        return ""

    def changes_from(self, before: "AangifteTrack") -> list[str]:
        """Names of the fields that differ from `before` (for the timeline event)."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(before, f.name)]


def stage_of(steps) -> str:
    """The stage of a set of reached step values (see `AangifteTrack.stage`)."""
    steps = set(steps)
    outcome = next((value for value in steps if value.startswith("outcome_")), "")
    if outcome:
        return AangifteStep.OUTCOME.value
    for step in reversed(MAIN_LINE):
        if step.value in steps:
            return step.value
    return ""


# Every value the fact counts and the tokens can hold.
STEP_VALUES = (
    AangifteStep.WANTS_TO_REPORT.value,
    AangifteStep.POLICE_CONTACTED.value,
    AangifteStep.FILED.value,
    AangifteStep.VPT_ASKED.value,
    AangifteStep.VPT_CONFIRMED.value,
    AangifteStep.DOMICILIE.value,
    AangifteStep.EMPLOYER_FILED.value,
    *(f"outcome_{code}" for code in AangifteOutcome.values),
)


def track_problems(track: AangifteTrack) -> dict[str, str]:
    """What is wrong with a track someone filled in: {field: message}; empty when it is fine."""
    problems = {}
    today = timezone.localdate()
    for name in ("police_contacted_on", "filed_on"):
        value = getattr(track, name)
        if value and value > today:
            problems[name] = _("Deze datum ligt in de toekomst. Kies vandaag of een eerdere dag.")
    if (
        track.police_contacted_on
        and track.filed_on
        and track.filed_on < track.police_contacted_on
        and "filed_on" not in problems
    ):
        problems["filed_on"] = _(
            "De aangifte kan niet eerder zijn dan het eerste contact met de politie."
        )
    if track.outcome and track.outcome not in AangifteOutcome.values:
        problems["outcome"] = _("Kies een uitkomst uit de lijst.")
    for name, limit in (
        ("report_number", REPORT_NUMBER_MAX),
        ("employer", EMPLOYER_MAX),
        ("outcome_note", OUTCOME_NOTE_MAX),
    ):
        if len(getattr(track, name)) > limit:
            problems[name] = _("Dit is te lang: hoogstens %(limit)s tekens.") % {"limit": limit}
    return problems


def track_check(track: AangifteTrack) -> None:
    problems = track_problems(track)
    if problems:
        raise ValidationError(problems)


def step_label(value: str) -> str:
    """The words for a step value: "Aangifte gedaan", "Uitkomst bekend: Veroordeling"."""
    if value.startswith("outcome_"):
        code = value.removeprefix("outcome_")
        outcome = AangifteOutcome(code).label if code in AangifteOutcome.values else code
        return f"{AangifteStep.OUTCOME.label}: {outcome}"
    if value in AangifteStep.values:
        return str(AangifteStep(value).label)
    return value


@lru_cache(maxsize=4)
def _step_values_by_token(identifier_key: str) -> dict[str, str]:
    from portal.crypto import fact_token

    return {fact_token("aangifte", value): value for value in STEP_VALUES}


def stage_from_tokens(tokens: str) -> str:
    """The stage of an incident from its `aangifte_tokens` alone (the queue: no decryption):
    each token is looked up among the keyed tokens of the step values."""
    from django.conf import settings

    by_token = _step_values_by_token(settings.IDENTIFIER_HASH_KEY)
    return stage_of(by_token[token] for token in (tokens or "").split() if token in by_token)


def track_lines(track: AangifteTrack) -> list[str]:
    """The track in a few lines for a facts list or a printed file ([] when empty)."""
    from django.utils.formats import date_format

    lines = []
    for value in track.steps():
        line = step_label(value)
        if value == AangifteStep.POLICE_CONTACTED and track.police_contacted_on:
            line += f" ({date_format(track.police_contacted_on, 'j F Y')})"
        if value == AangifteStep.FILED:
            if track.filed_on:
                line += f" ({date_format(track.filed_on, 'j F Y')})"
            if track.report_number:
                line += ", " + _("registratienummer %(number)s") % {"number": track.report_number}
        if value == AangifteStep.EMPLOYER_FILED and track.employer:
            line += f" ({track.employer})"
        lines.append(line)
    if track.outcome_note:
        lines.append(track.outcome_note)
    return lines
