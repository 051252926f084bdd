"""`manage.py bench_evidence`: time and peak memory per upload kind. A benchmark that prints.

For each kind (a large phone photo, by default 48 megapixels under the 10 MB limit, and a
phone video, by default 200 MB; both with a GPS/location tag) it measures the two halves of
an upload separately, each in a fresh process, so that one peak does not hide another:

- **web**: a real gunicorn (one sync worker, the project's gunicorn.conf.py) receives the
  follow-up form with the file, streamed over loopback as a phone would send it: multipart
  parsing to a temporary file, the content checks (ffprobe for the video), hashing and
  encrypted storage. Printed: the time until the answer, and the gunicorn worker's peak
  resident memory (VmHWM) before and after.
- **worker**: `evidence_process` for that evidence in a fresh Python process (what the
  Celery task runs): decrypt to a private temporary file, re-encode or remux, store
  encrypted. Printed: time and peak resident memory before and after.

It then checks that the stored files carry no location. The web process publishes the
processing task to the configured broker; the measured run has already done the work, so
the task finds nothing to do. The command writes a fake officeholder and incidents: it only
runs with `--throwaway-database`; `make bench` runs it against a throwaway PostgreSQL.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from devtools.gunicorn import Gunicorn, database_url
from devtools.management.commands.bench_desk import (
    database_description,
    require_throwaway_database,
)
from incidents.constants import EvidenceProcessing, IncidentType
from incidents.models import Evidence, Incident
from portal.constants import OfficeholderFunction, Role
from portal.models import Organisation, User

BENCH_USERNAME = "bench.evidence"
LOCATION = "+52.0907+005.1214/"
# Generous: a benchmark on a busy machine must finish, the figures say how long it took.
REQUEST_TIMEOUT = 600


@dataclass
class Measurement:
    seconds: float
    peak_before_mb: int
    peak_after_mb: int
    status: str
    tool_peak_mb: int = 0  # ffprobe/ffmpeg, the largest of the process's children


class ChildPeaks(threading.Thread):
    """Samples the peak memory (VmHWM) of every child of `parent` while it runs.

    ffprobe and ffmpeg run as children; their peak cannot be read once they have exited, so
    it is sampled every 20 ms (VmHWM only grows, so the last sample is close to the peak).
    """

    def __init__(self, parent: int):
        super().__init__(daemon=True)
        self.parent = str(parent)
        self.peak_mb = 0
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(0.02):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if fields[1] == self.parent:
                        self.peak_mb = max(self.peak_mb, _peak_mb(entry.name))
                except (OSError, IndexError):
                    continue  # it exited meanwhile

    def stop(self) -> int:
        self._stopping.set()
        self.join()
        return self.peak_mb


def _peak_mb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def _ffmpeg(*args: str) -> None:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    try:
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 (fixed program)
    except (OSError, subprocess.CalledProcessError) as error:
        raise CommandError(f"ffmpeg failed (apt-get install ffmpeg): {error}") from error


def _tags(path: Path) -> dict[str, str]:
    result = subprocess.run(  # noqa: S603 (fixed program, our own file)
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    probed = json.loads(result.stdout)
    tags = dict(probed["format"].get("tags", {}))
    for stream in probed["streams"]:
        tags.update(stream.get("tags", {}))
    return tags


def make_photo(path: Path, megapixels: int) -> None:
    """A phone-like JPEG: 4:3, `megapixels`, smooth with some texture, GPS in the EXIF."""
    height = int((megapixels * 1_000_000 * 3 / 4) ** 0.5)
    width = height * 4 // 3
    texture = Image.effect_noise((max(1, width // 16), max(1, height // 16)), 60)
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            texture.resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
        ),
    )
    exif = Image.Exif()
    exif[0x010F] = "Benchmark phone"
    exif[0x8825] = {1: "N", 2: (52.0, 5.0, 26.0), 3: "E", 4: (5.0, 7.0, 9.0)}
    image.save(path, format="JPEG", quality=85, exif=exif.tobytes())


def make_video(path: Path, megabytes: int, work: Path) -> None:
    """A phone-like 1080p H.264/AAC mp4 of about `megabytes`, with a location tag."""
    clip = work / "clip.mp4"
    seconds = 4
    megabits = min(16, max(1, megabytes * 8 // seconds))  # a small video for a quick run
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{megabits}M",
        "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip),
    )  # fmt: skip
    loops = max(0, round(megabytes * 1024 * 1024 / clip.stat().st_size) - 1)
    _ffmpeg(
        "-stream_loop", str(loops), "-i", str(clip), "-c", "copy",
        "-metadata", f"location={LOCATION}", "-metadata", "title=Voor mijn huis",
        str(path),
    )  # fmt: skip


def _multipart(path: Path, name: str, content_type: str, token: str):
    boundary = f"mwb-bench-{secrets.token_hex(8)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{token}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
        f'filename="{name}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as upload:
            while block := upload.read(256 * 1024):
                yield block
        yield tail

    length = len(head) + path.stat().st_size + len(tail)
    return body(), length, f"multipart/form-data; boundary={boundary}"


class Command(BaseCommand):
    help = (
        "Time and peak memory of uploading and processing a large photo and a 200 MB video, "
        "in the web process (gunicorn) and in the worker. Only for a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--throwaway-database", action="store_true")
        parser.add_argument("--photo-megapixels", type=int, default=48)
        parser.add_argument("--video-mb", type=int, default=200)
        # Internal: clean one evidence file in this fresh process and print the figures.
        parser.add_argument("--process-one", type=int, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        require_throwaway_database(options)
        if options["process_one"]:
            self._process_one(options["process_one"])
            return
        officeholder = self._officeholder()
        self.stdout.write(f"Database: {database_description()}")
        with tempfile.TemporaryDirectory(prefix="mwb-bench-evidence-") as folder:
            work = Path(folder)
            photo, video = work / "IMG_4032.jpg", work / "VID_20260314.mp4"
            make_photo(photo, options["photo_megapixels"])
            make_video(video, options["video_mb"], work)
            kinds = [
                (f"photo, {options['photo_megapixels']} megapixels JPEG", photo, "image/jpeg"),
                (f"video, {video.stat().st_size / 1024 / 1024:.0f} MB mp4", video, "video/mp4"),
            ]
            self.stdout.write(
                f"{'upload':<30} {'size MB':>8}   {'web s':>6} {'peak MB':>14} {'ffprobe':>7}   "
                f"{'worker s':>8} {'peak MB':>14} {'ffmpeg':>6}   result"
            )
            for label, path, content_type in kinds:
                incident = self._incident(officeholder)
                web = self._web(officeholder, incident, path, content_type, work)
                evidence = incident.evidence.order_by("-pk").first()
                if evidence is None:
                    raise CommandError(f"{label}: the upload was not stored ({web.status}).")
                worker = self._worker(evidence.pk)
                evidence.refresh_from_db()
                self.stdout.write(
                    f"{label:<30} {path.stat().st_size / 1024 / 1024:>8.1f}   "
                    f"{web.seconds:>6.2f} {web.peak_before_mb:>6} → {web.peak_after_mb:>5} "
                    f"{web.tool_peak_mb or '-':>7}   "
                    f"{worker.seconds:>8.2f} {worker.peak_before_mb:>6} → "
                    f"{worker.peak_after_mb:>5} {worker.tool_peak_mb or '-':>6}   "
                    f"{self._check(evidence, work)}"
                )
        self.stdout.write(
            "peak MB: the process's peak resident memory (VmHWM) before the upload and after "
            "it; web = one gunicorn sync worker, worker = what the Celery task runs; ffprobe "
            "and ffmpeg: the peak of those child processes (sampled)."
        )

    # --- Setup ----------------------------------------------------------------------------

    def _officeholder(self) -> User:
        organisation = Organisation.objects.filter(desk__isnull=False).order_by("pk").first()
        if organisation is None:
            from devtools.demo import people as demo

            demo.seed(password=secrets.token_urlsafe(24))
            organisation = Organisation.objects.filter(desk__isnull=False).order_by("pk").first()
        user, _ = User.objects.get_or_create(
            username=BENCH_USERNAME,
            defaults={
                "role": Role.OFFICEHOLDER,
                "function": OfficeholderFunction.RAADSLID,
                "organisation": organisation,
            },
        )
        return user

    def _incident(self, officeholder: User) -> Incident:
        from incidents.services import incident_submit

        return incident_submit(
            officeholder=officeholder,
            facts={
                "types": [IncidentType.THREAT],
                "occurred_on": timezone.localdate(),
                "summary": "Benchmark: bewijs uploaden.",
            },
            quick=True,
        )

    def _children_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url(),
            "PRIVATE_STORAGE_ROOT": str(settings.PRIVATE_STORAGE_ROOT),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            # gunicorn on loopback over http (portal/checks.py).
            "LOOPBACK_TEST_STACK": "true",
        }

    # --- The two halves -------------------------------------------------------------------

    def _web(self, officeholder, incident, path: Path, content_type: str, work: Path):
        session = SessionStore()
        session[SESSION_KEY] = str(officeholder.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = officeholder.get_session_auth_hash()
        session.create()
        token = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
        server = Gunicorn(
            env=self._children_env(),
            log=work / "gunicorn.log",
            # The whole URLconf and the API load, without a template.
            ready=lambda server: (
                server.request("GET", "/api/v1/notifications/").status in (401, 403)
            ),
            arguments=("--workers", "1", "--timeout", str(REQUEST_TIMEOUT)),
            request_timeout=REQUEST_TIMEOUT,
        )
        try:
            pid = server.worker_pid()
            before = _peak_mb(pid)
            body, length, multipart_type = _multipart(path, path.name, content_type, token)
            tools = ChildPeaks(pid)
            tools.start()
            started = time.perf_counter()
            response = server.request(
                "POST",
                reverse("incidents:follow_up", args=[incident.reference]),
                body=body,
                headers={
                    "Content-Type": multipart_type,
                    "Content-Length": str(length),
                    "Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
                    f"{settings.CSRF_COOKIE_NAME}={token}",
                },
            )
            seconds = time.perf_counter() - started
            after = _peak_mb(pid)
            tool_peak = tools.stop()
        finally:
            server.stop()
        status = f"HTTP {response.status}"
        if response.status != 302:
            raise CommandError(f"The upload answered {status}; see {work / 'gunicorn.log'}.")
        return Measurement(seconds, before, after, status, tool_peak)

    def _worker(self, evidence_id: int) -> Measurement:
        result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "bench_evidence",
                "--throwaway-database",
                "--process-one",
                str(evidence_id),
            ],
            env=self._children_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"Processing failed:\n{result.stderr[-3000:]}")
        seconds, before, after, tool_peak, state = result.stdout.split()[-5:]
        return Measurement(float(seconds), int(before), int(after), state, int(tool_peak))

    def _process_one(self, evidence_id: int) -> None:
        from incidents.evidence_processing import evidence_process

        before = _peak_mb()
        tools = ChildPeaks(os.getpid())
        tools.start()
        started = time.perf_counter()
        state = evidence_process(evidence_id=evidence_id)
        seconds = time.perf_counter() - started
        self.stdout.write(f"{seconds:.3f} {before} {_peak_mb()} {tools.stop()} {state}")

    def _check(self, evidence: Evidence, work: Path) -> str:
        if evidence.processing != EvidenceProcessing.READY:
            return f"NOT READY: {evidence.processing} {evidence.processing_failure}"
        stored = work / "stored"
        with evidence.file.open("rb") as opened, stored.open("wb") as out:
            while block := opened.read(1024 * 1024):
                out.write(block)
        if evidence.content_type.startswith("image/"):
            with Image.open(stored) as image:
                clean = not image.getexif() and "exif" not in image.info
                size = f"{image.width}x{image.height}"
            return f"ready, {size}, {'no EXIF' if clean else 'EXIF LEFT'}"
        tags = _tags(stored)
        located = [key for key in tags if "location" in key.lower()]
        return f"ready, {'no location' if not located else 'LOCATION LEFT'}, tags {sorted(tags)}"
