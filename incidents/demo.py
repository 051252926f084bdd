"""Demo incidents, so that a new user sees a living queue on first run. Used by `seed_demo` only.

Each demo incident is a `Story`: the facts an officeholder filed and the steps that followed
(the desk viewing, taking, triaging, messaging, closing...). All stories are played in one
timeline, oldest moment first, and every step goes through `incidents.services` exactly as in
the running portal, so the rows are what the real code writes. Two things are added on top:

- **Time.** Services stamp `timezone.now()`, but a story happened days or weeks ago. Each
  step notes its story moment on a `DemoClock`; at the end everything the steps wrote on the
  demo incidents (status times, events, messages, notes, evidence, escalations, links) is
  re-dated to the moment of the step that wrote it, in a few bulk updates. The triage deadline
  is then computed again from the re-dated submission time with `incidents.deadlines`, so
  "overdue" follows from the desk's own rule: an untriaged report submitted a week ago is
  overdue, a serious one of 90 minutes is not yet.
- **Idempotency.** A story's incident has a fixed `submission_token` (`demo_token`, a uuid5 of
  the story's key). A story whose incident exists is skipped whole, so running `seed_demo` again
  changes nothing, and a demo incident that someone has since worked on stays as they left it.

Escalation rules and support cases belong to `support`: `support/demo.py` continues some of
these stories (rules escalate them, the Ondersteuningsteam works on them) and explains how the
events recorded here are kept from being processed a second time. This module never imports
`support`.

The stories are chosen to match what the default escalation rules would do: nothing here
would be escalated by a rule, and every serious report that is still with the desk is either
triaged or younger than four hours (the triage watchdog would escalate it otherwise). Each
demo officeholder has at most one report in the last 30 days that the repeat rule counts, so
a report that someone files while trying the demo is not escalated as "the third in 30 days".
"""

import io
import uuid
import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils import timezone
from PIL import Image, ImageDraw

from incidents import deadlines, services
from incidents.constants import (
    SERIOUS_SEVERITIES,
    Advice,
    AffectedPerson,
    Channel,
    IdentifierKind,
    Impact,
    IncidentType,
    MessageAudience,
    PerpetratorKind,
    PerpetratorKnown,
    PerpetratorRelation,
    PoliceStatus,
    ReporterSeverity,
    RiskFlag,
    SupportWish,
    TriageSeverity,
)
from incidents.evidence import InspectedFile, evidence_inspect
from incidents.models import Escalation, Event, Evidence, Incident, IncidentLink, Message, Note
from portal.constants import Role
from portal.models import User

# Never change these: the tokens derived from them are how a later run recognises its incidents.
DEMO_NAMESPACE = uuid.UUID("6f1c7a52-2b8e-4d0c-9a4e-0d9c1b7e5a31")


def demo_token(key: str) -> uuid.UUID:
    """The fixed submission token of the demo story `key`."""
    return uuid.uuid5(DEMO_NAMESPACE, f"incidents.demo:{key}")


def demo_incident(key: str) -> Incident | None:
    """The incident of the demo story `key`, if it was seeded."""
    return Incident.objects.filter(submission_token=demo_token(key)).first()


@dataclass(frozen=True)
class Step:
    """Something that happened to an incident, `after` its submission.

    `by` is "officeholder", "desk" (a registrar of the incident's desk), "support" (a member
    of the Ondersteuningsteam) or a username. `options` holds what the action needs besides
    `text` (see `step_run`).
    """

    after: timedelta
    action: str
    by: str = "desk"
    text: str = ""
    options: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    """One demo incident: who filed what, how long ago, and what happened next."""

    key: str
    officeholder: str
    age: timedelta  # submitted this long before seeding
    facts: Mapping
    occurred_before: timedelta = timedelta(hours=3)  # how long before submitting it happened
    time_known: bool = True
    identifiers: Sequence[tuple[str, str]] = ()
    evidence: Sequence[str] = ()  # keys of DEMO_FILES
    quick: bool = False
    filed_by_desk: bool = False
    steps: Sequence[Step] = ()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


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


DREIGMAIL = """\
From: Een bezorgde burger <anoniem4821@example.net>
To: wethouder.devries@utrecht.example
Subject: Begroting
Date: Thu, 10 Sep 2026 23:14:05 +0200
Message-ID: <demo-dreigmail-1@example.net>
Content-Type: text/plain; charset=utf-8

Mevrouw De Vries,

Jij gaat hier spijt van krijgen. We weten je te vinden, ook buiten het stadhuis.

(Demobericht van het Meldpunt Weerbaar Bestuur.)
"""

