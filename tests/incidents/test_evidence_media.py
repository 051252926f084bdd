"""Audio and video evidence, and the worker's memory: real files made with ffmpeg.

The fixtures are generated here with Debian's ffmpeg (installed by .ci/run): a phone video
that really carries a location, as an Android phone (mp4) and an iPhone (mov, Apple's
location key) write it, plus voice messages in m4a, mp3 and ogg/opus. ffprobe checks that
the location is there before, and gone after the worker's remux.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from incidents.constants import EvidenceFailure, EvidenceKind
from incidents.evidence import EvidenceRejected, evidence_inspect
from incidents.evidence_processing import ProcessingFailed, evidence_file_clean

LOCATION = "+52.0907+005.1214/"  # Utrecht city hall, ISO 6709
APPLE_LOCATION = "+52.0907+005.1214+000.000/"


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def probe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    )
    return json.loads(result.stdout)


def all_tags(probed: dict) -> dict[str, str]:
    tags = dict(probed["format"].get("tags", {}))
    for stream in probed["streams"]:
        tags.update(stream.get("tags", {}))
    return tags


TEST_VIDEO = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i"]
TONE = "sine=frequency=440"


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Phone-like media files, two seconds each, every one with tags that must go."""
    folder = tmp_path_factory.mktemp("media")
    files = {name: folder / name for name in ("android.mp4", "iphone.mov", "spraak.m4a")}
    subtitles = folder / "ondertitels.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,500\nDorpsstraat 1, Utrecht\n")
    ffmpeg(
        *TEST_VIDEO, TONE, "-i", str(subtitles), "-t", "2",
        "-map", "0", "-map", "1", "-map", "2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text",
        "-metadata", f"location={LOCATION}", "-metadata", "title=Voor mijn huis",
        "-metadata", "creation_time=2026-03-14T21:30:00Z",
        str(files["android.mp4"]),
    )  # fmt: skip
    ffmpeg(
        *TEST_VIDEO, TONE, "-t", "2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-metadata", f"com.apple.quicktime.location.ISO6709={APPLE_LOCATION}",
        "-metadata", "com.apple.quicktime.make=Apple",
        "-metadata", "com.apple.quicktime.model=iPhone 15",
        "-movflags", "use_metadata_tags", "-f", "mov",
        str(files["iphone.mov"]),
    )  # fmt: skip
    ffmpeg(
        "-f", "lavfi", "-i", f"{TONE}:duration=2", "-c:a", "aac",
        "-metadata", f"location={LOCATION}", "-metadata", "title=Voicemail",
        str(files["spraak.m4a"]),
    )  # fmt: skip
    files["spraak.mp3"] = folder / "spraak.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", f"{TONE}:duration=2", "-c:a", "libmp3lame",
        "-metadata", "artist=Jan de Vries", "-metadata", "comment=Dorpsstraat 1",
        str(files["spraak.mp3"]),
    )  # fmt: skip
    files["spraak.opus"] = folder / "spraak.opus"
    ffmpeg(
        "-f", "lavfi", "-i", f"{TONE}:duration=2", "-c:a", "libopus",
        "-metadata", "artist=Jan de Vries", "-metadata", "comment=Dorpsstraat 1",
        str(files["spraak.opus"]),
    )  # fmt: skip
    return files


def clean(source: Path, tmp_path: Path) -> tuple[str, Path]:
    """Inspect as the web request does, then clean as the worker does."""
    inspected = evidence_inspect(name=source.name, data=source.read_bytes())
    target = tmp_path / f"cleaned-{inspected.name}"
    content_type = evidence_file_clean(kind=inspected.kind, source=str(source), target=str(target))
    assert content_type == inspected.content_type
    return inspected.kind, target


