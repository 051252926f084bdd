from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse
from django.views.decorators.http import require_GET

from incidents.models import Evidence
from incidents.selectors import evidence_get_for
from portal.models import AccessAction
from portal.services import access_log_record


def evidence_response(evidence: Evidence) -> FileResponse:
    """A download that no browser will render or sniff: attachment, nosniff, sandboxed."""
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def evidence_download(request, reference, pk):
    """Serve an evidence file to whoever may see its incident; always as a download."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    evidence = evidence_get_for(user=request.user, reference=reference, pk=pk)
    access_log_record(
        request=request,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        incident=evidence.incident,
        what=f"evidence {evidence.pk}",
    )
    return evidence_response(evidence)
