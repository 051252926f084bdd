from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from portal import selectors
from portal.constants import Role
from portal.forms import LoginForm

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
