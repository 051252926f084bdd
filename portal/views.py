import json
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.i18n import set_language
from django_otp import login as otp_login
from django_otp import match_token

from portal import kept_forms, passkeys, pwa, selectors, services, sso, two_factor
from portal.access import (
    SECOND_FACTOR_PENDING_SESSION_KEY,
    api_token_idle_timeout,
    api_token_lifetime,
    second_factor_missing,
    session_is_verified,
    user_may_switch_second_factor_off,
    user_must_use_second_factor,
)
from portal.constants import SecurityChange
from portal.errors import DomainError
from portal.forms import (
    ApiTokenForm,
    ContactForm,
    InvitationAcceptForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SecondFactorCodeForm,
    SecondFactorOffForm,
)
from portal.login_protection import (
    lockout_response,
    login_rate_exceeded,
    password_reset_rate_exceeded,
)
from portal.middleware import LAST_SEEN_SESSION_KEY
from portal.models import Notification
from portal.policies import Workspace, home_template_for, identity_provider_for, workspaces_for
from portal.reachability import desks_unreachable


@login_required
@require_GET
def home(request):
    """The start page of each role: what this person can do here."""
    user = request.user
    context = {}
    if Workspace.ADMIN in workspaces_for(user):
        context["organisations_without_desk"] = selectors.organisations_without_desk()
        context["heartbeat"] = selectors.worker_heartbeat_get(name="worker")
        context["outbox_failed"] = selectors.outbox_failed_count()
        context["desks_unreachable"] = desks_unreachable()
    return render(request, home_template_for(user), context)


