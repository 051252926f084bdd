"""The figures: counts from the rollup (`FactCount`, `FactPeopleCount`), never from incidents.

A view of the figures is a whole period (month, quarter or year: no free day ranges, which
would isolate single incidents) and a scope (organisations: a desk's own, or all of them,
optionally narrowed to one organisation or province). Every number a page, an export or
the API shows comes out of `suppress`, the one suppression function:

1. a cell about fewer than MINIMUM incidents or fewer than MINIMUM different officeholders
   is hidden ("<5");
2. a cell is also hidden when a larger view the same person can open (the quarter and the
   year around the period, the scope without its filter) differs from it by a small number:
   subtracting the two would give that small number away;
3. a column (one kind of fact) with exactly one hidden cell also hides its next smallest,
   so that the total minus the others does not give the hidden one away.

The month of an incident is the month it was filed, in its organisation's time zone (the
rollup's key). Medians come from the histograms in the rollup (a bucket, never an exact
time), because medians of two periods cannot be added up.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from incidents.constants import (
    ONLINE_CHANNELS,
    TIME_BUCKET_HOURS,
    TIME_BUCKET_MORE,
    Channel,
    EscalationRuleCode,
    FactKind,
    Impact,
    IncidentType,
    MonitorGroup,
    OutcomeCategory,
    ReporterSeverity,
    SupportWish,
)
from incidents.models import FactCount, FactPeopleCount
from portal.constants import Gender, OfficeholderFunction, OrganisationType, Province

MINIMUM = 5
HIDDEN = "<5"

# Pseudo kinds: the incident count grouped by organisation or by its province.
BY_ORGANISATION = "organisation"
BY_PROVINCE = "province"
TOTAL = (FactKind.INCIDENT.value, "")
# The value of a kind's own total cell: (kind, "*") counts every value of the kind.
ALL_VALUES = "*"

Cell = tuple[str, str]  # (kind, value)


class PeriodKind:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CHOICES = (
        (MONTH, _("Maand")),
        (QUARTER, _("Kwartaal")),
        (YEAR, _("Jaar")),
    )


MONTH_NAMES = (
    _("januari"),
    _("februari"),
    _("maart"),
    _("april"),
    _("mei"),
    _("juni"),
    _("juli"),
    _("augustus"),
    _("september"),
    _("oktober"),
    _("november"),
    _("december"),
)


@dataclass(frozen=True, order=True)
class Period:
    """A whole month (number 1-12), quarter (1-4) or year (number 1)."""

    kind: str
    year: int
    number: int = 1

    @property
    def months(self) -> list[date]:
        if self.kind == PeriodKind.MONTH:
            return [date(self.year, self.number, 1)]
        if self.kind == PeriodKind.QUARTER:
            first = 3 * (self.number - 1) + 1
            return [date(self.year, month, 1) for month in range(first, first + 3)]
        return [date(self.year, month, 1) for month in range(1, 13)]

    @property
    def code(self) -> str:
        """How the period is written in a URL and a file name: 2026, 2026-Q1, 2026-03."""
        if self.kind == PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{MONTH_NAMES[self.number - 1]} {self.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{_('kwartaal')} {self.number} {self.year}"
        return str(self.year)

    def enclosing(self) -> list["Period"]:
        """The larger periods one can choose that hold this one."""
        if self.kind == PeriodKind.MONTH:
            return [
                Period(PeriodKind.QUARTER, self.year, (self.number - 1) // 3 + 1),
                Period(PeriodKind.YEAR, self.year),
            ]
        if self.kind == PeriodKind.QUARTER:
            return [Period(PeriodKind.YEAR, self.year)]
        return []

    def previous(self) -> "Period":
        if self.kind == PeriodKind.YEAR:
            return Period(self.kind, self.year - 1)
        last = 12 if self.kind == PeriodKind.MONTH else 4
        if self.number == 1:
            return Period(self.kind, self.year - 1, last)
        return Period(self.kind, self.year, self.number - 1)

    def trend(self, length: int) -> list["Period"]:
        """This period and the ones before it, oldest first."""
        periods = [self]
        while len(periods) < length:
            periods.append(periods[-1].previous())
        return list(reversed(periods))


def period_parse(kind: str, code: str) -> Period | None:
    """The period written as `code` (see `Period.code`), or None when it is not one."""
    try:
        if kind == PeriodKind.YEAR:
            period = Period(kind, int(code))
        elif kind == PeriodKind.QUARTER:
            year, quarter = code.split("-Q")
            period = Period(kind, int(year), int(quarter))
            if not 1 <= period.number <= 4:
                return None
        elif kind == PeriodKind.MONTH:
            year, month = code.split("-")
            period = Period(kind, int(year), int(month))
            if not 1 <= period.number <= 12:
                return None
        else:
            return None
    except ValueError:
        return None
    return period if 2000 <= period.year <= 2100 else None


# --- Reading the rollup -----------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """A set of (month, organisation) pairs, as a union of rectangles."""

    parts: tuple[tuple[tuple[date, ...], tuple[int, ...]], ...]

    def q(self) -> Q:
        condition = Q(pk__in=[])
        for months, organisations in self.parts:
            if months and organisations:
                condition |= Q(month__in=months, organisation_id__in=organisations)
        return condition

    def is_empty(self) -> bool:
        return not any(months and organisations for months, organisations in self.parts)


def region(months: Iterable[date], organisations: Iterable[int]) -> Region:
    return Region(((tuple(sorted(months)), tuple(sorted(organisations))),))


def region_minus(outer: Region, inner_months, inner_organisations) -> Region:
    """`outer` (one rectangle) without the rectangle (inner months x inner organisations)."""
    ((months, organisations),) = outer.parts
    inner_months, inner_organisations = set(inner_months), set(inner_organisations)
    other_months = tuple(m for m in months if m not in inner_months)
    kept_months = tuple(m for m in months if m in inner_months)
    other_organisations = tuple(o for o in organisations if o not in inner_organisations)
    return Region(((other_months, organisations), (kept_months, other_organisations)))


@dataclass
class Tally:
    """Incidents and different officeholders per cell of one region."""

    counts: Counter = field(default_factory=Counter)
    people: Counter = field(default_factory=Counter)


def tally(
    where: Region, *, provinces: Mapping[int, str], kinds: Iterable[str] | None = None
) -> Tally:
    """The counts and numbers of different people of every cell in `where` (four queries)."""
    result = Tally()
    if where.is_empty():
        return result
    counts = FactCount.objects.filter(where.q())
    people = FactPeopleCount.objects.filter(where.q(), count__gt=0)
    if kinds is not None:
        counts = counts.filter(kind__in=list(kinds))
        people = people.filter(kind__in=list(kinds))
    rows = counts.order_by().values_list("kind", "value", "organisation_id").annotate(Sum("count"))
    for kind, value, organisation, total in rows:
        result.counts[(kind, value)] += total
        if (kind, value) == TOTAL:
            result.counts[(BY_ORGANISATION, str(organisation))] += total
            result.counts[(BY_PROVINCE, provinces.get(organisation, ""))] += total
    for kind, value, number in (
        people.order_by().values_list("kind", "value").annotate(Count("person", distinct=True))
    ):
        result.people[(kind, value)] = number
    # Each kind as a whole ("*"): e.g. all triaged incidents, for the median of a histogram.
    for kind, number in (
        people.order_by().values_list("kind").annotate(Count("person", distinct=True))
    ):
        result.people[(kind, ALL_VALUES)] = number
    for (kind, _value), total in list(result.counts.items()):
        if kind not in (BY_ORGANISATION, BY_PROVINCE):
            result.counts[(kind, ALL_VALUES)] += total
    incident_people = people.filter(kind=FactKind.INCIDENT, value="").order_by()
    for organisation, number in incident_people.values_list("organisation_id").annotate(
        Count("person", distinct=True)
    ):
        result.people[(BY_ORGANISATION, str(organisation))] = number
    for province, number in incident_people.values_list("organisation__province").annotate(
        Count("person", distinct=True)
    ):
        result.people[(BY_PROVINCE, province)] = number
    result.counts = +result.counts
    return result


# --- The one suppression function ---------------------------------------------------------------


def small(count: int, people: int) -> bool:
    return count < MINIMUM or people < MINIMUM


def suppress(
    view: Tally, *, differences: Iterable[Tally] = (), cells: Iterable[Cell] | None = None
) -> dict[Cell, int | None]:
    """What may be shown of `view`: each cell's count, or None for hidden ("<5").

    `differences` are the regions between this view and each larger one the reader can open;
    `cells` the cells to answer for (default: all cells of the view). See the module
    docstring for the three rules; every page, export and API answer goes through here.
    """
    differences = list(differences)
    wanted = list(dict.fromkeys(cells if cells is not None else view.counts))
    shown: dict[Cell, int | None] = {}
    for cell in wanted:
        count, people = view.counts.get(cell, 0), view.people.get(cell, 0)
        hidden = small(count, people) or any(
            difference.counts.get(cell, 0) > 0
            and small(difference.counts.get(cell, 0), difference.people.get(cell, 0))
            for difference in differences
        )
        shown[cell] = None if hidden else count
    # Complementary suppression, per column (kind): one hidden cell hides the next smallest.
    columns: dict[str, list[Cell]] = defaultdict(list)
    for cell in shown:
        if cell != TOTAL and cell[1] != ALL_VALUES:
            columns[cell[0]].append(cell)
    for column in columns.values():
        hidden = [cell for cell in column if shown[cell] is None]
        visible = sorted((shown[cell], cell) for cell in column if shown[cell] is not None)
        if len(hidden) == 1 and visible:
            shown[visible[0][1]] = None
    return shown


# --- The figures of one view ------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose figures: the organisations the reader may see (`statistics_policy`), and the
    one organisation or province they narrowed it to (empty: all of them)."""

    organisations: frozenset[int]
    provinces: Mapping[int, str]
    national: bool
    organisation: int | None = None
    province: str = ""

    def chosen(self) -> frozenset[int]:
        if self.organisation is not None:
            return frozenset({self.organisation}) & self.organisations
        if self.province:
            return frozenset(
                o for o in self.organisations if self.provinces.get(o) == self.province
            )
        return self.organisations

    @property
    def narrowed(self) -> bool:
        return self.organisation is not None or bool(self.province)