VERKLARING = """\
Verklaring medewerker wijkcentrum Overvecht (demo)

Na afloop van de inspraakavond over de windmolens zag ik vier mannen achter de wethouder
aan lopen naar de uitgang. Een van hen duwde haar tegen de glazen deur en spuugde naar haar.
Ik ben ertussen gaan staan en heb gezegd dat ik de politie zou bellen. De mannen zijn
daarna via de parkeerplaats vertrokken. De camerabeelden van de hal zijn bewaard.
"""

DEMO_FILES = {
    "x-post": (
        "schermafbeelding-x.png",
        lambda: _screenshot_png(
            "X  -  @boze_burger_030",
            [
                "Die wethouder moet opgehangen worden na dat opvangdebat.",
                "Iemand moet haar eens een lesje leren. #utrecht",
                "(demo-schermafbeelding)",
            ],
        ),
    ),
    "facebook-post": (
        "schermafbeelding-facebook.png",
        lambda: _screenshot_png(
            "Facebook  -  Henk Zwolle",
            [
                "Als die burgemeester die noodopvang doorzet,",
                "staan we bij haar voor de deur. Dan zal ze het merken.",
                "(demo-schermafbeelding)",
            ],
        ),
    ),
    "doxing-post": (
        "schermafbeelding-adres-op-x.png",
        lambda: _screenshot_png(
            "X  -  @zwolle_wakker",
            [
                "Hier woont onze burgemeester: [adres weggelaten in de demo].",
                "Ga maar eens langs, dan hoort ze wat Zwolle ervan vindt.",
                "(demo-schermafbeelding)",
            ],
        ),
    ),
    "envelop": (
        "foto-envelop.png",
        lambda: _screenshot_png(
            "Foto van de envelop",
            [
                "Handgeschreven adres: Provinciehuis, t.a.v. J. Bakker",
                "Inhoud: briefje 'de volgende is niet leeg' en een kogel",
                "(demo-afbeelding)",
            ],
        ),
    ),
    "sticker": (
        "foto-sticker.png",
        lambda: _screenshot_png(
            "Sticker op lantaarnpaal",
            ["[foto van het Statenlid]  LANDVERRADER", "(demo-afbeelding)"],
        ),
    ),
    "dreigmail": ("dreigmail.eml", lambda: DREIGMAIL.encode()),
    "verklaring": ("verklaring-medewerker-wijkcentrum.txt", lambda: VERKLARING.encode()),
}


def demo_file(key: str) -> InspectedFile:
    """A demo evidence file, checked by `evidence_inspect` like any upload."""
    name, make = DEMO_FILES[key]
    return evidence_inspect(name=name, data=make())


# --- The stories ------------------------------------------------------------------------------
# Keys are stable (they make the submission tokens). support/demo.py continues the stories
# marked "(support)" below: those are escalated by the rules right after submission.

