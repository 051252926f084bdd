"""Off the request path: the upload is stored encrypted, the worker cleans it, the sweeper
catches what got stuck.

The web request answers with the evidence "wordt verwerkt"; the upload itself can never be
downloaded (409 with a clear message on the page and in the API) and is deleted once the
worker is done, also when cleaning fails, which the pages then say in plain Dutch.
"""

import hashlib
import io
import logging
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from PIL import Image

from incidents import evidence_processing, services, tasks
from incidents.constants import EvidenceFailure, EvidenceProcessing
from incidents.evidence import evidence_inspect
from incidents.evidence_processing import evidence_pending_sweep, evidence_process
from incidents.models import Evidence
from tests.api.conftest import token_client, world_build
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Testcamera"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 5.0, 26.0), 3: "E", 4: (5.0, 7.0, 9.0)}
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (180, 40, 40)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _broken_jpeg() -> bytes:
    """A JPEG whose header reads fine (so the upload is accepted) but whose data is cut off."""
    out = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(out, format="JPEG")
    return out.getvalue()[: len(out.getvalue()) // 3]


def _pending_photo(incident, data: bytes | None = None, name: str = "foto.jpg") -> Evidence:
    """A photo added through the service, without running the commit (so: still pending)."""
    inspected = evidence_inspect(name=name, data=data or _jpeg_with_gps())
    [evidence] = services.evidence_add(
        incident=incident, actor=incident.officeholder, files=[inspected]
    )
    return evidence


def _on_disk(private_storage_in_tmp, name: str) -> bool:
    return bool(name) and (private_storage_in_tmp / name).exists()


def test_an_upload_is_answered_at_once_and_stays_unavailable_until_processed(
    client, private_storage_in_tmp
):
    """The follow-up with a photo is stored at once as an encrypted upload: the evidence shows
    "Wordt verwerkt" and its download answers 409, never the upload itself."""
    incident = IncidentFactory()
    client.force_login(incident.officeholder)
    original = _jpeg_with_gps()
    response = client.post(
        reverse("incidents:follow_up", args=[incident.reference]),
        {"text": "", "evidence": SimpleUploadedFile("foto.jpg", original, "image/jpeg")},
    )
    assert response.status_code == 302  # on_commit did not run: no worker has seen it

    evidence = incident.evidence.get()
    assert evidence.processing == EvidenceProcessing.PENDING
    assert not evidence.file and evidence.sha256 == ""
    assert evidence.original_sha256 == hashlib.sha256(original).hexdigest()
    assert _on_disk(private_storage_in_tmp, evidence.upload.name)
    assert original not in (private_storage_in_tmp / evidence.upload.name).read_bytes()

    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Wordt verwerkt" in page
    assert evidence.original_sha256 in page
    assert evidence.get_absolute_url() not in page  # no download link yet
    download = client.get(evidence.get_absolute_url())
    assert download.status_code == 409
    assert "Dit bestand wordt nog verwerkt" in download.content.decode()
    assert original not in download.content


def test_after_processing_the_cleaned_file_is_served_and_the_upload_is_gone(
    client, private_storage_in_tmp
):
    """The worker stores the cleaned photo (no GPS), records both fingerprints and deletes
    the upload from disk; the download then serves the cleaned file."""
    incident = IncidentFactory()
    original = _jpeg_with_gps()
    evidence = _pending_photo(incident, original)

    assert evidence_process(evidence_id=evidence.pk) == EvidenceProcessing.READY

    evidence.refresh_from_db()
    assert evidence.processing == EvidenceProcessing.READY
    assert evidence.upload.name == ""
    with evidence.file.open("rb") as stored:
        cleaned = stored.read()
    assert evidence.sha256 == hashlib.sha256(cleaned).hexdigest()
    assert evidence.original_sha256 == hashlib.sha256(original).hexdigest() != evidence.sha256
    assert b"Testcamera" not in cleaned and b"Exif" not in cleaned
    assert evidence.size == len(cleaned)

    client.force_login(incident.officeholder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert evidence.sha256 in page and evidence.original_sha256 in page
    download = client.get(evidence.get_absolute_url())
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == cleaned
    assert download["Content-Length"] == str(len(cleaned))


def test_the_upload_file_is_deleted_after_the_commit(private_storage_in_tmp, committed):
    """Once processing committed, the encrypted upload is removed from the private storage."""
    incident = IncidentFactory()
    evidence = _pending_photo(incident)
    upload_name = evidence.upload.name
    assert _on_disk(private_storage_in_tmp, upload_name)
    with committed():
        evidence_process(evidence_id=evidence.pk)
    assert not _on_disk(private_storage_in_tmp, upload_name)
    evidence.refresh_from_db()
    assert _on_disk(private_storage_in_tmp, evidence.file.name)


def test_a_processing_failure_is_shown_in_plain_dutch(client, private_storage_in_tmp, committed):
    """A photo the worker cannot decode ends "Niet gelukt", with the reason, on the page; the
    download says it was not kept; the upload is deleted."""
    incident = IncidentFactory()
    evidence = _pending_photo(incident, _broken_jpeg(), name="kapot.jpg")
    upload_name = evidence.upload.name
    with committed():
        assert evidence_process(evidence_id=evidence.pk) == EvidenceProcessing.FAILED

    evidence.refresh_from_db()
    assert evidence.processing == EvidenceProcessing.FAILED
    assert evidence.processing_failure == EvidenceFailure.UNREADABLE
    assert not evidence.file and not evidence.upload
    assert not _on_disk(private_storage_in_tmp, upload_name)

    client.force_login(incident.officeholder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Niet gelukt" in page
    assert "Het bestand kon niet worden gelezen. Misschien is het beschadigd." in page
    assert "Het bestand is niet bewaard." in page
    download = client.get(evidence.get_absolute_url())
    assert download.status_code == 409
    assert "kon niet worden verwerkt en is niet bewaard" in download.content.decode()


def test_the_api_shows_the_state_and_refuses_the_download_until_ready(private_storage_in_tmp):
    """The API lists `processing`, both fingerprints and, when it failed, why; the download
    answers 409 `evidence_not_ready` until the file is ready."""
    world = world_build()
    incident = world.incidents["submitted"]
    client = token_client(world.tokens["owner"])
    pending = _pending_photo(incident)
    failed = _pending_photo(incident, _broken_jpeg(), name="kapot.jpg")
    evidence_process(evidence_id=failed.pk)

    listed = {
        e["id"]: e
        for e in client.get(reverse("api:incident-evidence", args=[incident.reference])).json()
    }
    assert listed[pending.pk]["processing"] == "pending"
    assert listed[pending.pk]["sha256"] == ""
    assert listed[pending.pk]["original_sha256"] == pending.original_sha256
    assert listed[failed.pk]["processing"] == "failed"
    assert listed[failed.pk]["processing_failure"].startswith("Het bestand kon niet")

    url = reverse("api:incident-evidence-download", args=[incident.reference, pending.pk])
    response = client.get(url)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "evidence_not_ready"

    evidence_process(evidence_id=pending.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="foto.jpg"'


def test_a_photo_upload_through_the_api_is_answered_pending(private_storage_in_tmp):
    """POST evidence answers 201 at once with `processing: pending` for a photo."""
    world = world_build()
    incident = world.incidents["submitted"]
    upload = io.BytesIO(_jpeg_with_gps())
    upload.name = "foto.jpg"
    response = token_client(world.tokens["owner"]).post(
        reverse("api:incident-evidence", args=[incident.reference]),
        {"file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:300]
    [body] = response.json()
    assert body["processing"] == "pending"
    assert body["original_sha256"] == hashlib.sha256(_jpeg_with_gps()).hexdigest()


def test_processing_twice_changes_nothing():
    """A second run (a redelivered task) finds the file ready and leaves it alone."""
    evidence = _pending_photo(IncidentFactory())
    evidence_process(evidence_id=evidence.pk)
    first = Evidence.objects.get(pk=evidence.pk)
    assert evidence_process(evidence_id=evidence.pk) == EvidenceProcessing.READY
    again = Evidence.objects.get(pk=evidence.pk)
    assert (again.file.name, again.sha256, again.processing_attempts) == (
        first.file.name,
        first.sha256,
        1,
    )


def test_a_running_attempt_is_not_started_a_second_time():
    """While one worker is on a file (started within the hard time limit), another does nothing."""
    evidence = _pending_photo(IncidentFactory())
    Evidence.objects.filter(pk=evidence.pk).update(
        processing_attempts=1, processing_started_at=timezone.now()
    )
    assert evidence_process(evidence_id=evidence.pk) == EvidenceProcessing.PENDING
    assert Evidence.objects.get(pk=evidence.pk).processing_attempts == 1


def test_an_unexpected_error_releases_the_claim_for_the_sweeper(monkeypatch):
    """A crash (not a bad file) is raised, counted as an attempt, and leaves the file pending
    and unclaimed, so that the sweeper can queue it again."""

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(evidence_processing, "evidence_file_clean", crash)
    evidence = _pending_photo(IncidentFactory())
    with pytest.raises(RuntimeError):
        evidence_process(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert evidence.processing == EvidenceProcessing.PENDING
    assert (evidence.processing_attempts, evidence.processing_started_at) == (1, None)


def test_the_sweeper_queues_stuck_work_again_and_gives_up_after_the_cap(
    settings, private_storage_in_tmp, committed
):
    """Pending work queued longer ago than PENDING_WORK_AGE is queued again; work that had
    EVIDENCE_PROCESSING_MAX_ATTEMPTS attempts is marked failed instead; recent work and work
    a worker is on now are left alone."""
    settings.EVIDENCE_PROCESSING_MAX_ATTEMPTS = 3
    incident = IncidentFactory()
    long_ago = timezone.now() - timedelta(hours=1)
    stuck, exhausted, recent, running = (_pending_photo(incident) for _ in range(4))
    Evidence.objects.filter(pk__in=[stuck.pk, exhausted.pk, running.pk]).update(
        processing_queued_at=long_ago
    )
    Evidence.objects.filter(pk=exhausted.pk).update(
        processing_attempts=3, processing_started_at=long_ago
    )
    Evidence.objects.filter(pk=running.pk).update(
        processing_attempts=1, processing_started_at=timezone.now()
    )

    with committed():
        due = evidence_pending_sweep(older_than=timedelta(minutes=2))

    assert due == [stuck.pk]
    assert Evidence.objects.get(pk=stuck.pk).processing_queued_at > long_ago
    gave_up = Evidence.objects.get(pk=exhausted.pk)
    assert (gave_up.processing, gave_up.processing_failure) == (
        EvidenceProcessing.FAILED,
        EvidenceFailure.GAVE_UP,
    )
    assert not _on_disk(private_storage_in_tmp, exhausted.upload.name)
    assert Evidence.objects.get(pk=recent.pk).processing == EvidenceProcessing.PENDING
    assert Evidence.objects.get(pk=running.pk).processing == EvidenceProcessing.PENDING
    # Queued again just now: the next sweep leaves it alone.
    assert evidence_pending_sweep(older_than=timedelta(minutes=2)) == []


def test_a_broker_outage_does_not_fail_the_upload_and_the_sweeper_catches_up(
    client, settings, monkeypatch, caplog, committed
):
    """With the broker down the follow-up still succeeds (on_commit, robust, short publish
    retries); the evidence stays pending, and the beat task processes it once it is back."""
    incident = IncidentFactory()
    client.force_login(incident.officeholder)
    real_apply_async = tasks.process_evidence.apply_async

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.process_evidence, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING, logger="portal.publishing"), committed():
        response = client.post(
            reverse("incidents:follow_up", args=[incident.reference]),
            {"text": "", "evidence": SimpleUploadedFile("foto.jpg", _jpeg_with_gps())},
        )
    assert response.status_code == 302
    evidence = incident.evidence.get()
    assert evidence.processing == EvidenceProcessing.PENDING
    assert "Could not queue incidents.tasks.process_evidence" in caplog.text

    monkeypatch.setattr(tasks.process_evidence, "apply_async", real_apply_async)
    settings.PENDING_WORK_AGE = timedelta(0)
    with committed():
        assert tasks.sweep_pending_evidence.delay().get() == 1
    evidence.refresh_from_db()
    assert evidence.processing == EvidenceProcessing.READY


def test_failed_files_do_not_use_up_the_ten_places():
    """A file that could not be processed stays listed but counts not toward the limit."""
    incident = IncidentFactory()
    failed = _pending_photo(incident, _broken_jpeg(), name="kapot.jpg")
    evidence_process(evidence_id=failed.pk)
    files = [evidence_inspect(name=f"{n}.txt", data=b"tekst") for n in range(10)]
    services.evidence_add(incident=incident, actor=incident.officeholder, files=files)
    assert incident.evidence.count() == 11


@pytest.fixture
def worker_shares_the_private_storage(monkeypatch, private_storage_in_tmp):
    """The worker process reads and writes the same (temporary) private storage."""
    monkeypatch.setenv("PRIVATE_STORAGE_ROOT", str(private_storage_in_tmp))
    return private_storage_in_tmp


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_cleans_the_upload(worker_shares_the_private_storage, redis_celery_worker):
    """Through Redis and a real worker: the committed upload is cleaned and the upload removed."""
    incident = IncidentFactory()
    evidence = _pending_photo(incident)
    upload_name = evidence.upload.name
    redis_celery_worker.wait_for(
        lambda: Evidence.objects.get(pk=evidence.pk).processing == EvidenceProcessing.READY,
        what="the evidence processed by the worker",
    )
    assert not (worker_shares_the_private_storage / upload_name).exists()
    with Evidence.objects.get(pk=evidence.pk).file.open("rb") as stored:
        assert b"Testcamera" not in stored.read()
