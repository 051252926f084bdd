"""Fill the statistics snapshot of existing incidents and have the fact counts made again.

The snapshot (function, gender, type of organisation) is copied from the officeholder and
the organisation as they are now: the best there is for incidents filed before the
snapshot existed (an unlinked incident keeps an empty function and gender).

The fact counts gained dimensions (the snapshot, the plain facts, the triage histogram) and
a count per person (`FactPeopleCount`). The counts of older incidents cannot be extended in
SQL because their facts are encrypted, so this migration empties the counts and marks every
incident and support action as not counted; `manage.py encrypt_incident_facts` and
`manage.py encrypt_support_facts` count them again, with everything (docs/architecture.md,
"Statistics"). Until then an uncounted incident is left alone by the services, exactly as
after the encryption migration. The reverse does the same (nothing is lost: the commands
count again from the incidents themselves).
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    User = apps.get_model("portal", "User")
    Organisation = apps.get_model("portal", "Organisation")
    person = User.objects.filter(pk=OuterRef("officeholder_id"))
    Incident.objects.filter(officeholder__isnull=False).update(
        officeholder_function=Subquery(person.values("function")[:1]),
        officeholder_gender=Subquery(person.values("gender")[:1]),
    )
    organisation = Organisation.objects.filter(pk=OuterRef("organisation_id"))
    Incident.objects.update(organisation_type=Subquery(organisation.values("type")[:1]))
    recount(apps, schema_editor)


def recount(apps, schema_editor):
    apps.get_model("incidents", "FactCount").objects.all().delete()
    apps.get_model("incidents", "FactPeopleCount").objects.all().delete()
    apps.get_model("incidents", "Incident").objects.filter(facts_counted=True).update(
        facts_counted=False
    )
    apps.get_model("support", "SupportAction").objects.filter(facts_counted=True).update(
        facts_counted=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0021_statistics_snapshot_and_people_counts"),
        ("portal", "0024_analyst_role"),
        ("support", "0007_security_advice_action_types"),
    ]

    operations = [migrations.RunPython(forwards, recount)]
