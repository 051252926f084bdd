"""The Monitor Integriteit en Veiligheid beside the portal's own figures.

The Monitor is a survey of officeholders; the portal counts registered incidents. They
measure different things, so the page says so and shows a portal share only where the
categories match (e.g. the Monitor's "laatste incident via sociale media" beside the share
of incidents that came through social media). The Monitor's figures are data the functional
administrator keeps (`MonitorFigure`, seeded by a migration).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from incidents.constants import Channel, Impact, MonitorGroup, MonitorMeasure
from incidents.models import MonitorFigure

# The portal's share beside each measure: (table key, row label source) or None when the
# portal has nothing that measures the same.
PORTAL_SHARE = {
    MonitorMeasure.SOCIAL_MEDIA: ("channel", Channel.SOCIAL_MEDIA.label),
    MonitorMeasure.PHYSICAL_VIOLENCE: ("monitor_group", MonitorGroup.PHYSICAL.label),
    MonitorMeasure.LESS_PLEASURE: ("impact", Impact.LESS_JOB_SATISFACTION.label),
    MonitorMeasure.CHANGED_BEHAVIOUR: ("impact", Impact.CHANGED_BEHAVIOUR.label),
    MonitorMeasure.MENTAL_HEALTH: ("impact", Impact.MENTAL_HEALTH.label),
}

EXPLANATION = _(
    "De Monitor Integriteit en Veiligheid is een enquête onder ambtsdragers. Dit portaal telt "
    "gemelde incidenten. Dat zijn verschillende dingen: de cijfers zijn niet hetzelfde en "
    "laten samen zien hoe het gaat."
)


@dataclass(frozen=True)
class ComparisonRow:
    measure: str
    editions: list[tuple[int, str, str]]  # (edition, "35%", source)
    portal_share: int | None
    comparable: bool


def _percent(value) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def comparison(figures) -> list[ComparisonRow]:
    """One row per measure with the Monitor's editions and, where it matches, the portal's
    share for the chosen period (already suppressed: None is "<5")."""
    by_measure: dict[str, list] = {}
    for figure in MonitorFigure.objects.order_by("measure", "edition"):
        by_measure.setdefault(figure.measure, []).append(
            (figure.edition, _percent(figure.percent), figure.source)
        )
    rows = []
    for measure, label in MonitorMeasure.choices:
        if measure not in by_measure:
            continue
        share, comparable = None, measure in PORTAL_SHARE
        if comparable:
            key, row_label = PORTAL_SHARE[measure]
            table = figures.table(key)
            share = next((row.share for row in table.rows if row.label == str(row_label)), None)
        rows.append(ComparisonRow(str(label), by_measure[measure], share, comparable))
    return rows
