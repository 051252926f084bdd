"""A desk coordinator's standard replies ("Beheer", next to the people pages): the own desk's
texts to add, change and switch off, and the national defaults to read. Thin edges: the scope
is `standard_reply_policy`; another desk's reply or a national default answers 404 on the
pages that change one."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors, services
from incidents.forms_desk import StandardReplyForm
from incidents.policies import standard_reply_policy
from portal.policies import Workspace, workspace_required

manage_required = workspace_required(Workspace.MANAGE)


@manage_required
@require_GET
def reply_list(request):
    """The own desk's replies (with a link to change them) and the national defaults."""
    rows = [
        (reply, standard_reply_policy.allows(request.user, "keep", reply))
        for reply in selectors.standard_replies_kept_for(user=request.user).select_related("desk")
    ]
    return render(request, "incidents/replies/list.html", {"rows": rows})


def _save(request, form, *, reply=None):
    data = form.cleaned_data
    return services.standard_reply_save(
        actor=request.user,
        reply=reply,
        desk=request.user.desk if reply is None else None,
        title=data["title"],
        text_nl=data["text_nl"],
        text_en=data["text_en"],
        active=data["active"],
    )


@manage_required
@require_http_methods(["GET", "POST"])
def reply_add(request):
    form = StandardReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reply = _save(request, form)
        messages.success(
            request, _("Het standaardantwoord '%(title)s' is opgeslagen.") % {"title": reply.title}
        )
        return redirect("replies:list")
    return render(request, "incidents/replies/form.html", {"form": form, "reply": None})


@manage_required
@require_http_methods(["GET", "POST"])
def reply_edit(request, pk):
    reply = standard_reply_policy.get(request.user, "keep", pk=pk)
    form = StandardReplyForm(
        request.POST if request.method == "POST" else None,
        initial={
            "title": reply.title,
            "text_nl": reply.text_nl,
            "text_en": reply.text_en,
            "active": reply.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        _save(request, form, reply=reply)
        messages.success(
            request, _("Het standaardantwoord '%(title)s' is opgeslagen.") % {"title": reply.title}
        )
        return redirect("replies:list")
    return render(request, "incidents/replies/form.html", {"form": form, "reply": reply})


@manage_required
@require_POST
def reply_deactivate(request, pk):
    reply = standard_reply_policy.get(request.user, "keep", pk=pk)
    if services.standard_reply_deactivate(actor=request.user, reply=reply):
        messages.success(
            request,
            _("Het standaardantwoord '%(title)s' staat uit. U kunt het weer aanzetten.")
            % {"title": reply.title},
        )
    return redirect("replies:list")
