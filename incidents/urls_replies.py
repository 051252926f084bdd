"""A desk coordinator's standard replies, mounted at /mensen/standaardantwoorden/ (next to
the people pages of "Beheer"). The manage workspace only."""

from django.urls import path

from incidents.views import replies

app_name = "replies"

urlpatterns = [
    path("", replies.reply_list, name="list"),
    path("nieuw/", replies.reply_add, name="add"),
    path("<int:pk>/", replies.reply_edit, name="edit"),
    path("<int:pk>/uitzetten/", replies.reply_deactivate, name="deactivate"),
]
