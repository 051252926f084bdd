"""URLs of the meld- en steunpunt (desk), mounted at /meldpunt/. The desk workspace only.

Each workflow action of the incident page has its own address (the URL names stay stable for
links and tests) and one view, `desk.act`, runs them all.
"""

from django.urls import path

from incidents.views import desk

app_name = "desk"

urlpatterns = [
    path("", desk.queue, name="queue"),
    path("overzichten/", desk.saved_view_save, name="saved_view_save"),
    path("overzichten/<int:pk>/verwijderen/", desk.saved_view_delete, name="saved_view_delete"),
    path("meldingen-tegelijk/", desk.bulk, name="bulk"),
    path("afwezigheid/", desk.absence, name="absence"),
    path("overzicht/", desk.overview, name="overview"),
    path("export.csv", desk.export, name="export"),
    path("vastleggen/", desk.file_incident, name="file"),
    path("meldingen/<str:reference>/", desk.detail, name="detail"),
    path("meldingen/<str:reference>/dossier.pdf", desk.case_file, name="case_file"),
    path("meldingen/<str:reference>/politie/", desk.police_summary, name="police_summary"),
    path("teruggeboden/<str:reference>/terugnemen/", desk.take_back, name="take_back"),
    path("meldingen/<str:reference>/oppakken/", desk.act, {"action": "take"}, name="take"),
    path("meldingen/<str:reference>/behandelaar/", desk.act, {"action": "assign"}, name="assign"),
    path("meldingen/<str:reference>/beoordelen/", desk.act, {"action": "triage"}, name="triage"),
    path("meldingen/<str:reference>/afsluiten/", desk.act, {"action": "close"}, name="close"),
    path("meldingen/<str:reference>/heropenen/", desk.act, {"action": "reopen"}, name="reopen"),
    path("meldingen/<str:reference>/doorgeven/", desk.act, {"action": "escalate"}, name="escalate"),
    path("meldingen/<str:reference>/aangifte/", desk.aangifte_update, name="aangifte"),
    path("meldingen/<str:reference>/notitie/", desk.note, name="note"),
    path("meldingen/<str:reference>/bericht/", desk.message, name="message"),
    path("meldingen/<str:reference>/overleg/", desk.staff_message, name="staff_message"),
    path(
        "meldingen/<str:reference>/terugbellen/",
        desk.act,
        {"action": "set_callback"},
        name="set_callback",
    ),
    path(
        "meldingen/<str:reference>/terugbellen/wissen/",
        desk.act,
        {"action": "clear_callback"},
        name="clear_callback",
    ),
    path("meldingen/<str:reference>/telefoongesprek/", desk.phone_call, name="phone_call"),
    path("meldingen/<str:reference>/koppelen/", desk.act, {"action": "link"}, name="link"),
    path(
        "meldingen/<str:reference>/dubbel/",
        desk.act,
        {"action": "mark_duplicate"},
        name="duplicate",
    ),
]
