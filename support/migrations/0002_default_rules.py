from django.db import migrations

DEFAULT_RULES = [
    ("physical_violence", None, None),
    ("family_home_doxing", None, None),
    ("support_requested", None, None),
    ("critical", None, None),
    ("repeat_incidents", 3, 30),
    ("shared_perpetrator", 2, None),
    ("triage_deadline", None, None),
]


def create_default_rules(apps, schema_editor):
    EscalationRule = apps.get_model("support", "EscalationRule")
    for code, threshold, window_days in DEFAULT_RULES:
        EscalationRule.objects.get_or_create(
            code=code, defaults={"threshold": threshold, "window_days": window_days}
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(create_default_rules, migrations.RunPython.noop)]
