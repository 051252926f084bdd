from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from incidents.views import statistics
from portal import sso, views, views_ops

auth_patterns = [
    path("inloggen/", views.LoginView.as_view(), name="login"),
    path("inloggen/organisatie/", views.sso_choose, name="sso_choose"),
    path("inloggen/organisatie/<int:pk>/", sso.LoginStartView.as_view(), name="sso_start"),
    path("inloggen/organisatie/terug/", sso.CallbackView.as_view(), name="sso_callback"),
    path("uitloggen/", views.LogoutView.as_view(), name="logout"),
    path("tweestapsverificatie/", views.two_factor_verify, name="two_factor_verify"),
    path("tweestapsverificatie/instellen/", views.two_factor_setup, name="two_factor_setup"),
    path("tweestapsverificatie/uitzetten/", views.two_factor_remove, name="two_factor_remove"),
    path(
        "tweestapsverificatie/reservecodes/",
        views.two_factor_backup_codes_renew,
        name="two_factor_backup_codes_renew",
    ),
    path("wachtwoord-wijzigen/", views.PasswordChangeView.as_view(), name="password_change"),
    path("profiel/", views.profile, name="profile"),
    path("profiel/contact/", views.profile_contact, name="profile_contact"),
    path("actief/", views.keep_alive, name="keep_alive"),
    path("profiel/passkeys/<int:pk>/verwijderen/", views.passkey_remove, name="passkey_remove"),
    path("passkeys/", include("portal.urls_passkeys")),
    path("profiel/sleutels/<int:pk>/intrekken/", views.api_token_revoke, name="api_token_revoke"),
    path("uitnodiging/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("uitnodiging/<str:token>/koppelen/", views.invitation_sso, name="invitation_sso"),
    path(
        "uitnodiging/<str:token>/nieuwe-link/",
        views.invitation_renewal_request,
        name="invitation_renewal_request",
    ),
    path("welkom/", views.account_welcome, name="account_welcome"),
    path("wachtwoord-vergeten/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "wachtwoord-vergeten/verstuurd/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "wachtwoord-herstellen/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "wachtwoord-herstellen/klaar/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Answered by portal.middleware.ProbeMiddleware first; here for reverse() and the docs.
    path("healthz", views_ops.healthz, name="healthz"),
    path("readyz", views_ops.readyz, name="readyz"),
    path("metrics", views_ops.metrics, name="metrics"),
    path("privacy/", views.privacy, name="privacy"),
    path("manifest.webmanifest", views.web_app_manifest, name="web_app_manifest"),
    path("serviceworker.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
    path("toegankelijkheid/", views.accessibility, name="accessibility"),
    path("taal/", views.language_set, name="set_language"),
    path("meldpunt-postbus/<str:token>/", views.desk_mailbox_confirm, name="desk_mailbox_confirm"),
    path("notificaties/", views.notification_list, name="notifications"),
    path("notificaties/gelezen/", views.notification_read_all, name="notifications_read_all"),
    path("notificaties/<int:pk>/", views.notification_open, name="notification_open"),
    path("account/", include(auth_patterns)),
    path("meldingen/", include("incidents.urls")),
    path("meldpunt/", include("incidents.urls_desk")),
    path("cijfers/", statistics.page, name="statistics"),
    path("cijfers/cijfers.csv", statistics.export_csv, name="statistics_csv"),
    path("cijfers/cijfers.ods", statistics.export_ods, name="statistics_ods"),
    path("ondersteuning/", include("support.urls")),
    path("api/", include("portal.api.urls")),
    path("mensen/standaardantwoorden/", include("incidents.urls_replies")),
    path("mensen/", include("portal.urls_manage")),
    path("beheer/", admin.site.urls),
]

# Error pages of the portal's own (and JSON under /api/): see portal/error_pages.py.
handler400 = "portal.error_pages.bad_request"
handler403 = "portal.error_pages.permission_denied"
handler404 = "portal.error_pages.page_not_found"
handler500 = "portal.error_pages.server_error"