@pytest.mark.parametrize("name", ["android.mp4", "iphone.mov"])
def test_a_phone_video_with_a_location_comes_out_without_it(name, media, tmp_path):
    """The location (and date, title, device) of a phone video is gone after the worker."""
    before = probe(media[name])
    tags = all_tags(before)
    assert LOCATION in tags.get("location", "") or APPLE_LOCATION in tags.get(
        "com.apple.quicktime.location.ISO6709", ""
    ), tags  # the fixture really carries a location

    kind, cleaned = clean(media[name], tmp_path)

    assert kind == EvidenceKind.VIDEO
    after = probe(cleaned)
    left = all_tags(after)
    assert not [key for key in left if "location" in key.lower()], left
    assert set(left) <= {"major_brand", "minor_version", "compatible_brands", "handler_name"} | {
        "language",
        "vendor_id",
    }, left
    # The recording itself is all there: one video and one audio stream, two seconds.
    assert sorted(s["codec_type"] for s in after["streams"]) == ["audio", "video"]
    assert float(after["format"]["duration"]) == pytest.approx(2, abs=0.2)
    data = cleaned.read_bytes()
    for secret in (b"52.0907", b"Voor mijn huis", b"iPhone", b"Dorpsstraat"):
        assert secret not in data


def test_subtitle_and_data_streams_are_dropped(media, tmp_path):
    """Only audio and video leave the worker: a subtitle track (here: an address) does not."""
    assert "subtitle" in [s["codec_type"] for s in probe(media["android.mp4"])["streams"]]
    _, cleaned = clean(media["android.mp4"], tmp_path)
    assert "subtitle" not in [s["codec_type"] for s in probe(cleaned)["streams"]]


@pytest.mark.parametrize(
    ("name", "stored_as", "content_type"),
    [
        ("spraak.m4a", "spraak.m4a", "audio/mp4"),
        ("spraak.mp3", "spraak.mp3", "audio/mpeg"),
        ("spraak.opus", "spraak.opus", "audio/ogg"),
    ],
)
def test_a_voice_message_passes_without_its_tags(name, stored_as, content_type, media, tmp_path):
    """m4a, mp3 and ogg/opus voice messages are accepted as audio and lose every tag."""
    assert all_tags(probe(media[name]))  # the fixture has tags
    inspected = evidence_inspect(name=name, data=media[name].read_bytes())
    assert (inspected.kind, inspected.name, inspected.content_type) == (
        EvidenceKind.AUDIO,
        stored_as,
        content_type,
    )
    _, cleaned = clean(media[name], tmp_path)
    after = probe(cleaned)
    assert [s["codec_type"] for s in after["streams"]] == ["audio"]
    assert not set(all_tags(after)) - {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "handler_name",
        "language",
        "vendor_id",
        "encoder",
    }
    assert float(after["format"]["duration"]) == pytest.approx(2, abs=0.2)
    data = cleaned.read_bytes()
    assert b"Jan de Vries" not in data and b"Dorpsstraat" not in data and b"52.0907" not in data


@pytest.mark.parametrize(
    "data",
    [
        b"Dit is geen video, alleen tekst.\n" * 20,
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 20,
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    ],
    ids=["text", "mp4-header-then-junk", "html"],
)
def test_a_file_named_mp4_that_is_not_a_video_is_refused(data):
    """The name does not make a video: content that ffprobe cannot read as one is refused."""
    with pytest.raises(EvidenceRejected) as refused:
        evidence_inspect(name="opname.mp4", data=data)
    assert refused.value.file_name == "opname.mp4"
    assert refused.value.reason


def test_audio_named_mp4_is_stored_as_what_it_is(media):
    """An mp3 voice message called .mp4 is audio, stored and downloaded as .mp3."""
    inspected = evidence_inspect(name="film.mp4", data=media["spraak.mp3"].read_bytes())
    assert (inspected.kind, inspected.name) == (EvidenceKind.AUDIO, "film.mp3")