def view_counts(
    period: Period, scope: Scope, *, kinds: Iterable[str] | None = None
) -> tuple[dict[Cell, int | None], Tally]:
    """The suppressed counts of one view (a period and a scope), and the tally they come
    from (which never leaves this module except as a histogram's median bucket)."""
    chosen = scope.chosen()
    this = region(period.months, chosen)
    view = tally(this, provinces=scope.provinces, kinds=kinds)
    differences = []
    outer_periods = [period, *period.enclosing()]
    outer_scopes = [chosen, scope.organisations] if scope.narrowed else [chosen]
    for outer_period in outer_periods:
        for outer_scope in outer_scopes:
            if outer_period == period and outer_scope == chosen:
                continue
            outer = region(outer_period.months, outer_scope)
            difference = region_minus(outer, period.months, chosen)
            differences.append(tally(difference, provinces=scope.provinces, kinds=kinds))
    return suppress(view, differences=differences), view


@dataclass(frozen=True)
class Row:
    label: str
    count: int | None
    share: int | None = None  # whole percent of the incidents, None when not shown

    @property
    def shown(self) -> str:
        return HIDDEN if self.count is None else str(self.count)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    rows: list[Row]
    note: str = ""


def _share(part: int | None, whole: int | None) -> int | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole)


def _count(shown, cell: Cell) -> int | None:
    """A cell as shown: its count, or None for hidden; a cell without incidents (0) is also
    fewer than five and reads "<5" like the others."""
    return shown.get(cell) or None


