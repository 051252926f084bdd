"""The choice of period (and narrowing) on the statistics page, the export and the API.

Only whole months, quarters and years: a free range of days could isolate one incident."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.statistics import (
    MONTH_NAMES,
    Figures,
    Period,
    PeriodKind,
    figures_for,
    organisation_names,
    scope_for,
)
from portal.constants import Province

FIRST_YEAR = 2024


class StatisticsForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Soort periode"), choices=PeriodKind.CHOICES, initial=PeriodKind.QUARTER
    )
    year = forms.TypedChoiceField(label=_("Jaar"), coerce=int)
    quarter = forms.TypedChoiceField(
        label=_("Kwartaal"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—")] + [(n, _("kwartaal %(n)s") % {"n": n}) for n in range(1, 5)],
    )
    month = forms.TypedChoiceField(
        label=_("Maand"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—")] + [(n, MONTH_NAMES[n - 1]) for n in range(1, 13)],
    )
    organisation = forms.TypedChoiceField(
        label=_("Organisatie"), coerce=int, required=False, empty_value=None
    )
    province = forms.ChoiceField(label=_("Provincie"), required=False)

    def __init__(self, *args, organisations=(), national=False, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [(y, y) for y in range(this_year, FIRST_YEAR - 1, -1)]
        self.fields["year"].initial = this_year
        if national:
            del self.fields["organisation"]
            self.fields["province"].choices = [("", _("Alle provincies")), *Province.choices]
        else:
            del self.fields["province"]
            self.fields["organisation"].choices = [("", _("Alle organisaties")), *organisations]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == PeriodKind.QUARTER and not data.get("quarter"):
            self.add_error("quarter", _("Kies een kwartaal."))
        if kind == PeriodKind.MONTH and not data.get("month"):
            self.add_error("month", _("Kies een maand."))
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        if data["kind"] == PeriodKind.MONTH:
            return Period(PeriodKind.MONTH, data["year"], data["month"])
        if data["kind"] == PeriodKind.QUARTER:
            return Period(PeriodKind.QUARTER, data["year"], data["quarter"])
        return Period(PeriodKind.YEAR, data["year"])


def default_period() -> Period:
    """The last whole quarter (the current one is not over yet)."""
    today = timezone.localdate()
    return Period(PeriodKind.QUARTER, today.year, (today.month - 1) // 3 + 1).previous()


def figures_from_query(*, user, data) -> tuple[StatisticsForm | None, Figures | None]:
    """The page's, the files' and the API's one way from a query to figures: (form, figures),
    figures None while the form has errors, (None, None) for someone who reads no figures."""
    scope = scope_for(user=user)
    if scope is None:
        return None, None
    names = organisation_names(scope)
    choices = sorted(names.items(), key=lambda item: item[1])
    form = StatisticsForm(data or None, organisations=choices, national=scope.national)
    if form.is_bound and not form.is_valid():
        return form, None
    period = default_period()
    if form.is_bound:
        period = form.period()
        scope = scope_for(
            user=user,
            organisation=form.cleaned_data.get("organisation"),
            province=form.cleaned_data.get("province") or "",
        )
    return form, figures_for(period, scope, organisation_names=names)
