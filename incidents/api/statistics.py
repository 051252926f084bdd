"""GET /api/v1/statistics/: the same suppressed figures as the statistics page and its files.

Only for those who may read figures (`statistics_policy`; everyone else gets 404, like a page
that does not exist). A hidden number is `null` with `shown` "<5", never the number."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.forms_statistics import figures_from_query
from incidents.statistics import HIDDEN


class StatisticsRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True, help_text="null when hidden")
    shown = serializers.CharField(help_text='The count as text, "<5" when hidden')
    share = serializers.IntegerField(allow_null=True, help_text="Whole percent, null when hidden")


class StatisticsTableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    rows = StatisticsRowSerializer(many=True)


class StatisticsTrendSerializer(serializers.Serializer):
    period = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)


class StatisticsSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="2026, 2026-Q1 or 2026-03")
    national = serializers.BooleanField()
    total = serializers.IntegerField(allow_null=True)
    online_share = serializers.IntegerField(allow_null=True)
    triage_median = serializers.CharField()
    triage_on_time_share = serializers.IntegerField(allow_null=True)
    acknowledgement_median = serializers.CharField()
    trend = StatisticsTrendSerializer(many=True)
    tables = StatisticsTableSerializer(many=True)


PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=["month", "quarter", "year"]),
    OpenApiParameter("year", OpenApiTypes.INT),
    OpenApiParameter("quarter", OpenApiTypes.INT, description="1-4, with kind=quarter"),
    OpenApiParameter("month", OpenApiTypes.INT, description="1-12, with kind=month"),
    OpenApiParameter("organisation", OpenApiTypes.INT, description="A desk: one of its own"),
    OpenApiParameter("province", OpenApiTypes.STR, description="National readers: one province"),
]


def figures_data(figures) -> dict:
    return {
        "period": figures.period.code,
        "national": figures.scope.national,
        "total": figures.total,
        "online_share": figures.online_share,
        "triage_median": figures.triage_median,
        "triage_on_time_share": figures.triage_on_time_share,
        "acknowledgement_median": figures.ack_median,
        "trend": [
            {"period": period.code, "label": period.label, "count": count}
            for period, count in figures.trend
        ],
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "note": table.note,
                "rows": [
                    {
                        "label": row.label,
                        "count": row.count,
                        "shown": HIDDEN if row.count is None else str(row.count),
                        "share": row.share,
                    }
                    for row in table.rows
                ],
            }
            for table in figures.tables
        ],
    }


class StatisticsView(APIView):
    """The figures of one whole month, quarter or year (default: the last whole quarter)."""

    @extend_schema(parameters=PARAMETERS, responses=StatisticsSerializer)
    def get(self, request):
        form, figures = figures_from_query(user=request.user, data=request.query_params)
        if form is None:
            raise Http404
        if figures is None:
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        return Response(StatisticsSerializer(figures_data(figures)).data)
