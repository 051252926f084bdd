from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import selectors, services
from portal.constants import Role
from portal.forms import ApiTokenForm, LoginForm
from portal.models import Notification

HOME_TEMPLATES = {
    Role.OFFICEHOLDER: "portal/home_officeholder.html",
    Role.REGISTRAR: "portal/home_registrar.html",
    Role.SUPPORT: "portal/home_support.html",
    Role.ADMIN: "portal/home_admin.html",
}


@login_required
@require_GET
def home(request):
    """The start page of each role: what this person can do here."""
    user = request.user
    context = {}
    if user.role == Role.ADMIN:
        context["organisations_without_desk"] = selectors.organisations_without_desk()
        context["heartbeat"] = selectors.worker_heartbeat_get(name="worker")
    return render(request, HOME_TEMPLATES[user.role], context)


@require_GET
def privacy(request):
    return render(request, "portal/privacy.html")


@require_GET
def accessibility(request):
    return render(request, "portal/accessibility.html")


class LoginView(auth_views.LoginView):
    """Django's login, plus: switch to the person's preferred language once logged in."""

    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().preferred_language
        translation.activate(language)
        response.set_cookie(
            "django_language", language, samesite="Lax", secure=self.request.is_secure()
        )
        return response


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
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    return render(
        request,
        "portal/profile.html",
        {"form": form, "new_key": new_key, "tokens": selectors.api_tokens_for(user=request.user)},
    )


@login_required
@require_POST
def api_token_revoke(request, pk):
    if services.api_token_revoke(user=request.user, token_id=pk):
        messages.success(request, _("De API-sleutel is ingetrokken. Hij werkt niet meer."))
    return redirect("profile")