STORIES: Sequence[Story] = (
    # Gemeente Utrecht: wethouder Anouk de Vries ---------------------------------------------
    Story(
        key="utrecht-markt",
        officeholder="wethouder.utrecht",
        age=days(8) + hours(3),
        occurred_before=hours(26),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Uitgescholden door een marktbezoeker over de nieuwe parkeertarieven.",
            "description": (
                "Zaterdagochtend sprak een man mij aan bij een groentekraam op de markt. Hij "
                "schreeuwde dat ik een 'zakkenvuller' ben en dat ik 'het wel zal merken' als de "
                "parkeertarieven omhoog gaan. Omstanders keken toe; na een paar minuten liep hij "
                "weg."
            ),
            "location": "Weekmarkt Vredenburg, Utrecht",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "perpetrator_description": "Man van rond de vijftig, grijze jas, fietste weg.",
            "impacts": [Impact.LESS_JOB_SATISFACTION],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
    ),
    Story(
        key="utrecht-x-wethouder",
        officeholder="wethouder.utrecht",
        age=days(35) + hours(5),
        occurred_before=hours(14),
        identifiers=[(IdentifierKind.HANDLE, "@boze_burger_030")],
        evidence=["x-post"],
        facts={
            "types": [IncidentType.THREAT],
            "summary": "Op X schreef @boze_burger_030 dat ik 'opgehangen moet worden'.",
            "description": (
                "Na het raadsdebat over de nieuwe opvanglocatie plaatste het account "
                "@boze_burger_030 een bericht dat ik opgehangen moet worden en dat iemand mij "
                "'een lesje moet leren'. Het account volgt mij sinds de verkiezingen en reageert "
                "op bijna alles wat ik plaats."
            ),
            "channel": Channel.SOCIAL_MEDIA,
            "platform": "X",
            "links": "https://x.com/boze_burger_030/status/1850000000000000001",
            "reporter_severity": ReporterSeverity.SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "perpetrator_description": "Anoniem account; naam en woonplaats onbekend.",
            "impacts": [Impact.CHANGED_BEHAVIOUR, Impact.MENTAL_HEALTH],
            "police_status": PoliceStatus.WANTS_ADVICE,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(minutes(40), "view"),
            Step(minutes(45), "take"),
            Step(
                minutes(70),
                "triage",
                text=(
                    "Oproep tot geweld, vermoedelijk strafbaar (bedreiging). Aangifte aangeraden "
                    "en het account bij X gemeld."
                ),
                options={
                    "severity": TriageSeverity.HIGH,
                    "flags": [RiskFlag.CRIMINAL_OFFENCE_SUSPECTED],
                    "advice": [Advice.AANGIFTE],
                },
            ),
            Step(
                minutes(80),
                "message",
                text=(
                    "Beste mevrouw De Vries, wij hebben uw melding gelezen. Dit bericht is "
                    "strafbaar en wij raden u aan aangifte te doen. Zullen wij een afspraak met "
                    "de politie voor u maken? U kunt daarbij het adres van het stadhuis opgeven "
                    "in plaats van uw huisadres."
                ),
            ),
            Step(
                hours(5),
                "message",
                by="officeholder",
                text="Graag. Ik kan donderdagmiddag. Moet ik de schermafbeelding meenemen?",
            ),
            Step(
                days(1),
                "message",
                text=(
                    "De afspraak staat: donderdag om 14.00 uur op het politiebureau Paardenveld. "
                    "Neem de schermafbeelding mee; hij zit ook in uw dossier bij ons."
                ),
            ),
            Step(
                days(1) + minutes(5),
                "note",
                text=(
                    "Wijkagent Binnenstad gebeld; VPT-markering voor het adres besproken. "
                    "Account @boze_burger_030 in de gaten houden."
                ),
            ),
        ],
    ),
    Story(
        key="utrecht-inspraakavond",  # (support) physical violence: in progress
        officeholder="wethouder.utrecht",
        age=days(40) + hours(2),
        occurred_before=hours(15),
        evidence=["verklaring"],
        facts={
            "types": [IncidentType.PHYSICAL_VIOLENCE, IncidentType.VERBAL_AGGRESSION],
            "summary": "Na de inspraakavond over de windmolens geduwd en bespuugd.",
            "description": (
                "Bij het verlaten van de zaal liep een groep van vier mannen achter mij aan. "
                "Een van hen duwde mij tegen de deur en spuugde naar mij. Een medewerker van het "
                "wijkcentrum kwam tussenbeide. Ik heb een blauwe plek op mijn arm."
            ),
            "location": "Wijkcentrum Overvecht, na de inspraakavond",
            "channel": Channel.IN_PERSON_MEETING,
            "reporter_severity": ReporterSeverity.VERY_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.GROUP,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "perpetrator_description": (
                "Vier mannen; een van hen ken ik van eerdere inspraakavonden over windenergie."
            ),
            "impacts": [Impact.CHANGED_BEHAVIOUR, Impact.MENTAL_HEALTH, Impact.IMPACT_ON_FAMILY],
            "affected_people": [AffectedPerson.PARTNER],
            "police_status": PoliceStatus.REPORTED,
            "police_report_number": "2026-DEMO-104233",
            "police_used_work_address": True,
            "police_vpt_requested": True,
            "support_wish": SupportWish.SUPPORT_FROM_TEAM,
        },
    ),
    Story(
        key="utrecht-supermarkt",
        officeholder="wethouder.utrecht",
        age=days(20) + hours(4),
        occurred_before=hours(2),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Vervelende opmerking over de afvalinzameling in de supermarkt.",
            "location": "Supermarkt in Lunetten",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.NOT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "support_wish": SupportWish.REGISTRATION_ONLY,
        },
        steps=[
            Step(
                hours(3),
                "withdraw",
                by="officeholder",
                text="Bij nader inzien was het een gewone discussie. Ik trek de melding in.",
            ),
        ],
    ),
    Story(
        key="utrecht-dreigmail",
        officeholder="wethouder.utrecht",
        age=days(75) + hours(9),
        occurred_before=hours(10),
        evidence=["dreigmail"],
        facts={
            "types": [IncidentType.THREAT],
            "summary": "Dreigmail na de raadsvergadering over de begroting.",
            "description": (
                "De avond na de raadsvergadering kreeg ik een e-mail op mijn werkadres: 'Jij "
                "gaat hier spijt van krijgen. We weten je te vinden, ook buiten het stadhuis.' "
                "De afzender gebruikt een anoniem adres. De e-mail zit als bijlage bij deze "
                "melding."
            ),
            "channel": Channel.EMAIL,
            "reporter_severity": ReporterSeverity.SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "impacts": [Impact.CHANGED_BEHAVIOUR],
            "police_status": PoliceStatus.WANTS_ADVICE,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(minutes(30), "view"),
            Step(minutes(35), "take"),
            Step(
                hours(1),
                "triage",
                text="Bedreiging per e-mail; aangifte aangeraden.",
                options={
                    "severity": TriageSeverity.MEDIUM,
                    "flags": [RiskFlag.CRIMINAL_OFFENCE_SUSPECTED],
                    "advice": [Advice.AANGIFTE],
                },
            ),
            Step(
                hours(1) + minutes(10),
                "message",
                text=(
                    "Beste mevrouw De Vries, wij hebben de e-mail bekeken. Dit is een bedreiging "
                    "en wij raden u aan aangifte te doen. Bewaar de originele e-mail; wij hebben "
                    "een kopie in uw dossier."
                ),
            ),
            Step(
                days(2),
                "message",
                by="officeholder",
                text="Ik heb gisteren aangifte gedaan. De politie neemt contact met me op.",
            ),
            Step(
                days(21),
                "close",
                text=(
                    "Aangifte gedaan. De politie heeft de afzender gevonden en een "
                    "waarschuwingsgesprek gevoerd; er kwamen geen nieuwe e-mails. Afgesloten in "
                    "overleg met mevrouw De Vries."
                ),
            ),
        ],
    ),
    # Gemeente Utrecht: raadslid Mehmet Yilmaz -------------------------------------------------
    Story(
        key="utrecht-x-raadslid",  # (support) same handle as utrecht-x-wethouder: acknowledged
        officeholder="raadslid.utrecht",
        age=days(1) + hours(2),
        occurred_before=hours(1),
        identifiers=[(IdentifierKind.HANDLE, "https://x.com/Boze_Burger_030")],
        facts={
            "types": [IncidentType.INTIMIDATION, IncidentType.THREAT],
            "summary": "Reactie op X: 'we weten waar je woont, raadslid'.",
            "description": (
                "Onder mijn bericht over de opvanglocatie reageerde een account met 'we weten "
                "waar je woont, raadslid. Kijk maar uit.' Ik heb een schermafbeelding gemaakt, "
                "maar die staat nog op mijn telefoon."
            ),
            "channel": Channel.SOCIAL_MEDIA,
            "platform": "X",
            "links": "https://x.com/Boze_Burger_030/status/1862000000000000042",
            "reporter_severity": ReporterSeverity.SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "impacts": [Impact.CHANGED_BEHAVIOUR],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
    ),
    Story(
        key="utrecht-appgroep",  # (support) asks for the team: returned to the desk
        officeholder="raadslid.utrecht",
        age=days(33) + hours(6),
        occurred_before=days(1),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION, IncidentType.INTIMIDATION],
            "summary": "Al weken uitgescholden in de WhatsApp-groep van de buurt.",
            "description": (
                "Sinds ik me uitsprak over de herinrichting van het plein word ik in de "
                "buurtgroep steeds uitgescholden door twee buurtbewoners. Andere bewoners "
                "doen er niets aan. Ik wil graag met iemand praten over hoe ik hiermee omga."
            ),
            "channel": Channel.OTHER_ONLINE,
            "platform": "WhatsApp-groep van de buurt",
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.GROUP,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "impacts": [Impact.LESS_JOB_SATISFACTION, Impact.MENTAL_HEALTH],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.SUPPORT_FROM_TEAM,
        },
    ),
    Story(
        key="utrecht-auto",
        officeholder="raadslid.utrecht",
        age=days(45) + hours(8),
        occurred_before=hours(12),
        time_known=False,
        facts={
            "types": [IncidentType.PROPERTY_DAMAGE, IncidentType.INTIMIDATION],
            "summary": "Auto bekrast met het woord 'verrader' na de stemming over parkeren.",
            "description": (
                "Toen ik na de raadsvergadering bij mijn auto kwam, stond er met grote letters "
                "'VERRADER' in de lak gekrast. De auto stond op de parkeerplaats achter het "
                "stadhuis."
            ),
            "location": "Parkeerplaats achter het stadhuis",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "impacts": [Impact.LESS_JOB_SATISFACTION],
            "police_status": PoliceStatus.REPORTED,
            "police_report_number": "2026-DEMO-088120",
            "police_used_work_address": True,
            "support_wish": SupportWish.REGISTRATION_ONLY,
        },
        steps=[
            Step(hours(2), "view"),
            Step(hours(3), "take"),
            Step(
                hours(3) + minutes(10),
                "triage",
                text="Vernieling met intimiderende tekst. Aangifte is al gedaan.",
                options={
                    "severity": TriageSeverity.LOW,
                    "flags": [RiskFlag.CRIMINAL_OFFENCE_SUSPECTED],
                    "advice": [Advice.AANGIFTE],
                },
            ),
            Step(
                days(1),
                "close",
                text=(
                    "Geregistreerd. Aangifte is gedaan en de schade loopt via de verzekering. "
                    "De gemeente bekijkt camera's bij de parkeerplaats. Geen verdere actie van het "
                    "meldpunt nodig."
                ),
            ),
        ],
    ),
    Story(
        key="utrecht-commissie",
        officeholder="raadslid.utrecht",
        age=days(70) + hours(2),
        occurred_before=hours(16),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Uitgescholden door een inspreker tijdens de commissie Mobiliteit.",
            "description": (
                "Een inspreker noemde mij tijdens de commissievergadering 'een leugenaar die "
                "terug moet naar waar hij vandaan komt'. De voorzitter greep pas na een tijdje in."
            ),
            "location": "Stadhuis Utrecht, commissiezaal",
            "channel": Channel.IN_PERSON_MEETING,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "perpetrator_description": "Inspreker; zijn naam staat op de sprekerslijst.",
            "impacts": [Impact.LESS_JOB_SATISFACTION],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(days(1), "view"),
            Step(days(1) + minutes(5), "take"),
            Step(
                days(1) + minutes(15),
                "triage",
                text="Met de griffie besproken hoe de voorzitter insprekers aanspreekt.",
                options={
                    "severity": TriageSeverity.LOW,
                    "types": [IncidentType.VERBAL_AGGRESSION, IncidentType.DISCRIMINATION],
                },
            ),
            Step(
                days(3),
                "close",
                text=(
                    "Besproken met de griffie: de voorzitter spreekt insprekers voortaan meteen "
                    "aan op hun toon en kan het woord ontnemen. Geregistreerd."
                ),
            ),
        ],
    ),
    Story(
        key="utrecht-commissie-snel",  # the quick report of the same evening: a duplicate
        officeholder="raadslid.utrecht",
        age=days(70) + hours(14),
        occurred_before=hours(4),
        quick=True,
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Inspreker schold mij uit in de commissie.",
        },
        steps=[
            Step(
                days(1) + hours(12),
                "duplicate",
                options={"original": "utrecht-commissie"},
            ),
        ],
    ),
    # Gemeente Zwolle: burgemeester Petra Jansen -----------------------------------------------
    Story(
        key="zwolle-facebook",
        officeholder="burgemeester.zwolle",
        age=minutes(90),
        occurred_before=hours(2),
        identifiers=[(IdentifierKind.HANDLE, "https://www.facebook.com/henk.zwolle.1970")],
        evidence=["facebook-post"],
        facts={
            "types": [IncidentType.THREAT],
            "summary": "Bedreiging via Facebook na het besluit over de noodopvang.",
            "description": (
                "In een openbare Facebookgroep schreef iemand dat 'ze bij mij voor de deur "
                "staan' als de noodopvang doorgaat. Het bericht is al tientallen keren gedeeld."
            ),
            "channel": Channel.SOCIAL_MEDIA,
            "platform": "Facebook",
            "links": "https://www.facebook.com/groups/zwolle.demo/posts/1000",
            "reporter_severity": ReporterSeverity.SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "impacts": [Impact.CHANGED_BEHAVIOUR],
            "police_status": PoliceStatus.WANTS_ADVICE,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[Step(minutes(20), "view")],
    ),
    Story(
        key="zwolle-doxing",  # (support) doxing: closed with an outcome
        officeholder="burgemeester.zwolle",
        age=days(50) + hours(3),
        occurred_before=hours(3),
        identifiers=[(IdentifierKind.HANDLE, "@zwolle_wakker")],
        evidence=["doxing-post"],
        facts={
            "types": [IncidentType.DOXING, IncidentType.INTIMIDATION],
            "summary": "Mijn woonadres is op X gezet met de oproep 'ga maar eens langs'.",
            "description": (
                "Het account @zwolle_wakker plaatste mijn woonadres met een foto van mijn huis "
                "en de oproep om 'eens langs te gaan'. Mijn man en kinderen zijn ongerust."
            ),
            "channel": Channel.SOCIAL_MEDIA,
            "platform": "X",
            "reporter_severity": ReporterSeverity.VERY_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "impacts": [Impact.MENTAL_HEALTH, Impact.IMPACT_ON_FAMILY, Impact.CHANGED_BEHAVIOUR],
            "affected_people": [AffectedPerson.PARTNER, AffectedPerson.CHILDREN],
            "police_status": PoliceStatus.POLICE_NOTIFIED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
    ),
    Story(
        key="zwolle-demonstratie",
        officeholder="burgemeester.zwolle",
        age=days(85) + hours(20),
        occurred_before=hours(20),
        facts={
            "types": [IncidentType.INTIMIDATION],
            "summary": "Intimiderende demonstranten bij de ingang van het stadhuis.",
            "description": (
                "Een groep van ongeveer twintig demonstranten blokkeerde de ingang toen ik naar "
                "binnen wilde. Ze riepen mijn naam en filmden mij van dichtbij."
            ),
            "location": "Grote Kerkplein, voor het stadhuis van Zwolle",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "perpetrator_kind": PerpetratorKind.GROUP,
            "impacts": [Impact.NONE],
            "affected_people": [AffectedPerson.STAFF],
            "police_status": PoliceStatus.POLICE_NOTIFIED,
            "support_wish": SupportWish.REGISTRATION_ONLY,
        },
        steps=[
            Step(hours(2), "view"),
            Step(hours(2) + minutes(5), "take"),
            Step(
                hours(2) + minutes(20),
                "triage",
                options={
                    "severity": TriageSeverity.LOW,
                    "advice": [Advice.SECURITY_MEASURES],
                },
                text="Toezicht bij de ingang afgesproken met politie en bodes.",
            ),
            Step(
                days(1),
                "message",
                text=(
                    "Beste mevrouw Jansen, wij hebben met de politie afgesproken dat er bij een "
                    "volgende demonstratie toezicht is bij de ingang. De bodes weten ervan."
                ),
            ),
            Step(
                days(3),
                "close",
                text=(
                    "Geregistreerd. Bij volgende demonstraties is er toezicht bij de ingang van "
                    "het stadhuis; de bodes begeleiden bestuurders naar binnen."
                ),
            ),
        ],
    ),
    # Provincie Overijssel: Statenlid Johan Bakker ---------------------------------------------
    Story(
        key="overijssel-telefoon",
        officeholder="statenlid.overijssel",
        age=days(9) + hours(4),
        occurred_before=hours(1),
        filed_by_desk=True,
        identifiers=[(IdentifierKind.PHONE, "06 12345678")],
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Telefonisch uitgescholden over het stikstofbeleid.",
            "description": (
                "De heer Bakker belde het meldpunt: een man belde hem op zijn werknummer en "
                "schold hem een kwartier lang uit over het stikstofbeleid. Het nummer is bekend."
            ),
            "channel": Channel.PHONE,
            "reporter_severity": ReporterSeverity.NOT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.CITIZEN,
            "impacts": [Impact.LESS_JOB_SATISFACTION],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(days(1), "take"),
            Step(
                days(1) + minutes(5),
                "note",
                text=(
                    "Beller is bekend bij de klachtenlijn van de provincie. Eerst navragen bij "
                    "Communicatie voordat we een ernst kiezen."
                ),
            ),
        ],
    ),
    Story(
        key="overijssel-kogel",  # escalated by the desk; (support) closed with an outcome
        officeholder="statenlid.overijssel",
        age=days(40) + hours(6),
        occurred_before=hours(3),
        evidence=["envelop"],
        facts={
            "types": [IncidentType.THREAT],
            "summary": "Dreigbrief met een kogel in de post op het provinciehuis.",
            "description": (
                "In de post op mijn naam zat een envelop met een kogel en een briefje: 'de "
                "volgende is niet leeg'. De bode heeft de envelop apart gelegd."
            ),
            "location": "Provinciehuis Overijssel, Zwolle",
            "channel": Channel.LETTER,
            "reporter_severity": ReporterSeverity.VERY_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "impacts": [Impact.MENTAL_HEALTH, Impact.IMPACT_ON_FAMILY],
            "affected_people": [AffectedPerson.PARTNER],
            "police_status": PoliceStatus.REPORTED,
            "police_report_number": "2026-DEMO-097551",
            "police_used_work_address": True,
            "police_vpt_requested": True,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(minutes(25), "view"),
            Step(minutes(30), "take"),
            Step(
                minutes(45),
                "escalate",
                text=(
                    "Kogel in de envelop. De politie is ingeschakeld. Graag beveiligingsadvies "
                    "en juridische hulp via het Ondersteuningsteam."
                ),
            ),
            Step(
                minutes(50),
                "message",
                options={"audience": MessageAudience.STAFF},
                text=(
                    "De politie Oost-Nederland heeft de brief meegenomen voor onderzoek. "
                    "Contactpersoon is de recherche in Zwolle."
                ),
            ),
        ],
    ),
    Story(
        key="overijssel-stickers",
        officeholder="statenlid.overijssel",
        age=days(100) + hours(5),
        occurred_before=hours(10),
        time_known=False,
        evidence=["sticker"],
        facts={
            "types": [IncidentType.INTIMIDATION],
            "summary": "Stickers met mijn foto en 'landverrader' op lantaarnpalen.",
            "description": (
                "Rond het station hangen op zeker tien lantaarnpalen stickers met mijn foto en "
                "het woord 'landverrader'. Een buurtbewoner stuurde mij een foto."
            ),
            "location": "Rond het station van Deventer",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "impacts": [Impact.LESS_JOB_SATISFACTION],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        steps=[
            Step(hours(3), "view"),
            Step(hours(3) + minutes(5), "take"),
            Step(
                hours(3) + minutes(15),
                "triage",
                text="Verwijdering van de stickers gevraagd aan de gemeente Deventer.",
                options={"severity": TriageSeverity.LOW},
            ),
            Step(
                days(4),
                "close",
                text=(
                    "De gemeente Deventer heeft de stickers laten verwijderen. Geregistreerd; "
                    "de heer Bakker meldt het als er nieuwe verschijnen."
                ),
            ),
        ],
    ),
    # Openbaar lichaam Saba: eilandsraadslid Carla Hassell -------------------------------------
    Story(
        key="saba-whatsapp",  # (support) threat to her children: new, past the 4-hour mark
        officeholder="eilandsraadslid.saba",
        age=hours(5),
        occurred_before=minutes(40),
        facts={
            "types": [IncidentType.THREAT_TO_FAMILY, IncidentType.THREAT],
            "summary": "Via WhatsApp gedreigd dat mijn kinderen 'iets zal overkomen'.",
            "description": (
                "Een onbekend nummer stuurde mij een bericht dat mijn kinderen 'iets zal "
                "overkomen' als ik blijf praten over de haven. Iedereen kent hier iedereen; mijn "
                "kinderen lopen elke dag alleen naar school."
            ),
            "channel": Channel.OTHER_ONLINE,
            "platform": "WhatsApp",
            "reporter_severity": ReporterSeverity.VERY_SERIOUS,
            "perpetrator_known": PerpetratorKnown.UNKNOWN,
            "impacts": [Impact.MENTAL_HEALTH, Impact.IMPACT_ON_FAMILY],
            "affected_people": [AffectedPerson.CHILDREN, AffectedPerson.PARTNER],
            "police_status": PoliceStatus.POLICE_NOTIFIED,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
    ),
    Story(
        key="saba-haven",
        officeholder="eilandsraadslid.saba",
        age=days(45) + hours(1),
        occurred_before=hours(5),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "summary": "Uitgescholden bij de haven van Fort Bay over de havenkosten.",
            "location": "Fort Bay, Saba",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.NOT_SERIOUS,
            "perpetrator_known": PerpetratorKnown.KNOWN,
            "perpetrator_kind": PerpetratorKind.INDIVIDUAL,
            "perpetrator_relation": PerpetratorRelation.BUSINESS,
            "impacts": [Impact.NONE],
            "police_status": PoliceStatus.NOT_REPORTED,
            "support_wish": SupportWish.REGISTRATION_ONLY,
        },
    ),
)


# --- Playing the stories ----------------------------------------------------------------------


class People:
    """The demo accounts a step acts as, looked up once."""

    def __init__(self):
        self._cache: dict[tuple, User | None] = {}

    def _get(self, key: tuple, **lookup) -> User | None:
        if key not in self._cache:
            self._cache[key] = User.objects.filter(**lookup).order_by("username").first()
        return self._cache[key]

    def actor(self, by: str, incident: Incident) -> User:
        if by == "officeholder":
            user = incident.officeholder
        elif by == "desk":
            user = self._get(
                ("desk", incident.desk_id), role=Role.REGISTRAR, desk_id=incident.desk_id
            )
        elif by == "support":
            user = self._get(("support",), role=Role.SUPPORT, is_active=True)
        else:
            user = self._get(("user", by), username=by)
        if user is None:
            raise LookupError(f"No demo account acts as {by!r} for {incident.reference}.")
        return user


def step_run(*, incident: Incident, step: Step, people: People) -> None:
    """Take one step of a story through the incident services."""
    incident.refresh_from_db()
    actor = people.actor(step.by, incident)
    options = step.options
    match step.action:
        case "view":
            services.incident_mark_viewed(incident=incident, actor=actor)
        case "take":
            services.incident_take(incident=incident, actor=actor, version=incident.version)
        case "assign":
            services.incident_assign(
                incident=incident, actor=actor, assignee=actor, version=incident.version
            )
        case "triage":
            services.incident_triage(
                incident=incident,
                actor=actor,
                version=incident.version,
                triage_severity=options["severity"],
                risk_flags=options.get("flags", []),
                types=options.get("types", incident.types),
                advice_given=options.get("advice", []),
                advice_note=step.text,
            )
        case "message":
            services.message_send(
                incident=incident,
                actor=actor,
                audience=options.get("audience", MessageAudience.OFFICEHOLDER_THREAD),
                body=step.text,
            )
        case "note":
            services.note_add(incident=incident, actor=actor, body=step.text)
        case "follow_up":
            services.incident_follow_up_add(incident=incident, actor=actor, text=step.text)
        case "close":
            services.incident_close(
                incident=incident, actor=actor, outcome=step.text, version=incident.version
            )
        case "withdraw":
            services.incident_withdraw(
                incident=incident, actor=actor, reason=step.text, version=incident.version
            )
        case "escalate":
            services.incident_escalate(
                incident=incident, actor=actor, reason=step.text, version=incident.version
            )
        case "duplicate":
            original = demo_incident(options["original"])
            services.incident_mark_duplicate(
                incident=incident, original=original, actor=actor, version=incident.version
            )
        case _:
            raise ValueError(f"Unknown demo step {step.action!r}.")


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
        """Re-date `fields` of the rows in `queryset` that this run wrote (two queries);
        returns those rows."""
        written = reduce(or_, (Q(**{f"{name}__gte": self.since}) for name in fields))
        rows = list(queryset.filter(written))
        for row in rows:
            for name in fields:
                value = getattr(row, name)
                if value is not None and value >= self.since:
                    setattr(row, name, self.story_time(value))
        queryset.model.objects.bulk_update(rows, fields, batch_size=500)
        return rows

    def redate_incidents(self, incident_ids: Iterable[int]) -> None:
        """Re-date the incidents and everything recorded on them."""
        ids = list(incident_ids)
        self.redate(
            Incident.objects.filter(pk__in=ids),
            ["submitted_at", "updated_at", "triaged_at", "closed_at"],
        )
        self.redate(Event.objects.filter(incident_id__in=ids), ["created_at"])
        self.redate(Message.objects.filter(incident_id__in=ids), ["created_at"])
        self.redate(Note.objects.filter(incident_id__in=ids), ["created_at"])
        self.redate(Evidence.objects.filter(incident_id__in=ids), ["uploaded_at"])
        self.redate(Escalation.objects.filter(incident_id__in=ids), ["created_at", "closed_at"])
        self.redate(
            IncidentLink.objects.filter(Q(from_incident_id__in=ids) | Q(to_incident_id__in=ids)),
            ["created_at"],
        )


def triage_deadline_refresh(incident: Incident) -> None:
    """Compute the stored triage deadline again from the (re-dated) submission time."""
    due = deadlines.triage_due_at(
        submitted_at=incident.submitted_at,
        serious=incident.reporter_severity in SERIOUS_SEVERITIES,
        time_zone=incident.organisation.time_zone,
    )
    Incident.objects.filter(pk=incident.pk).update(triage_due_at=due)


def _facts(story: Story, submitted_at: datetime, time_zone: str) -> dict:
    occurred = timezone.localtime(
        submitted_at - story.occurred_before, zoneinfo.ZoneInfo(time_zone)
    )
    facts = dict(story.facts)
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
            User.objects.filter(role=Role.REGISTRAR, desk_id=officeholder.organisation.desk_id)
            .order_by("username")
            .first()
        )
    return services.incident_submit(
        officeholder=officeholder,
        facts=_facts(story, submitted_at, officeholder.organisation.time_zone),
        quick=story.quick,
        identifiers=story.identifiers,
        files=[demo_file(key) for key in story.evidence],
        submission_token=demo_token(story.key),
        filed_by=filed_by,
    )


def seed(*, password: str) -> None:
    """Create the demo incidents that do not exist yet. Idempotent (see the module docstring)."""
    clock = DemoClock()
    existing = set(
        Incident.objects.filter(
            submission_token__in=[demo_token(story.key) for story in STORIES]
        ).values_list("submission_token", flat=True)
    )
    new = [story for story in STORIES if demo_token(story.key) not in existing]
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
    for at, _order, _number, story, step in timeline:
        clock.step(at)
        if step is None:
            incident = _submit(story=story, submitted_at=at)
            incidents[story.key] = incident
        else:
            incident = incidents[story.key]
            step_run(incident=incident, step=step, people=people)
    clock.redate_incidents(incident.pk for incident in incidents.values())
    for incident in incidents.values():
        incident.refresh_from_db()
        triage_deadline_refresh(incident)