def _rows(shown, kind: str, choices, total: int | None) -> list[Row]:
    return [
        Row(str(label), _count(shown, (kind, value)), _share(_count(shown, (kind, value)), total))
        for value, label in choices
        if value
    ]


def median_bucket(histogram: Mapping[str, int]) -> str | None:
    """The bucket the median falls in ("4" means: more than the bucket before, at most 4
    hours), from a histogram {bucket: count}; None without counts."""
    order = [str(bound) for bound in TIME_BUCKET_HOURS] + [TIME_BUCKET_MORE]
    total = sum(histogram.get(bucket, 0) for bucket in order)
    if not total:
        return None
    seen = 0
    for bucket in order:
        seen += histogram.get(bucket, 0)
        if 2 * seen >= total:
            return bucket
    return order[-1]


def bucket_label(bucket: str | None) -> str:
    if bucket is None:
        return HIDDEN
    if bucket == TIME_BUCKET_MORE:
        return str(_("meer dan %(hours)s uur") % {"hours": TIME_BUCKET_HOURS[-1]})
    bounds = (0, *TIME_BUCKET_HOURS)
    upper = int(bucket)
    lower = bounds[bounds.index(upper) - 1]
    return str(_("tussen %(lower)s en %(upper)s uur") % {"lower": lower, "upper": upper})


