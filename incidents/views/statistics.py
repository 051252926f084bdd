"""The statistics pages: the figures of one period for the reader's scope, and their files.

Who reads which organisations is the statistics policy's (`incidents.statistics.scope_for`);
every number comes out of `incidents.statistics.suppress`. Thin: validate, ask, render."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents import charts, monitor
from incidents.forms_statistics import figures_from_query
from incidents.spreadsheets import csv_bytes, ods_bytes
from incidents.statistics import export_rows
from portal.policies import Workspace, workspace_required


def figures_from_request(request):
    """(form, figures): figures None while the form has errors."""
    return figures_from_query(user=request.user, data=request.GET)


@workspace_required(Workspace.STATISTICS)
@require_GET
def page(request):
    """The figures with a trend chart, a bar chart per table and the same numbers as tables."""
    form, figures = figures_from_request(request)
    context = {"form": form, "figures": figures, "query": request.GET.urlencode()}
    if figures is not None:
        context["trend_chart"] = charts.trend_chart(
            _("Aantal meldingen per periode"), figures.trend
        )
        context["charts"] = [
            (table, charts.bar_chart(table.title, table.rows)) for table in figures.tables
        ]
        context["monitor"] = monitor.comparison(figures)
    return render(request, "incidents/statistics/page.html", context, status=200)


def _file_response(request, *, ods: bool):
    form, figures = figures_from_request(request)
    if figures is None:
        return render(
            request, "incidents/statistics/page.html", {"form": form, "figures": None}, status=400
        )
    rows = export_rows(figures)
    name = f"cijfers-{figures.period.code}"
    if ods:
        content = ods_bytes(rows, sheet=_("Cijfers"))
        response = HttpResponse(
            content, content_type="application/vnd.oasis.opendocument.spreadsheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.ods"'
    else:
        response = HttpResponse(csv_bytes(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@workspace_required(Workspace.STATISTICS)
@require_GET
def export_csv(request):
    """The same (suppressed) figures as CSV."""
    return _file_response(request, ods=False)


@workspace_required(Workspace.STATISTICS)
@require_GET
def export_ods(request):
    """The same (suppressed) figures as an OpenDocument spreadsheet."""
    return _file_response(request, ods=True)
