"""Query parameters of the incident list: the desk queue's filters, applied by its selector."""

from datetime import date

import django_filters
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from incidents import selectors
from incidents.constants import (
    Channel,
    IncidentType,
    ReporterSeverity,
    RiskFlag,
    Status,
    TriageSeverity,
)
from incidents.selectors import STATUS_ALL, AssignedFilter, QueueSort

# The web queue's default: submitted, in triage and escalated (the selector's "" status).
STATUS_OPEN = "open"

# The same bounds as the web queue's filter form: dates far outside the portal's life (year 1
# or 9999) would overflow in time-zone arithmetic.
DATE_RANGE = [
    MinValueValidator(date(2000, 1, 1), message=_("Kies een datum na 1 januari 2000.")),
    MaxValueValidator(date(2999, 12, 31), message=_("Kies een datum vóór het jaar 3000.")),
]


ID_RANGE = [
    MinValueValidator(1, message=_("Kies een bestaande organisatie.")),
    MaxValueValidator(2**63 - 1, message=_("Kies een bestaande organisatie.")),
]


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*Status.choices, (STATUS_OPEN, "open"), (STATUS_ALL, "all")],
        method="keep",
        empty_label=None,
        help_text="Default `all`; `open` is the desk queue's default view.",
    )
    triage_severity = django_filters.ChoiceFilter(choices=TriageSeverity.choices, method="keep")
    reporter_severity = django_filters.ChoiceFilter(choices=ReporterSeverity.choices, method="keep")
    type = django_filters.ChoiceFilter(choices=IncidentType.choices, method="keep")
    risk_flag = django_filters.ChoiceFilter(choices=RiskFlag.choices, method="keep")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, method="keep")
    # A whole number that fits the database's id column: anything else is a 400, not a 500.
    organisation = django_filters.NumberFilter(method="keep", decimal_places=0, validators=ID_RANGE)
    date_from = django_filters.DateFilter(method="keep", validators=DATE_RANGE)
    date_to = django_filters.DateFilter(method="keep", validators=DATE_RANGE)
    overdue = django_filters.BooleanFilter(method="keep")
    assigned = django_filters.ChoiceFilter(choices=AssignedFilter.choices, method="keep")
    q = django_filters.CharFilter(method="keep", help_text="Reference or officeholder name.")
    sort = django_filters.ChoiceFilter(choices=QueueSort.choices, method="keep")

    def keep(self, queryset, name, value):
        # Each parameter is only validated here; `filter_queryset` applies them all at once.
        return queryset

    def filter_queryset(self, queryset):
        filters = {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}
        filters.setdefault("status", STATUS_ALL)
        if filters["status"] == STATUS_OPEN:
            filters["status"] = ""
        return selectors.incident_queue_for(user=self.request.user, filters=filters)
