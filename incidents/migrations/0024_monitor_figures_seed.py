"""The published figures of the Monitor Integriteit en Veiligheid (editions 2020, 2022 and
2024, with the earlier figures they were compared with), for the functional administrator to
keep up to date. Reverse: removes exactly these rows (a changed percentage stays)."""

from decimal import Decimal

from django.db import migrations

SOURCE = "Monitor Integriteit en Veiligheid {year} (Ministerie van BZK)"
FIGURES = [
    (2018, "met_aggression", "29"),
    (2020, "met_aggression", "35"),
    (2022, "met_aggression", "49"),
    (2024, "met_aggression", "45"),
    (2014, "social_media", "13"),
    # "Bijna de helft" in the report; 48 stands for that until the exact figure is entered.
    (2020, "social_media", "48"),
    (2020, "physical_violence", "2"),
    (2020, "felt_effects", "40"),
    (2020, "less_pleasure", "25"),
    (2020, "changed_behaviour", "16"),
    (2020, "mental_health", "8"),
    # "Eerder 12%": the edition of that earlier figure is to be checked by the administrator.
    (2018, "aangifte_verbal", "12"),
    (2020, "aangifte_verbal", "4"),
    (2022, "aangifte_verbal", "7"),
]


def forwards(apps, schema_editor):
    MonitorFigure = apps.get_model("incidents", "MonitorFigure")
    for edition, measure, percent in FIGURES:
        MonitorFigure.objects.get_or_create(
            edition=edition,
            measure=measure,
            defaults={"percent": Decimal(percent), "source": SOURCE.format(year=edition)},
        )


def backwards(apps, schema_editor):
    MonitorFigure = apps.get_model("incidents", "MonitorFigure")
    for edition, measure, percent in FIGURES:
        MonitorFigure.objects.filter(
            edition=edition, measure=measure, percent=Decimal(percent)
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0023_monitor_figures")]

    operations = [migrations.RunPython(forwards, backwards)]
