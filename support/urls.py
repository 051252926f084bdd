"""URLs of the Ondersteuningsteam's workspace, mounted at /ondersteuning/. Support role only.

Cases are addressed by the reference of their incident; each step is a POST endpoint below
the case page.
"""

from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("dossiers/<str:reference>/", views.case_detail, name="case"),
    path("dossiers/<str:reference>/bevestigen/", views.acknowledge, name="acknowledge"),
    path("dossiers/<str:reference>/starten/", views.start, name="start"),
    path("dossiers/<str:reference>/casemanager/", views.assign, name="assign"),
    path("dossiers/<str:reference>/acties/", views.action_add, name="action_add"),
    path("dossiers/<str:reference>/acties/<int:pk>/", views.action_update, name="action_update"),
    path(
        "dossiers/<str:reference>/bericht-ambtsdrager/",
        views.message_officeholder,
        name="message_officeholder",
    ),
    path("dossiers/<str:reference>/bericht-meldpunt/", views.message_desk, name="message_desk"),
    path("dossiers/<str:reference>/notitie/", views.note, name="note"),
    path("dossiers/<str:reference>/teruggeven/", views.return_to_desk, name="return"),
    path("dossiers/<str:reference>/afsluiten/", views.close, name="close"),
]
