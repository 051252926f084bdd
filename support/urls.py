"""URLs of the Ondersteuningsteam's workspace, mounted at /ondersteuning/. Support role only.

Cases are addressed by the reference of their incident; each step is a POST endpoint below
the case page.
"""

from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("overzichten/", views.saved_view_save, name="saved_view_save"),
    path("overzichten/<int:pk>/verwijderen/", views.saved_view_delete, name="saved_view_delete"),
    path("agenda/", views.agenda, name="agenda"),
    path("afwezigheid/", views.absence, name="absence"),
    path("signalen/", views.signals, name="signals"),
    path("dossiers/<str:reference>/", views.case_detail, name="case"),
    path("dossiers/<str:reference>/dossier.pdf", views.case_file, name="case_file"),
    path(
        "dossiers/<str:reference>/bevestigen/",
        views.act,
        {"action": "acknowledge"},
        name="acknowledge",
    ),
    path("dossiers/<str:reference>/starten/", views.act, {"action": "start"}, name="start"),
    path(
        "dossiers/<str:reference>/casemanager/",
        views.act,
        {"action": "assign_handler"},
        name="assign",
    ),
    path(
        "dossiers/<str:reference>/acties/", views.act, {"action": "add_action"}, name="action_add"
    ),
    path("dossiers/<str:reference>/acties/<int:pk>/", views.action_update, name="action_update"),
    path(
        "dossiers/<str:reference>/bericht-ambtsdrager/",
        views.message_officeholder,
        name="message_officeholder",
    ),
    path("dossiers/<str:reference>/bericht-meldpunt/", views.message_desk, name="message_desk"),
    path("dossiers/<str:reference>/notitie/", views.note, name="note"),
    path(
        "dossiers/<str:reference>/teruggeven/",
        views.act,
        {"action": "return_to_desk"},
        name="return",
    ),
    path("dossiers/<str:reference>/afsluiten/", views.act, {"action": "close_case"}, name="close"),
]
