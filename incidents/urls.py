from django.urls import path

from incidents.views import evidence, officeholder, sharing

app_name = "incidents"

urlpatterns = [
    path("", officeholder.incident_list, name="list"),
    path("snel/", officeholder.quick_report, name="quick"),
    path("delen/", sharing.share_target, name="share"),
    path("delen/verwijderen/", sharing.share_discard, name="share_discard"),
    path("nieuw/", officeholder.full_report, name="new"),
    path("mijn-gegevens/", officeholder.export_page, name="export"),
    path("mijn-gegevens.json", officeholder.export_json, name="export_json"),
    path("<str:reference>/", officeholder.detail, name="detail"),
    path("<str:reference>/ontvangen/", officeholder.confirmation, name="confirmation"),
    path("<str:reference>/aanvullen/", officeholder.complete, name="complete"),
    path("<str:reference>/vervolg/", officeholder.follow_up, name="follow_up"),
    path("<str:reference>/bericht/", officeholder.send_message, name="message"),
    path("<str:reference>/intrekken/", officeholder.withdraw, name="withdraw"),
    path("<str:reference>/verwijderen/", officeholder.delete_withdrawn, name="delete"),
    path("<str:reference>/aangifte/", officeholder.aangifte_update, name="aangifte"),
    path("<str:reference>/politie/", officeholder.police_summary, name="police_summary"),
    path(
        "<str:reference>/politie/toestemming/",
        officeholder.summary_consent,
        name="summary_consent",
    ),
    path(
        "<str:reference>/beveiligingsadvies/",
        officeholder.request_security_advice,
        name="security_advice",
    ),
    path("<str:reference>/bewijs/<int:pk>/", evidence.evidence_download, name="evidence_download"),
]