def police_figures(shown: Mapping[Cell, int | None]) -> list[Row]:
    """The police figures, read as the aangifte track counts them (docs: the contract with
    the aangifte track): share with aangifte, and share of those where VPT was asked."""
    total = _count(shown, TOTAL)
    filed = _count(shown, (FactKind.AANGIFTE.value, "filed"))
    vpt = _count(shown, (FactKind.AANGIFTE.value, "vpt_asked"))
    return [
        Row(str(_("Aangifte gedaan")), filed, _share(filed, total)),
        Row(str(_("VPT-markering gevraagd (van de aangiftes)")), vpt, _share(vpt, filed)),
    ]


AANGIFTE_CELLS = ((FactKind.AANGIFTE.value, "filed"), (FactKind.AANGIFTE.value, "vpt_asked"))
TRIAGE_BUCKETS = [str(bound) for bound in TIME_BUCKET_HOURS] + [TIME_BUCKET_MORE]


@dataclass(frozen=True)
class Figures:
    period: Period
    scope: Scope
    total: int | None
    tables: list[Table]
    trend: list[tuple[Period, int | None]]
    online_share: int | None
    triage_median: str
    triage_on_time_share: int | None
    ack_median: str
    organisation_names: Mapping[int, str]

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


TREND_LENGTH = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 8, PeriodKind.YEAR: 5}


def figures_for(period: Period, scope: Scope, *, organisation_names: Mapping[int, str]) -> Figures:
    """Every figure of one view, suppressed (see the module docstring)."""
    shown, view = view_counts(period, scope)
    total = _count(shown, TOTAL)
    tables = [
        Table(
            "monitor_group",
            str(_("Soort incident, zoals de Monitor het indeelt")),
            _rows(shown, FactKind.MONITOR_GROUP, MonitorGroup.choices, total),
            str(_("Een melding met meer soorten telt bij elke soort mee.")),
        ),
        Table(
            "type",
            str(_("Soort incident")),
            _rows(shown, FactKind.TYPE, IncidentType.choices, total),
            str(_("Een melding met meer soorten telt bij elke soort mee.")),
        ),
        Table("channel", str(_("Kanaal")), _rows(shown, FactKind.CHANNEL, Channel.choices, total)),
        Table(
            "function",
            str(_("Functie van de ambtsdrager (bij het melden)")),
            _rows(shown, FactKind.FUNCTION, OfficeholderFunction.choices, total),
        ),
        Table(
            "gender",
            str(_("Gender (als de ambtsdrager dat heeft opgegeven)")),
            _rows(shown, FactKind.GENDER, Gender.choices, total),
        ),
        Table(
            "organisation_type",
            str(_("Soort organisatie")),
            _rows(shown, FactKind.ORGANISATION_TYPE, OrganisationType.choices, total),
        ),
    ]
    if scope.national:
        tables.append(
            Table(
                "province",
                str(_("Provincie")),
                _rows(shown, BY_PROVINCE, Province.choices, total),
                str(
                    _(
                        "Een waterschap telt mee bij de provincie waar het zijn zetel heeft. "
                        "De openbare lichamen horen bij geen provincie."
                    )
                ),
            )
        )
    else:
        organisations = sorted(scope.chosen(), key=lambda pk: organisation_names.get(pk, ""))
        tables.append(
            Table(
                "organisation",
                str(_("Organisatie")),
                [
                    Row(
                        organisation_names.get(pk, ""),
                        _count(shown, (BY_ORGANISATION, str(pk))),
                        _share(_count(shown, (BY_ORGANISATION, str(pk))), total),
                    )
                    for pk in organisations
                ],
            )
        )
    tables += [
        Table(
            "severity",
            str(_("Hoe ernstig de melder het vond")),
            _rows(shown, FactKind.SEVERITY, ReporterSeverity.choices, total),
        ),
        Table(
            "impact",
            str(_("Gevolgen voor de ambtsdrager")),
            _rows(shown, FactKind.IMPACT, Impact.choices, total),
            str(_("Een melding met meer gevolgen telt bij elk gevolg mee.")),
        ),
        Table("police", str(_("Politie")), police_figures(shown)),
        Table(
            "support_wish",
            str(_("Wat de melder wilde")),
            _rows(shown, FactKind.SUPPORT_WISH, SupportWish.choices, total),
        ),
        Table(
            "rule_code",
            str(_("Doorgegeven aan het Ondersteuningsteam, per regel")),
            _rows(shown, FactKind.RULE_CODE, EscalationRuleCode.choices, total),
            str(_("Een doorverwijzing door een medewerker zelf noemt geen regel.")),
        ),
        Table(
            "outcome",
            str(_("Soort uitkomst bij het afsluiten")),
            _rows(
                shown,
                FactKind.OUTCOME,
                [c for c in OutcomeCategory.choices if c[0] != OutcomeCategory.DUPLICATE],
                total,
            ),
        ),
    ]
    # A cell without incidents is 0 here (not hidden): the share only says what the shown
    # cells already say.
    online = [shown.get((FactKind.CHANNEL.value, channel), 0) for channel in ONLINE_CHANNELS]
    online_total = None if None in online else sum(online)
    on_time = shown.get((FactKind.TRIAGE_ON_TIME.value, "on_time"), 0)
    late = shown.get((FactKind.TRIAGE_ON_TIME.value, "late"), 0)
    # A median is shown when the histogram as a whole may be shown (its "*" cell).
    triage_median = (
        median_bucket(
            {
                bucket: view.counts.get((FactKind.TRIAGE_TIME.value, bucket), 0)
                for bucket in TRIAGE_BUCKETS
            }
        )
        if shown.get((FactKind.TRIAGE_TIME.value, ALL_VALUES))
        else None
    )
    ack_median = (
        median_bucket(
            {
                bucket: view.counts.get((FactKind.ACK_TIME.value, bucket), 0)
                for bucket in TRIAGE_BUCKETS
            }
        )
        if shown.get((FactKind.ACK_TIME.value, ALL_VALUES))
        else None
    )
    trend = []
    for point in period.trend(TREND_LENGTH[period.kind]):
        counts = shown if point == period else view_counts(point, scope, kinds=[TOTAL[0]])[0]
        trend.append((point, _count(counts, TOTAL)))
    return Figures(
        period=period,
        scope=scope,
        total=total,
        tables=tables,
        trend=trend,
        online_share=_share(online_total, total),
        triage_median=bucket_label(triage_median),
        triage_on_time_share=(
            None if on_time is None or late is None else _share(on_time, on_time + late)
        ),
        ack_median=bucket_label(ack_median),
        organisation_names=organisation_names,
    )


