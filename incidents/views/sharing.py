"""The share target of the installed portal: a screenshot or voice message into a quick report.

`share_target` takes the file the phone's share sheet posts (no session, no CSRF token: the
share sheet has neither), keeps it (incidents/sharing.py) and goes on to the quick report,
through the login when needed. The quick report shows the file; nothing is filed until send.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents import sharing
from incidents.evidence import EvidenceRejected
from portal.login_protection import share_rate_exceeded
from portal.policies import Workspace, workspace_required
from portal.pwa import SHARE_FILE_FIELD


@csrf_exempt  # the share sheet posts without a token; this view only stores a file
@require_POST
def share_target(request):
    """Keep the shared file for 15 minutes against a one-time cookie; go to the quick report."""
    uploaded = request.FILES.get(SHARE_FILE_FIELD)
    if uploaded is None:
        messages.info(request, _("Er is geen bestand gedeeld. U kunt er hieronder een kiezen."))
        return redirect("incidents:quick")
    if share_rate_exceeded(request):
        return render(
            request,
            "incidents/officeholder/share_refused.html",
            {
                "reason": _(
                    "Er zijn te veel bestanden gedeeld. Probeer het over een kwartier opnieuw."
                )
            },
            status=429,
        )
    try:
        token = sharing.shared_upload_keep(uploaded=uploaded)
    except EvidenceRejected as rejected:
        return render(
            request,
            "incidents/officeholder/share_refused.html",
            {"reason": str(rejected)},
            status=400,
        )
    # 303: the browser follows with a GET (through the login page when there is no session).
    response = HttpResponseRedirect(reverse("incidents:quick"), status=303)
    response.set_cookie(
        sharing.SHARE_COOKIE,
        token,
        max_age=int(sharing.SHARE_LIFETIME.total_seconds()),
        path=sharing.SHARE_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@workspace_required(Workspace.REPORT)
@require_POST
def share_discard(request):
    """The person removes the shared file from the quick report; it is deleted at once."""
    shared = sharing.shared_upload_for(
        token=request.COOKIES.get(sharing.SHARE_COOKIE), user=request.user
    )
    if shared is not None:
        sharing.shared_upload_remove(shared=shared)
        messages.success(request, _("Het gedeelde bestand is verwijderd."))
    response = redirect("incidents:quick")
    response.delete_cookie(sharing.SHARE_COOKIE, path=sharing.SHARE_COOKIE_PATH)
    return response