def test_audio_and_video_have_their_own_size_limits(media, settings):
    """Audio over EVIDENCE_MAX_AUDIO_BYTES and video over EVIDENCE_MAX_VIDEO_BYTES are refused."""
    settings.EVIDENCE_MAX_AUDIO_BYTES = 10 * 1024 * 1024 // 2048  # 5 kB
    settings.EVIDENCE_MAX_VIDEO_BYTES = 10 * 1024
    with pytest.raises(EvidenceRejected) as audio:
        evidence_inspect(name="spraak.m4a", data=media["spraak.m4a"].read_bytes())
    assert audio.value.reason.startswith("De geluidsopname is groter dan")
    with pytest.raises(EvidenceRejected) as video:
        evidence_inspect(name="android.mp4", data=media["android.mp4"].read_bytes())
    assert video.value.reason.startswith("De video is groter dan")


def test_ffmpeg_runs_with_a_time_limit(media, tmp_path, settings):
    """A remux that takes longer than EVIDENCE_PROCESSING_TIMEOUT is stopped: "timeout"."""
    from datetime import timedelta

    settings.EVIDENCE_PROCESSING_TIMEOUT = timedelta(microseconds=1)
    with pytest.raises(ProcessingFailed) as failed:
        evidence_file_clean(
            kind=EvidenceKind.VIDEO, source=str(media["android.mp4"]), target=str(tmp_path / "x")
        )
    assert failed.value.code == EvidenceFailure.TIMEOUT


def test_ffmpeg_runs_with_a_memory_limit(media, tmp_path, settings):
    """ffprobe and ffmpeg get EVIDENCE_FFMPEG_MEMORY_BYTES of address space; too little fails."""
    settings.EVIDENCE_FFMPEG_MEMORY_BYTES = 8 * 1024 * 1024
    with pytest.raises(ProcessingFailed) as failed:
        evidence_file_clean(
            kind=EvidenceKind.VIDEO, source=str(media["android.mp4"]), target=str(tmp_path / "x")
        )
    assert failed.value.code == EvidenceFailure.UNREADABLE


# --- Bounded memory ---------------------------------------------------------------------------

# Peak RSS of this process image: VmHWM starts afresh at exec, while ru_maxrss would carry
# the peak of the (large) test process that forked it.
PEAK_RSS = """
import os, sys
import django
django.setup()
from PIL import Image

def peak_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024

before = peak_mb()
if sys.argv[3] == "worker":
    from incidents.evidence_processing import image_reencode
    image_reencode(source=sys.argv[1], target=sys.argv[2])
else:  # what the web process used to do: decode the whole photo
    Image.MAX_IMAGE_PIXELS = None
    with Image.open(sys.argv[1]) as opened:
        opened.load()
print(before, peak_mb())
"""


def _peak_growth_mb(source: Path, target: Path, how: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(source), str(target), how],
        capture_output=True,
        check=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )
    before, after = map(int, result.stdout.split())
    return after - before


def test_processing_a_large_photo_keeps_memory_bounded(tmp_path):
    """A 48-megapixel phone photo (8064 x 6048) is cleaned in a fresh worker process whose
    peak memory grows by far less than the photo takes decoded (146 MB): the JPEG is decoded
    in draft mode at half size and never copied more than once at a time."""
    source, target = tmp_path / "groot.jpg", tmp_path / "schoon.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.linear_gradient("L").resize((8064, 6048)).convert("RGB").save(
        source, format="JPEG", quality=85, exif=exif.tobytes()
    )
    assert source.stat().st_size < 10 * 1024 * 1024  # a photo of allowed size

    growth = _peak_growth_mb(source, target, "worker")
    whole = _peak_growth_mb(source, tmp_path / "unused", "decode-whole")

    assert whole > 140, whole  # the measurement can see a full decode
    assert growth < 110, f"cleaning grew the worker by {growth} MB (a full decode: {whole} MB)"
    with Image.open(target) as stored:
        assert stored.size == (3000, 4000)  # upright, at most EVIDENCE_IMAGE_MAX_SIDE
