"""Evidence in an S3-compatible bucket (EVIDENCE_STORAGE=s3), against a real S3 server.

The tests start moto's S3 server (`moto_server`, its own process) on a free loopback port and
point the evidence storage at it: what reaches the bucket is the ciphertext, and the portal
reads the plaintext back.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import empty

from incidents.constants import IncidentType
from incidents.models import Evidence, private_storage
from portal.crypto import ENCRYPTED_FILE_MAGIC

pytestmark = pytest.mark.django_db

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3-compatible server in a process of its own on a free loopback port."""
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    log = open(os.devnull, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(  # noqa: S603 (our own venv's moto_server)
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)  # noqa: S310 (loopback)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def s3_evidence(settings, s3_endpoint):
    """The evidence storage pointed at a new, empty bucket; yields (client, bucket)."""
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="eu-west-1",
    )
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "portal.object_storage.EncryptedS3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "region_name": "eu-west-1",
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "location": "mwb",
                "addressing_style": "path",
            },
        },
    }
    private_storage._wrapped = empty
    yield client, bucket
    private_storage._wrapped = empty


def _object(client, bucket, name) -> bytes:
    return client.get_object(Bucket=bucket, Key=f"mwb/{name}")["Body"].read()


def test_a_file_goes_to_the_bucket_encrypted_and_comes_back_whole(s3_evidence, settings):
    """A file of three frames is stored as ciphertext (the marker is nowhere in the object),
    reads back exactly with its plaintext size, survives a key rotation, and is deleted."""
    client, bucket = s3_evidence
    marker = b"S3-MARKER-" + uuid.uuid4().hex.encode()
    plaintext = (marker + os.urandom(990)) * 2200  # about 2.2 MB: three 1 MiB frames
    name = private_storage.save("evidence/1/video", ContentFile(plaintext))

    stored = _object(client, bucket, name)
    assert stored.startswith(ENCRYPTED_FILE_MAGIC)
    assert marker not in stored
    with private_storage.open(name) as opened:
        assert opened.read() == plaintext
    assert private_storage.size(name) == len(plaintext)

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    private_storage.rotate(name)
    rotated = _object(client, bucket, name)
    assert rotated != stored
    assert marker not in rotated
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # only the new key: the old one is gone
    with private_storage.open(name) as opened:
        assert opened.read() == plaintext

    assert private_storage.exists(name)
    private_storage.delete(name)
    assert not private_storage.exists(name)
    with pytest.raises(FileNotFoundError):
        private_storage.open(name)


def test_an_uploaded_report_file_is_ciphertext_in_the_bucket_and_downloads_as_plaintext(
    s3_evidence, client, officeholder, committed
):
    """The real upload path: a quick report with a text file puts only ciphertext in the
    bucket, and the officeholder's download gives the text back."""
    s3, bucket = s3_evidence
    marker = "S3-UPLOAD-" + uuid.uuid4().hex
    content = f"Bericht van de dader: {marker}\n".encode()
    client.force_login(officeholder)
    upload = ContentFile(content, name="bericht.txt")
    with committed():
        response = client.post(
            reverse("incidents:quick"),
            {
                "submission_token": str(uuid.uuid4()),
                "types": [IncidentType.THREAT],
                "occurred_on": timezone.localdate().isoformat(),
                "occurred_at": "",
                "summary": "Bedreigd in een bericht.",
                "evidence": upload,
            },
        )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.is_ready
    objects = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in objects] == [f"mwb/{evidence.file.name}"]
    stored = _object(s3, bucket, evidence.file.name)
    assert stored.startswith(ENCRYPTED_FILE_MAGIC)
    assert marker.encode() not in stored
    download = client.get(evidence.get_absolute_url())
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
