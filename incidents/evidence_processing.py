"""The worker side of evidence: clean uploaded photos, audio and video, off the request path.

Two parts:

- **File cleaning** (no database; the task, `bench_evidence` and the memory test use it):
  `image_reencode` decodes a photo with bounded memory and writes a fresh JPEG or PNG that
  holds pixels only (no EXIF, GPS, XMP, ICC or comments); `media_remux` (incidents/media.py)
  copies audio and video streams into a fresh container without any metadata.
- **The services** the Celery tasks call: `evidence_process` (one file) and
  `evidence_pending_sweep` (stuck work). The upload stays encrypted on disk until then; the
  worker decrypts it into a private temporary directory (mode 0700, FILE_UPLOAD_TEMP_DIR)
  that is removed when the file is done, stores the cleaned file encrypted, and deletes the
  upload. Nobody can download anything before that: the evidence "wordt verwerkt".

Bounded memory for photos: Pillow refuses more than EVIDENCE_IMAGE_MAX_PIXELS, a JPEG is
decoded in draft mode (the decoder scales by 1/2, 1/4 or 1/8 while decoding) so that it is
never decoded much larger than it is stored, and the stored photo is at most
EVIDENCE_IMAGE_MAX_SIDE pixels on its long side. One file per task; a task time limit;
ffmpeg and ffprobe run in a subprocess with a timeout and a memory limit.
"""

import hashlib
import logging
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from incidents.constants import EvidenceFailure, EvidenceKind, EvidenceProcessing
from incidents.evidence import ACCEPTED_IMAGE_INPUT
from incidents.media import MediaError, media_format_sniff, media_remux
from incidents.models import Evidence, private_storage
from portal.publishing import task_publish

logger = logging.getLogger(__name__)

