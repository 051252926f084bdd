from django.urls import path

from portal import views_manage

app_name = "manage"

urlpatterns = [
    path("", views_manage.people, name="people"),
    path("uitnodigen/", views_manage.person_invite, name="invite"),
    path("importeren/", views_manage.officeholder_import, name="import"),
    path("importeren/<int:pk>/", views_manage.officeholder_import_detail, name="import_detail"),
    path("<int:pk>/", views_manage.person, name="person"),
    path(
        "<int:pk>/opnieuw-uitnodigen/",
        views_manage.person_invitation_resend,
        name="person_invitation_resend",
    ),
    path("<int:pk>/koppelen/", views_manage.person_identity_link, name="person_identity_link"),
    path(
        "<int:pk>/koppeling-verwijderen/",
        views_manage.person_identity_unlink,
        name="person_identity_unlink",
    ),
    path("<int:pk>/uitschakelen/", views_manage.person_deactivate, name="person_deactivate"),
]
