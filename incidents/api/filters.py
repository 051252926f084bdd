"""Query parameters of the incident list: the desk queue's filters, applied by its selector."""

import django_filters

from incidents import selectors
from incidents.constants import Channel, IncidentType, ReporterSeverity, Status, TriageSeverity
from incidents.selectors import STATUS_ALL, AssignedFilter, QueueSort


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*Status.choices, (STATUS_ALL, "all")], method="keep", empty_label=None
    )
    triage_severity = django_filters.ChoiceFilter(choices=TriageSeverity.choices, method="keep")
    reporter_severity = django_filters.ChoiceFilter(choices=ReporterSeverity.choices, method="keep")
    type = django_filters.ChoiceFilter(choices=IncidentType.choices, method="keep")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, method="keep")
    organisation = django_filters.NumberFilter(method="keep")
    date_from = django_filters.DateFilter(method="keep")
    date_to = django_filters.DateFilter(method="keep")
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
        return selectors.incident_queue_for(user=self.request.user, filters=filters)
