"""The passkey ceremony endpoints, under django-otp-webauthn's own URL names (its template tags
and scripts reverse them), served by portal's views (portal/views_passkeys.py)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from portal import views_passkeys

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registratie/begin/",
        views_passkeys.PasskeyRegistrationBeginView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registratie/klaar/",
        views_passkeys.PasskeyRegistrationCompleteView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "inloggen/begin/",
        views_passkeys.PasskeyAuthenticationBeginView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "inloggen/klaar/",
        views_passkeys.PasskeyAuthenticationCompleteView.as_view(),
        name="credential-authentication-complete",
    ),
    # The library's script texts (Dutch and English are in its catalogue).
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
