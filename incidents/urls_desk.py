"""URLs of the meld- en steunpunt (desk), mounted at /meldpunt/. Registrars only."""

from django.urls import path

from incidents.views import desk

app_name = "desk"

urlpatterns = [
    path("", desk.queue, name="queue"),
    path("overzicht/", desk.overview, name="overview"),
    path("export.csv", desk.export, name="export"),
    path("vastleggen/", desk.file_incident, name="file"),
    path("meldingen/<str:reference>/", desk.detail, name="detail"),
    path("meldingen/<str:reference>/oppakken/", desk.take, name="take"),
    path("meldingen/<str:reference>/behandelaar/", desk.assign, name="assign"),
    path("meldingen/<str:reference>/beoordelen/", desk.triage, name="triage"),
    path("meldingen/<str:reference>/afsluiten/", desk.close, name="close"),
    path("meldingen/<str:reference>/heropenen/", desk.reopen, name="reopen"),
    path("meldingen/<str:reference>/doorgeven/", desk.escalate, name="escalate"),
    path("meldingen/<str:reference>/notitie/", desk.note, name="note"),
    path("meldingen/<str:reference>/bericht/", desk.message, name="message"),
    path("meldingen/<str:reference>/overleg/", desk.staff_message, name="staff_message"),
    path("meldingen/<str:reference>/koppelen/", desk.link, name="link"),
    path("meldingen/<str:reference>/dubbel/", desk.duplicate, name="duplicate"),
]
