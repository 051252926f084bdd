from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from incidents.constants import EvidenceProcessing
from incidents.errors import EvidenceNotReady
from incidents.evidence import evidence_download_name
from incidents.models import Evidence
from incidents.selectors import evidence_get_for
from portal.models import AccessAction
from portal.services import access_log_record


def evidence_response(evidence: Evidence) -> FileResponse:
    """A download that no browser will render or sniff: attachment, nosniff, sandboxed.

    Only the cleaned file is ever served, under a name with the extension of its stored type.
    While the worker is still cleaning the upload, or when that failed, this raises
    EvidenceNotReady (the page and the API answer 409): the upload itself is never served.
    """
    if not evidence.is_ready:
        if evidence.processing == EvidenceProcessing.FAILED:
            raise EvidenceNotReady(EvidenceNotReady.failed_message)
        raise EvidenceNotReady()
    stored = evidence.file.storage.open(evidence.file.name, "rb")
    response = FileResponse(
        # The plaintext, decrypted frame by frame; its length is known from the database.
        stored.file,
        as_attachment=True,
        filename=evidence_download_name(evidence.original_name, evidence.content_type),
        content_type=evidence.content_type,
    )
    response.block_size = 256 * 1024
    response["Content-Length"] = str(evidence.size)
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
    try:
        response = evidence_response(evidence)
    except EvidenceNotReady as not_ready:
        return render(
            request,
            "incidents/evidence_unavailable.html",
            {"evidence": evidence, "incident": evidence.incident, "message": not_ready.message},
            status=409,
        )
    access_log_record(
        request=request,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        incident=evidence.incident,
        what=f"evidence {evidence.pk}",
    )
    return response
