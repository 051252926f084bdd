"""Charts drawn on the server as SVG geometry (no script, no inline style): the template
draws the bars and lines from these numbers with presentation attributes and classes.

Each chart has a title and a text description, and the page shows the same numbers as a
table next to it. A hidden number ("<5") gets no bar, only its label.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from incidents.statistics import HIDDEN

WIDTH = 640
LABEL_WIDTH = 240
BAR_HEIGHT = 22
GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    y: int
    width: int
    text_x: int


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH


def bar_chart(title: str, rows) -> BarChart:
    """Horizontal bars, one per row (label, count or None)."""
    counts = [row.count for row in rows if row.count is not None]
    largest = max(counts, default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60
    bars = []
    for index, row in enumerate(rows):
        width = 0 if row.count is None else max(1, round(room * row.count / largest))
        bars.append(
            Bar(
                label=row.label[:40],
                value=HIDDEN if row.count is None else str(row.count),
                y=index * (BAR_HEIGHT + GAP),
                width=width,
                text_x=LABEL_WIDTH + width + 6,
            )
        )
    parts = [f"{row.label}: {HIDDEN if row.count is None else row.count}" for row in rows]
    description = _("Staafdiagram. %(parts)s.") % {"parts": "; ".join(parts)}
    return BarChart(title, description, bars, height=max(1, len(rows)) * (BAR_HEIGHT + GAP))


@dataclass(frozen=True)
class Point:
    label: str
    value: str
    x: int
    y: int
    shown: bool


@dataclass(frozen=True)
class TrendChart:
    title: str
    description: str
    points: list[Point]
    line: str  # the polyline's points attribute, through the shown points only
    width: int = WIDTH
    height: int = 220
    base: int = 180


def trend_chart(title: str, trend) -> TrendChart:
    """A line over the periods (oldest first); a hidden period has no point on the line."""
    values = [count for _period, count in trend if count is not None]
    largest = max(values, default=0) or 1
    step = (WIDTH - 80) / max(1, len(trend) - 1)
    points = []
    for index, (period, count) in enumerate(trend):
        y = 180 - round(150 * (count or 0) / largest)
        points.append(
            Point(
                label=period.label,
                value=HIDDEN if count is None else str(count),
                x=40 + round(index * step),
                y=y,
                shown=count is not None,
            )
        )
    line = " ".join(f"{p.x},{p.y}" for p in points if p.shown)
    parts = [f"{p.label}: {p.value}" for p in points]
    description = _("Lijndiagram van het aantal meldingen per periode. %(parts)s.") % {
        "parts": "; ".join(parts)
    }
    return TrendChart(title, description, points, line)
