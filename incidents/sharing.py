"""Files shared to the installed portal (the manifest's share target), kept for a quick report.

Android's share sheet posts the file to `incidents:share` without a session or CSRF token.
The file goes through the same checks as any upload (`incidents.evidence.evidence_inspect`),
is stored encrypted for SHARE_LIFETIME against a one-time cookie, and is attached to the quick
report only when the person presses send, where it is checked again and filed through
`incident_submit`. Nothing is filed before that.
"""

import hashlib
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from incidents.evidence import InspectedFile, evidence_inspect, sanitise_file_name
from incidents.models import SharedUpload, private_storage

SHARE_LIFETIME = timedelta(minutes=15)
SHARE_COOKIE = "mwb_gedeeld"
SHARE_COOKIE_PATH = "/meldingen/"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def shared_upload_keep(*, uploaded) -> str:
    """Check a shared file like any upload and keep it encrypted; returns the one-time token.

    Raises EvidenceRejected (with the reason) for a file that an upload would refuse: nothing
    is stored then. The token goes into a cookie; only its hash is stored.
    """
    inspected = evidence_inspect(name=uploaded.name, file=uploaded)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    shared = SharedUpload(
        token_hash=_token_hash(token),
        original_name=sanitise_file_name(uploaded.name),
        size=inspected.size,
        created_at=now,
        expires_at=now + SHARE_LIFETIME,
    )
    inspected.source.seek(0)
    shared.upload.save("shared", File(inspected.source), save=False)
    shared.save()
    return token


def shared_upload_for(*, token: str | None, user) -> SharedUpload | None:
    """The unexpired shared file of this cookie, claimed by `user` on first sight; else None.

    Once claimed, it belongs to that person: someone else logging in on the same browser
    does not see it.
    """
    if not token:
        return None
    with transaction.atomic():
        shared = (
            SharedUpload.objects.select_for_update()
            .filter(token_hash=_token_hash(token), expires_at__gt=timezone.now())
            .first()
        )
        if shared is None or (shared.owner_id is not None and shared.owner_id != user.pk):
            return None
        if shared.owner_id is None:
            shared.owner = user
            shared.save(update_fields=["owner"])
    return shared


@contextmanager
def shared_upload_inspected(shared: SharedUpload):
    """The shared file, decrypted into a temporary file and checked again, as an upload."""
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        with private_storage.open(shared.upload.name) as stored:
            shutil.copyfileobj(stored, copy, length=1024 * 1024)
        copy.seek(0)
        inspected: InspectedFile = evidence_inspect(name=shared.original_name, file=copy)
        yield inspected


@contextmanager
def shared_upload_files(shared: SharedUpload | None):
    """[the shared file as an upload], or [] without one (for `incident_submit`'s files)."""
    if shared is None:
        yield []
        return
    with shared_upload_inspected(shared) as inspected:
        yield [inspected]


def shared_upload_remove(*, shared: SharedUpload) -> None:
    """Remove the shared file and its row (sent, removed by the person, or expired)."""
    name = shared.upload.name
    shared.delete()
    if name:
        transaction.on_commit(lambda: private_storage.delete(name))


def shared_uploads_remove_expired(*, now=None) -> int:
    """Remove every shared file whose 15 minutes are over. Returns how many went."""
    now = now or timezone.now()
    removed = 0
    for shared in SharedUpload.objects.filter(expires_at__lte=now):
        with transaction.atomic():
            shared_upload_remove(shared=shared)
        removed += 1
    return removed