# Orientation tag → the transposition that shows the photo upright once the tag is gone.
ORIENTATION = 0x0112
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ProcessingFailed(Exception):
    """The file cannot be cleaned; `code` is an EvidenceFailure (shown to people in Dutch)."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class CleanedFile:
    content_type: str
    size: int
    sha256: str


# --- File cleaning (no database) ----------------------------------------------------------------


def _draft_size(width: int, height: int, max_side: int) -> tuple[int, int] | None:
    """The size to ask the JPEG decoder for: the smallest 1/2^n scale that still fits max_side."""
    longest = max(width, height)
    if longest <= max_side:
        return None
    scale = max_side / longest
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def image_reencode(*, source: str, target: str) -> str:
    """Write the photo at `source` to `target` as a fresh JPEG or PNG; return its content type.

    Raises ProcessingFailed (UNREADABLE, TOO_LARGE). Memory: about twice the stored photo (at
    most EVIDENCE_IMAGE_MAX_SIDE on its long side; a JPEG is decoded at most twice that
    large), plus, for formats other than JPEG, the decoded original (at most
    EVIDENCE_IMAGE_MAX_PIXELS).
    """
    max_pixels = settings.EVIDENCE_IMAGE_MAX_PIXELS
    max_side = settings.EVIDENCE_IMAGE_MAX_SIDE
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as opened:
                return _reencode(opened, target, max_pixels=max_pixels, max_side=max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ProcessingFailed(EvidenceFailure.TOO_LARGE, str(error)) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise ProcessingFailed(EvidenceFailure.UNREADABLE, str(error)) from error


def _reencode(opened: Image.Image, target: str, *, max_pixels: int, max_side: int) -> str:
    source_format = opened.format
    if source_format not in ACCEPTED_IMAGE_INPUT:
        raise ProcessingFailed(EvidenceFailure.UNREADABLE, f"format {source_format}")
    width, height = opened.size
    if width * height > max_pixels:
        raise ProcessingFailed(EvidenceFailure.TOO_LARGE, f"{width}x{height}")
    orientation = opened.getexif().get(ORIENTATION)
    is_jpeg = source_format in ("JPEG", "MPO")
    wanted = _draft_size(width, height, max_side)
    if is_jpeg and wanted is not None:
        # The decoder itself scales down: a 48-megapixel photo never exists in memory whole.
        opened.draft(None, wanted)
    opened.load()
    target_format = "JPEG" if is_jpeg else "PNG"
    modes = ("RGB", "L") if target_format == "JPEG" else ("RGB", "RGBA", "L", "LA")
    # Each step closes the image before it, so at most two copies exist at any time.
    image: Image.Image = opened
    if image.mode not in modes:
        image = _replace(image, image.convert("RGB" if target_format == "JPEG" else "RGBA"))
    if max(image.size) >= 2 * max_side:
        # A cheap integer reduction first (a box filter, output-sized), so the fine resize
        # below never works on the full original.
        image = _replace(image, image.reduce(max(image.size) // max_side))
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        # One axis at a time (the same filter Pillow applies in one call), so that the
        # intermediate image of a one-call resize never exists next to input and output.
        image = _replace(image, image.resize((width, image.height), Image.Resampling.LANCZOS))
        image = _replace(image, image.resize((width, height), Image.Resampling.LANCZOS))
    if orientation in TRANSPOSE:
        # Keep the photo upright once the orientation tag is gone.
        image = _replace(image, image.transpose(TRANSPOSE[orientation]))
    # A fresh image holds pixels only: no EXIF, XMP, ICC profile or comment survives.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    image.close()
    options = {"quality": 90} if target_format == "JPEG" else {}
    clean.save(target, format=target_format, **options)
    return "image/jpeg" if target_format == "JPEG" else "image/png"


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    old.close()
    return new


def evidence_file_clean(*, kind: str, source: str, target: str) -> str:
    """Clean the file at `source` (a photo, audio or video) into `target`; its content type."""
    if kind == EvidenceKind.IMAGE:
        return image_reencode(source=source, target=target)
    if kind in (EvidenceKind.AUDIO, EvidenceKind.VIDEO):
        with open(source, "rb") as opened:
            media_format = media_format_sniff(opened.read(64), size=os.path.getsize(source))
        if media_format is None:
            raise ProcessingFailed(EvidenceFailure.UNREADABLE, "no media")
        try:
            info = media_remux(source=source, target=target, media_format=media_format)
        except MediaError as error:
            raise ProcessingFailed(error.code, error.detail) from error
        if info.kind != kind:
            raise ProcessingFailed(EvidenceFailure.UNREADABLE, f"{info.kind}, not {kind}")
        return info.content_type
    raise ProcessingFailed(EvidenceFailure.UNREADABLE, f"kind {kind} is not processed")


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as opened:
        while block := opened.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


# --- Services -----------------------------------------------------------------------------------


def processing_time_limits() -> tuple[int, int]:
    """(soft, hard) Celery time limits of one processing task, in seconds.

    The hard limit is also how long a started attempt counts as still running.
    """
    timeout = int(settings.EVIDENCE_PROCESSING_TIMEOUT.total_seconds())
    return timeout + 30, timeout + 60


def evidence_processing_queue(evidence_id: int) -> bool:
    """Queue the processing task with its time limits; never fails the caller (False when the
    broker refused: the pending row stays, and the sweeper queues it again)."""
    soft, hard = processing_time_limits()
    return task_publish(
        "incidents.tasks.process_evidence", evidence_id, soft_time_limit=soft, time_limit=hard
    )


def _still_running_since() -> datetime:
    return timezone.now() - timedelta(seconds=processing_time_limits()[1])


def _fail(evidence: Evidence, code: str) -> None:
    """Mark locked, pending `evidence` as failed; its upload is deleted after commit."""
    upload = evidence.upload.name
    evidence.processing = EvidenceProcessing.FAILED
    evidence.processing_failure = code
    evidence.upload = ""
    evidence.save(update_fields=["processing", "processing_failure", "upload"])
    _delete_after_commit(upload)


def _delete_after_commit(name: str) -> None:
    if not name:
        return

    def delete_upload():
        private_storage.delete(name)

    transaction.on_commit(delete_upload)


def _locked(evidence_id: int) -> Evidence | None:
    return Evidence.objects.select_for_update(of=("self",)).filter(pk=evidence_id).first()


def _claim(evidence_id: int) -> tuple[Evidence, datetime] | None:
    with transaction.atomic():
        evidence = _locked(evidence_id)
        if evidence is None or evidence.processing != EvidenceProcessing.PENDING:
            return None
        started = evidence.processing_started_at
        if started is not None and started > _still_running_since():
            return None  # another worker is on it right now
        if evidence.processing_attempts >= settings.EVIDENCE_PROCESSING_MAX_ATTEMPTS:
            _fail(evidence, EvidenceFailure.GAVE_UP)
            return None
        if not evidence.upload:
            _fail(evidence, EvidenceFailure.UNREADABLE)
            return None
        now = timezone.now()
        evidence.processing_attempts += 1
        evidence.processing_started_at = now
        evidence.save(update_fields=["processing_attempts", "processing_started_at"])
    return evidence, now


def _ours(evidence: Evidence | None, started: datetime) -> bool:
    return (
        evidence is not None
        and evidence.processing == EvidenceProcessing.PENDING
        and evidence.processing_started_at == started
    )


def _decrypt_to(evidence: Evidence, path: str) -> None:
    with evidence.upload.open("rb") as upload, open(path, "wb") as plaintext:
        while block := upload.read(1024 * 1024):
            plaintext.write(block)


def evidence_process(*, evidence_id: int) -> str:
    """Clean one pending photo, audio or video file and store the result; the new state.

    Guarantees: the cleaned file replaces the upload in one transaction, and the upload is
    deleted after the commit, also when cleaning fails (then the evidence shows why). Safe to
    run twice or at the same time: only one worker claims the file while an attempt runs
    (one attempt counts as running for the hard task time limit); a file that is not pending
    is left alone. After EVIDENCE_PROCESSING_MAX_ATTEMPTS attempts it is marked failed. An
    unexpected error (the database, a bug) releases the claim and is raised: the sweeper
    tries again later.
    """
    claimed = _claim(evidence_id)
    if claimed is None:
        return Evidence.objects.filter(pk=evidence_id).values_list("processing", flat=True).first()
    evidence, started = claimed
    stored_name = ""
    try:
        with tempfile.TemporaryDirectory(
            dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="mwb-evidence-"
        ) as work:
            source, target = os.path.join(work, "upload"), os.path.join(work, "cleaned")
            _decrypt_to(evidence, source)
            content_type = evidence_file_clean(kind=evidence.kind, source=source, target=target)
            cleaned = CleanedFile(
                content_type=content_type,
                size=os.path.getsize(target),
                sha256=_sha256_file(target),
            )
            with open(target, "rb") as opened:
                evidence.file.save("cleaned", File(opened), save=False)
            stored_name = evidence.file.name
    except (ProcessingFailed, SoftTimeLimitExceeded) as error:
        code = getattr(error, "code", EvidenceFailure.TIMEOUT)
        logger.info("Evidence %s could not be processed: %s", evidence_id, error)
        with transaction.atomic():
            locked = _locked(evidence_id)
            if not _ours(locked, started):
                return locked.processing if locked else ""
            _fail(locked, code)
        return EvidenceProcessing.FAILED
    except BaseException:
        if stored_name:
            private_storage.delete(stored_name)
        Evidence.objects.filter(
            pk=evidence_id,
            processing=EvidenceProcessing.PENDING,
            processing_started_at=started,
        ).update(processing_started_at=None)
        raise
    with transaction.atomic():
        locked = _locked(evidence_id)
        if not _ours(locked, started):
            private_storage.delete(stored_name)
            return locked.processing if locked else ""
        upload = locked.upload.name
        locked.file.name = stored_name
        locked.upload = ""
        locked.content_type = cleaned.content_type
        locked.size = cleaned.size
        locked.sha256 = cleaned.sha256
        locked.processing = EvidenceProcessing.READY
        locked.processing_failure = ""
        locked.save(
            update_fields=[
                "file",
                "upload",
                "content_type",
                "size",
                "sha256",
                "processing",
                "processing_failure",
            ]
        )
        _delete_after_commit(upload)
    return EvidenceProcessing.READY


def evidence_pending_sweep(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Find processing work that got stuck; return the evidence ids to queue again.

    Pending evidence whose work was queued more than `older_than` ago and that no worker is
    on now (never started, or started longer ago than the hard time limit) is due. Evidence
    that already had EVIDENCE_PROCESSING_MAX_ATTEMPTS attempts is marked failed instead
    (its upload deleted after commit); the rest gets a new queue time and is returned.
    """
    now = timezone.now()
    due = Evidence.objects.filter(
        processing=EvidenceProcessing.PENDING,
        processing_queued_at__lte=now - older_than,
    ).filter(
        Q(processing_started_at__isnull=True) | Q(processing_started_at__lte=_still_running_since())
    )
    cap = settings.EVIDENCE_PROCESSING_MAX_ATTEMPTS
    for evidence_id in list(
        due.filter(processing_attempts__gte=cap).values_list("pk", flat=True)[:limit]
    ):
        with transaction.atomic():
            locked = _locked(evidence_id)
            if locked is not None and locked.processing == EvidenceProcessing.PENDING:
                _fail(locked, EvidenceFailure.GAVE_UP)
    again = list(due.filter(processing_attempts__lt=cap).values_list("pk", flat=True)[:limit])
    Evidence.objects.filter(pk__in=again).update(processing_queued_at=now)
    return again