@require_safe
def web_app_manifest(request):
    """The web app manifest: installable portal, with a share target for screenshots."""
    response = JsonResponse(pwa.web_app_manifest(), json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
def service_worker(request):
    """The service worker, from the site root so that its scope is the whole portal."""
    urls = pwa.precached_urls()
    response = render(
        request,
        "portal/serviceworker.js",
        {
            "version": pwa.service_worker_version(urls),
            "offline_url": reverse("offline"),
            "static_prefix": settings.STATIC_URL,
            "precache_json": json.dumps(urls),
        },
        content_type="text/javascript; charset=utf-8",
    )
    # Browsers check for a new worker at every visit; no copy of the script is kept.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def offline(request):
    """What the service worker shows when a page cannot load (stored without cookies)."""
    return render(request, "portal/offline.html")


@require_GET
def privacy(request):
    """The privacy statement: who is responsible, how long, your rights (from the settings).

    The retention periods are the configured ones, so the statement never promises others.
    """
    return render(
        request,
        "portal/privacy.html",
        {
            "controller_name": settings.PRIVACY_CONTROLLER_NAME,
            "controller_contact": settings.PRIVACY_CONTROLLER_CONTACT,
            "officer_name": settings.PRIVACY_OFFICER_NAME,
            "officer_contact": settings.PRIVACY_OFFICER_CONTACT,
            "retention_months": settings.RETENTION_MONTHS,
            "login_days": settings.LOGIN_ATTEMPT_RETENTION.days,
            "access_log_days": settings.ACCESS_LOG_RETENTION.days,
        },
    )


@require_GET
def accessibility(request):
    return render(request, "portal/accessibility.html")


class LoginView(auth_views.LoginView):
    """Django's login, plus: switch to the person's preferred language once logged in."""

    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["passkeys_unavailable_reason"] = passkeys.passkeys_unavailable_reason(self.request)
        context["kept_form_waiting"] = kept_forms.kept_form_waiting(self.request)
        context["sso_available"] = sso.providers_for_login().exists()
        context["provider_logout"] = self.request.session.pop(sso.PROVIDER_LOGOUT_SESSION_KEY, None)
        return context

    def post(self, request, *args, **kwargs):
        # Per client IP across usernames; axes handles each username+IP pair.
        if login_rate_exceeded(request):
            return lockout_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        return login_completed(self.request, form.get_user(), super().form_valid(form))


def login_completed(request, user, response):
    """What every login does once the person is known (a password here, or a provider:
    portal.sso). `response` goes where the person was heading; the code step comes first
    when the second factor is still missing."""
    # A secret shown during an earlier, unfinished setup (an initial password shared,
    # a device reset) never becomes this person's second factor.
    two_factor.unconfirmed_devices_remove(user=user)
    if two_factor.user_has_second_factor(user):
        # An officeholder who chose a second factor needs it on every login too.
        request.session[SECOND_FACTOR_PENDING_SESSION_KEY] = True
    if second_factor_missing(request):
        response = redirect_to_login(response.url, login_url=reverse("two_factor_verify"))
    # A language chosen on the login page (or before it) becomes the preference.
    chosen = request.session.pop(LANGUAGE_CHOSEN_SESSION_KEY, None)
    if chosen:
        services.user_language_set(user=user, language=chosen)
    language = user.preferred_language
    translation.activate(language)
    response.set_cookie("django_language", language, samesite="Lax", secure=request.is_secure())
    kept_forms.account_cookie_set(response, user=user)
    return response


class LogoutView(auth_views.LogoutView):
    """Django's logout, plus: after a login through a provider, the login page offers to log
    out there too (a link: the provider's own page asks, and the CSP allows no form to go
    there)."""

    def post(self, request, *args, **kwargs):
        offer = sso.provider_logout_offer(request)
        response = super().post(request, *args, **kwargs)
        if offer:
            request.session[sso.PROVIDER_LOGOUT_SESSION_KEY] = offer
        return response


@require_GET
def sso_choose(request):
    """ "Inloggen met uw organisatie": the providers, one link each."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return render(
        request,
        "portal/sso_choose.html",
        {"providers": sso.providers_for_login(), "next": next_url},
    )


# A language chosen before logging in, kept in the (anonymous) session until the login.
LANGUAGE_CHOSEN_SESSION_KEY = "portal_language_chosen"


def language_set(request):
    """Django's `set_language`, plus: the choice becomes the person's preferred language, now
    when logged in, else at the login in this browser session (logging out forgets it).
    As in Django, only a POST changes anything; a GET just goes back."""
    response = set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            services.user_language_set(user=request.user, language=language)
        else:
            request.session[LANGUAGE_CHOSEN_SESSION_KEY] = language
    return response


@login_required
@require_POST
def keep_alive(request):
    """ "Ingelogd blijven": the idle time of a staff session starts again now.

    The page's script asks for JSON; without the script the form goes back to the page.
    """
    request.session[LAST_SEEN_SESSION_KEY] = int(time.time())
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"idle_timeout_seconds": _idle_timeout_seconds()})
    return redirect(_safe_next(request))


def _idle_timeout_seconds() -> int:
    return int(settings.STAFF_IDLE_TIMEOUT.total_seconds())


@login_required
@require_GET
def notification_list(request):
    """The person's notifications: a reference and a link each, newest first."""
    return render(
        request,
        "portal/notifications.html",
        {"notifications": selectors.notifications_for(user=request.user)},
    )


@login_required
@require_POST
def notification_open(request, pk):
    """Mark one notification read and go to what it is about."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    return redirect(
        notification.link if url_has_allowed_host_and_scheme(notification.link, None) else "home"
    )


@login_required
@require_POST
def notification_read_all(request):
    services.notification_mark_read(user=request.user)
    messages.success(request, _("Alle notificaties zijn gelezen."))
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The person's profile: who they are here, and their personal API tokens."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    may_create_tokens = not second_factor_missing(request)
    if request.method == "POST" and not may_create_tokens:
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    return _profile_page(request, form=form, new_key=new_key)


def _profile_page(request, *, form=None, new_key=None, contact_form=None):
    may_create_tokens = not second_factor_missing(request)
    user = request.user
    return render(
        request,
        "portal/profile.html",
        {
            "form": ApiTokenForm() if form is None else form,
            "contact_form": ContactForm(
                initial={"phone": user.phone, "contact_preference": user.contact_preference}
            )
            if contact_form is None
            else contact_form,
            "new_key": new_key,
            "tokens": selectors.api_tokens_for(user=request.user),
            "token_lifetime_days": api_token_lifetime(request.user).days,
            "token_idle_minutes": _minutes(api_token_idle_timeout(request.user)),
            "may_create_tokens": may_create_tokens,
            "has_second_factor": two_factor.user_has_second_factor(request.user),
            "second_factor_required": user_must_use_second_factor(request.user),
            "second_factor_off_form": SecondFactorOffForm(),
            "passkeys": passkeys.passkeys_for(user=request.user),
            "passkeys_unavailable_reason": passkeys.passkeys_unavailable_reason(request),
        },
    )


@login_required
@require_POST
def profile_contact(request):
    """Save how to reach me (phone, preferred way and time); a wrong number keeps the text."""
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.user_contact_update(
                user=request.user,
                phone=form.cleaned_data["phone"],
                contact_preference=form.cleaned_data["contact_preference"],
            )
        except DomainError as error:
            form.add_error("phone", error.message)
        else:
            messages.success(request, _("Uw contactgegevens zijn opgeslagen."))
            return redirect("profile")
    return _profile_page(request, contact_form=form)


def _minutes(duration) -> int | None:
    return None if duration is None else int(duration.total_seconds() // 60)


@login_required
@require_POST
def api_token_revoke(request, pk):
    if services.api_token_revoke(user=request.user, token_id=pk):
        messages.success(request, _("De API-sleutel is ingetrokken. Hij werkt niet meer."))
    return redirect("profile")


@login_required
@require_POST
def passkey_remove(request, pk):
    """The person removes one of their passkeys (a lost phone): their other sessions end."""
    if services.passkey_remove(user=request.user, passkey_id=pk, request=request):
        messages.success(
            request,
            _("De passkey is verwijderd. Op andere apparaten bent u nu uitgelogd."),
        )
    return redirect("profile")


def _safe_next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


def _second_factor_done(request, device) -> None:
    otp_login(request, device)
    request.session.pop(SECOND_FACTOR_PENDING_SESSION_KEY, None)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The second login step: a code from the authenticator app, a backup code, or a passkey."""
    if not second_factor_missing(request):
        return redirect(_safe_next(request))
    has_app = two_factor.totp_device_get(user=request.user) is not None
    has_passkey = passkeys.user_has_passkey(request.user)
    if not has_app and not has_passkey:
        # Staff without an app set one up first (guided, on first login).
        return redirect_to_login(_safe_next(request), login_url=reverse("two_factor_setup"))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            _second_factor_done(request, device)
            return redirect(_safe_next(request))
        form.add_error(
            "code", _("Deze code klopt niet of is al gebruikt. Probeer de nieuwe code uit de app.")
        )
    return render(
        request,
        "portal/two_factor_verify.html",
        {
            "form": form,
            "next": _safe_next(request),
            "has_app": has_app,
            "has_passkey": has_passkey,
            "passkeys_unavailable_reason": passkeys.passkeys_unavailable_reason(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: QR code and secret, confirm with a code, backup codes once.

    Mandatory for staff on their first login; offered to officeholders on their profile.
    Every visit (GET) shows a new secret, bound to this session; the form confirms that one.
    """
    if two_factor.totp_device_get(user=request.user) is not None:
        return redirect(_safe_next(request, default="profile"))
    form = SecondFactorCodeForm(request.POST or None)
    device = None
    if request.method == "POST":
        device = two_factor.totp_setup_device_in_session(user=request.user, session=request.session)
        if device is None:
            # Set up elsewhere meanwhile, or removed at a login: start again with a new secret.
            form = SecondFactorCodeForm()
            messages.error(
                request,
                _("Deze QR-code is niet meer geldig. Scan de nieuwe code hieronder met uw app."),
            )
    if device is None:
        device = two_factor.totp_device_for_setup(
            user=request.user, session=request.session, fresh=True
        )
    if request.method == "POST" and form.is_bound and form.is_valid():
        codes = two_factor.totp_device_confirm(device=device, code=form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            _second_factor_done(request, device)
            request.session.pop(two_factor.SETUP_DEVICE_SESSION_KEY, None)
            services.account_security_change(
                user=request.user, change=SecurityChange.TWO_FACTOR_ON, request=request
            )
            return render(
                request,
                "portal/two_factor_backup_codes.html",
                {"codes": codes, "next": _safe_next(request)},
            )
        form.add_error(
            "code", _("Deze code klopt niet. Controleer de tijd op uw telefoon en probeer opnieuw.")
        )
    return render(
        request,
        "portal/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.totp_qr_svg(device),
            "secret": two_factor.totp_secret_text(device),
            "next": _safe_next(request),
            "second_factor_required": user_must_use_second_factor(request.user),
        },
    )


@login_required
@require_POST
def two_factor_backup_codes_renew(request):
    """New backup codes (the old ones stop working), only from a verified session."""
    if not session_is_verified(request.user):
        raise PermissionDenied
    codes = two_factor.backup_codes_create(user=request.user)
    return render(
        request,
        "portal/two_factor_backup_codes.html",
        {"codes": codes, "next": reverse("profile")},
    )


@login_required
@require_POST
def two_factor_remove(request):
    """An officeholder switches the code off again, with their password and a current code.

    A password alone is not enough: whoever knows only the password cannot take the second
    factor away. Staff must keep it: for them this page does not exist (404).
    """
    if not user_may_switch_second_factor_off(request.user):
        raise Http404
    form = SecondFactorOffForm(request.POST)
    user = request.user
    confirmed = (
        form.is_valid()
        and user.check_password(form.cleaned_data["password"])
        and match_token(user, form.cleaned_data["code"]) is not None
    )
    if not confirmed:
        messages.error(request, _("Het wachtwoord of de code klopt niet. Er is niets veranderd."))
    elif two_factor.second_factor_remove(user=user):
        services.account_security_change(
            user=user, change=SecurityChange.TWO_FACTOR_OFF, request=request
        )
        messages.success(
            request, _("Inloggen met een code staat uit. U logt nu in met alleen uw wachtwoord.")
        )
    return redirect("profile")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password. Every other session and every API token of this person ends."""

    form_class = PasswordChangeForm
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.account_security_change(
            user=form.user, change=SecurityChange.PASSWORD_CHANGED, request=self.request
        )
        messages.success(
            self.request,
            _("Uw wachtwoord is gewijzigd. Op andere apparaten bent u nu uitgelogd."),
        )
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail: rate-limited, with a link to PORTAL_BASE_URL.

    Over the limit (per IP or per account) nothing is sent, and the answer is exactly the
    usual one, so that it says nothing about accounts or limits. The link never takes its
    host from the request (a forged Host header cannot redirect it).
    """

    form_class = PasswordResetForm
    template_name = "portal/password_reset.html"
    email_template_name = services.RESET_LINK_EMAIL_TEMPLATE
    subject_template_name = services.RESET_LINK_SUBJECT_TEMPLATE

    def form_valid(self, form):
        if password_reset_rate_exceeded(self.request, form.cleaned_data["email"]):
            return redirect(self.get_success_url())
        self.extra_email_context = {"portal_base_url": settings.PORTAL_BASE_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the link: like a password change, everything else ends."""

    template_name = "portal/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        services.account_security_change(
            user=form.user, change=SecurityChange.PASSWORD_CHANGED, request=self.request
        )
        return response


@never_cache
@require_http_methods(["GET", "POST"])
def desk_mailbox_confirm(request, token):
    """The link of the weekly mailbox e-mail: a page with one button, so a mail scanner that
    opens the link confirms nothing; the click on the button records that the mailbox is read."""
    if request.method == "POST":
        try:
            desk = services.desk_mailbox_confirm(token=token)
        except DomainError as error:
            return render(
                request, "portal/desk_mailbox_confirm.html", {"error": error.message}, status=400
            )
        return render(request, "portal/desk_mailbox_confirm.html", {"confirmed": desk})
    return render(request, "portal/desk_mailbox_confirm.html", {})


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """The link of an invitation: choose a password, then the second factor (staff) or the
    offer of a passkey or an app (officeholders). An expired or used link says so and offers
    to ask the coordinator for a new one."""
    state = services.invitation_for_token(token=token)
    if state is None or state.state != "valid":
        return _invitation_invalid(request, token=token, state=state)
    person = state.invitation.person
    provider = identity_provider_for(person)
    if provider is not None:
        # The person logs in with their organisation's account: the portal keeps no password.
        return render(
            request,
            "portal/invitation_accept_sso.html",
            {
                "person": person,
                "provider": provider,
                "token": token,
                "expires_at": state.invitation.expires_at,
            },
        )
    form = InvitationAcceptForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.invitation_accept(
                token=token, password=form.cleaned_data["new_password1"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            auth_login(request, person, backend="django.contrib.auth.backends.ModelBackend")
            translation.activate(person.preferred_language)
            if user_must_use_second_factor(person):
                messages.success(
                    request,
                    _("Uw wachtwoord is opgeslagen. Stel nu de app voor de inlogcode in."),
                )
                return redirect_to_login(reverse("home"), login_url=reverse("two_factor_setup"))
            return redirect("account_welcome")
    return render(
        request,
        "portal/invitation_accept.html",
        {"form": form, "person": person, "expires_at": state.invitation.expires_at},
    )


@require_GET
def invitation_sso(request, token):
    """The invitation's link for a person whose organisation has a provider: log in there
    once, and that account is linked to this person (portal.sso)."""
    state = services.invitation_for_token(token=token)
    if state is None or state.state != "valid":
        return _invitation_invalid(request, token=token, state=state)
    provider = identity_provider_for(state.invitation.person)
    if provider is None:
        return redirect("invitation_accept", token=token)
    return sso.login_start(request, provider, invitation_token=token)


def _invitation_invalid(request, *, token, state, requested=False):
    return render(
        request,
        "portal/invitation_invalid.html",
        {
            "token": token,
            "known": state is not None,
            "expired": state is not None and state.state == "expired",
            "requested": requested,
        },
        status=410 if state is not None else 404,
    )


@never_cache
@require_POST
def invitation_renewal_request(request, token):
    """The button on an expired or used link: the desk's coordinators are asked for a new
    one (once a day per link; the page says the same either way)."""
    state = services.invitation_for_token(token=token)
    if state is not None and state.state == "valid":
        return redirect("invitation_accept", token=token)
    services.invitation_renewal_request(token=token)
    return _invitation_invalid(request, token=token, state=state, requested=True)


@login_required
@require_GET
def account_welcome(request):
    """After the first password: an officeholder may add a passkey or an authenticator app,
    or go straight to their start page."""
    return render(
        request,
        "portal/account_welcome.html",
        {
            "passkeys": passkeys.passkeys_for(user=request.user),
            "passkeys_unavailable_reason": passkeys.passkeys_unavailable_reason(request),
            "has_app": two_factor.totp_device_get(user=request.user) is not None,
        },
    )