# --- Whose figures: the reader's scope (from the policy) -------------------------------------


def scope_for(*, user, organisation: int | None = None, province: str = "") -> Scope | None:
    """The scope this person may read, narrowed to one of their organisations or (national
    readers) one province; None when they may read no figures (`statistics_policy`)."""
    from portal.policies import statistics_policy

    if statistics_policy.condition(user, "view_statistics") is None:
        return None
    rows = statistics_policy.queryset(user, "view_statistics").values_list("pk", "province")
    provinces = dict(rows)
    national = statistics_policy.is_national(user)
    return Scope(
        organisations=frozenset(provinces),
        provinces=provinces,
        national=national,
        organisation=organisation if not national and organisation in provinces else None,
        province=province if national else "",
    )


def organisation_names(scope: Scope) -> dict[int, str]:
    from portal.models import Organisation

    return dict(Organisation.objects.filter(pk__in=scope.organisations).values_list("pk", "name"))


def export_rows(figures: Figures) -> list[list[str]]:
    """The figures as rows for CSV and ODS: table, row, count ("<5" when hidden), percent."""
    rows = [[str(_("Tabel")), str(_("Rij")), str(_("Aantal")), str(_("Procent"))]]
    rows.append([str(_("Periode")), figures.period.label, "", ""])
    rows.append([str(_("Meldingen")), str(_("Alle meldingen")), _shown(figures.total), ""])
    for point, count in figures.trend:
        rows.append([str(_("Verloop")), point.label, _shown(count), ""])
    for table in figures.tables:
        for row in table.rows:
            rows.append(
                [table.title, row.label, row.shown, "" if row.share is None else str(row.share)]
            )
    rows.append(
        [
            str(_("Kanaal")),
            str(_("Online (deel van alle meldingen)")),
            "",
            _shown(figures.online_share),
        ]
    )
    rows.append(
        [str(_("Beoordeling")), str(_("Mediaan tijd tot beoordeling")), figures.triage_median, ""]
    )
    rows.append(
        [
            str(_("Beoordeling")),
            str(_("Op tijd beoordeeld")),
            "",
            _shown(figures.triage_on_time_share),
        ]
    )
    rows.append(
        [str(_("Ondersteuningsteam")), str(_("Mediaan tijd tot oppakken")), figures.ack_median, ""]
    )
    return rows


def _shown(value: int | None) -> str:
    return HIDDEN if value is None else str(value)
