"""Audio and video evidence: recognise it (first bytes, then ffprobe) and remux it without metadata.

Debian's `ffmpeg` package provides `ffprobe` and `ffmpeg`. Both run as a subprocess with a
time limit, a memory limit (RLIMIT_AS) and a limit on the size of what they write, read only
local files (`-protocol_whitelist file`, so no playlist can make them fetch a URL) and are
told which demuxer to use, so a file is never "guessed" into an unexpected format.

Remuxing copies the audio and video streams as they are (`-c copy`: no quality loss, seconds
for 200 MB) into a fresh container of the same type, with `-map_metadata -1` and
`-map_chapters -1`: location, dates, device, titles and every other tag are gone, and so are
subtitle, data (a phone's GPS or motion track) and cover-art streams. Only when the streams
cannot be copied are they re-encoded. Afterwards ffprobe must find no tag outside a short
list of structural ones, or the result is refused.
"""

import json
import os
import resource
import subprocess
from dataclasses import dataclass

from django.conf import settings

from incidents.constants import EvidenceFailure, EvidenceKind

# ISO base media (mp4, mov, m4a): the brand in the `ftyp` box says which. Phones write these.
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"M4VH", b"M4VP", b"MSNV", b"dash", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3ge6", b"3gg6",
    b"3g2a", b"XAVC",
}  # fmt: skip
MOV_BRANDS = {b"qt  "}
M4A_BRANDS = {b"M4A ", b"M4B "}
# Old QuickTime files start with one of these boxes instead of `ftyp`.
QUICKTIME_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip"}

# Tags a freshly muxed file may carry: they describe the container, never the recording.
STRUCTURAL_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}
STRUCTURAL_STREAM_TAGS = {"language", "handler_name", "vendor_id", "encoder"}


class MediaError(Exception):
    """ffprobe or ffmpeg could not handle the file; `code` is an EvidenceFailure."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class MediaFormat:
    """What the first bytes promise: the demuxer to read it with."""

    demuxer: str  # "mov" (mp4, mov, m4a), "mp3" or "ogg"
    quicktime: bool = False  # a .mov (brand "qt  ") rather than an .mp4
    audio_brand: bool = False  # an .m4a


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe found, and how the cleaned file will be stored."""

    kind: str  # EvidenceKind.AUDIO or EvidenceKind.VIDEO
    muxer: str
    extension: str
    content_type: str
    duration: float
    audio_codecs: tuple[str, ...]
    video_codecs: tuple[str, ...]
    tags: dict[str, str]
    stream_tags: tuple[dict[str, str], ...]


def media_format_sniff(head: bytes, *, size: int) -> MediaFormat | None:
    """The container that the first bytes of a file (of `size` bytes) announce, or None.

    An ISO box must also have a size that fits the file, so a text that happens to have
    "free" or "wide" in its first bytes is not taken for a QuickTime file.
    """
    box, box_size = head[4:8], int.from_bytes(head[:4], "big")
    if len(head) < 8 or not (box_size in (0, 1) or 8 <= box_size <= size):
        box = b""
    if box == b"ftyp":
        brand = head[8:12]
        if brand in MOV_BRANDS:
            return MediaFormat("mov", quicktime=True)
        if brand in M4A_BRANDS:
            return MediaFormat("mov", audio_brand=True)
        if brand in MP4_BRANDS:
            return MediaFormat("mov")
        return None  # HEIC photos, camera raw files and the like share the box format
    if box in QUICKTIME_BOXES:
        return MediaFormat("mov", quicktime=True)
    if head.startswith(b"ID3") or (
        # An MPEG audio frame: 11 sync bits, an MPEG version that is not "reserved", layer III.
        len(head) > 1
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and head[1] & 0x18 != 0x08
        and head[1] & 0x06 == 0x02
    ):
        return MediaFormat("mp3")
    if head.startswith(b"OggS"):
        return MediaFormat("ogg")
    return None


def _limits(memory: int, file_size: int):
    def apply() -> None:  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _run(args: list[str], *, timeout: float, output_limit: int) -> subprocess.CompletedProcess:
    try:
        # The arguments are ours; file names are paths we made, prefixed with "file:".
        return subprocess.run(  # noqa: S603 (no shell, fixed program, our own paths)
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_limits(settings.EVIDENCE_FFMPEG_MEMORY_BYTES, output_limit),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired as expired:
        raise MediaError(EvidenceFailure.TIMEOUT, f"{args[0]} took too long") from expired
    except OSError as error:  # ffmpeg missing: a setup problem, shown as "could not read"
        raise MediaError(EvidenceFailure.UNREADABLE, str(error)) from error


def media_probe(path: str, *, media_format: MediaFormat, timeout: float = 30) -> MediaInfo:
    """Read the streams of a media file with ffprobe; raise MediaError if it is no usable media.

    Audio (m4a, mp3, ogg/opus) has at least one audio stream and no video; video (mp4, mov)
    has at least one video stream that is not a cover picture.
    """
    result = _run(
        [
            "ffprobe",
            "-v", "error",
            "-protocol_whitelist", "file",
            "-f", media_format.demuxer,
            "-show_format", "-show_streams",
            "-of", "json",
            f"file:{path}",
        ],
        timeout=timeout,
        output_limit=0,
    )  # fmt: skip
    try:
        probed = json.loads(result.stdout or b"{}")
    except ValueError:
        probed = {}
    streams = probed.get("streams") or []
    container = probed.get("format") or {}
    if result.returncode != 0 or not streams or not container:
        raise MediaError(EvidenceFailure.UNREADABLE, result.stderr.decode(errors="replace")[:500])
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video_codecs = tuple(s.get("codec_name", "") for s in video)
    audio_codecs = tuple(s.get("codec_name", "") for s in audio)
    if "" in video_codecs + audio_codecs or not (video or audio):
        raise MediaError(EvidenceFailure.UNREADABLE, "no stream with a known codec")
    try:
        duration = float(container.get("duration") or 0)
    except ValueError:
        duration = 0.0
    tags = {str(k): str(v) for k, v in (container.get("tags") or {}).items()}
    stream_tags = tuple({str(k): str(v) for k, v in (s.get("tags") or {}).items()} for s in streams)
    if media_format.demuxer == "mov" and video:
        muxer, extension = ("mov", "mov") if media_format.quicktime else ("mp4", "mp4")
        content_type = "video/quicktime" if media_format.quicktime else "video/mp4"
        kind = EvidenceKind.VIDEO
    elif video:  # mp3 and ogg are accepted as audio only
        raise MediaError(EvidenceFailure.UNREADABLE, "video in an audio container")
    elif media_format.demuxer == "mov":
        muxer, extension, content_type, kind = "mp4", "m4a", "audio/mp4", EvidenceKind.AUDIO
    elif media_format.demuxer == "mp3":
        muxer, extension, content_type, kind = "mp3", "mp3", "audio/mpeg", EvidenceKind.AUDIO
    else:
        extension = "opus" if set(audio_codecs) == {"opus"} else "ogg"
        muxer, content_type, kind = "ogg", "audio/ogg", EvidenceKind.AUDIO
    return MediaInfo(
        kind=kind,
        muxer=muxer,
        extension=extension,
        content_type=content_type,
        duration=duration,
        audio_codecs=audio_codecs,
        video_codecs=video_codecs,
        tags=tags,
        stream_tags=stream_tags,
    )


# When the streams cannot be copied: re-encode to the usual codec of the container.
REENCODE = {
    "mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "128k"],
    "mov": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "128k"],
    "mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    "ogg": ["-c:a", "libopus", "-b:a", "64k"],
}
REENCODE_AUDIO_IN_MP4 = ["-c:a", "aac", "-b:a", "128k"]


def _remux_args(source: str, target: str, info: MediaInfo, fmt: MediaFormat, codecs: list[str]):
    if info.kind == EvidenceKind.AUDIO:
        streams = ["-map", "0:a"]  # no cover picture: it can carry a photo's EXIF
    else:
        streams = ["-map", "0:V", "-map", "0:a?"]
    muxer_options = {
        "mp4": ["-movflags", "+faststart"],
        "mov": ["-movflags", "+faststart"],
        "mp3": ["-id3v2_version", "0"],
        "ogg": [],
    }[info.muxer]
    return [
        "ffmpeg",
        "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file",
        "-f", fmt.demuxer, "-i", f"file:{source}",
        *streams,
        "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn",
        *codecs,
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        *muxer_options,
        "-f", info.muxer, f"file:{target}",
    ]  # fmt: skip


def media_remux(*, source: str, target: str, media_format: MediaFormat) -> MediaInfo:
    """Write `source` to `target` without any metadata; return what ffprobe finds in `target`.

    Raises MediaError (UNREADABLE, TIMEOUT, or METADATA when a tag survived).
    """
    timeout = settings.EVIDENCE_PROCESSING_TIMEOUT.total_seconds()
    info = media_probe(source, media_format=media_format, timeout=timeout)
    # A cleaned file is about as large as its source; a re-encode of a small source may grow.
    output_limit = 3 * os.path.getsize(source) + 16 * 1024 * 1024
    attempts = [["-c", "copy"]]
    if info.kind == EvidenceKind.AUDIO and info.muxer == "mp4":
        attempts.append(REENCODE_AUDIO_IN_MP4)
    else:
        attempts.append(REENCODE[info.muxer])
    errors = []
    for codecs in attempts:
        result = _run(
            _remux_args(source, target, info, media_format, codecs),
            timeout=timeout,
            output_limit=output_limit,
        )
        if result.returncode == 0:
            break
        errors.append(result.stderr.decode(errors="replace")[-500:])
    else:
        raise MediaError(EvidenceFailure.UNREADABLE, " | ".join(errors))
    cleaned = media_probe(target, media_format=media_format, timeout=min(timeout, 60))
    if cleaned.kind != info.kind:
        raise MediaError(EvidenceFailure.UNREADABLE, "the streams changed kind")
    left = set(cleaned.tags) - STRUCTURAL_TAGS
    for tags in cleaned.stream_tags:
        left |= set(tags) - STRUCTURAL_STREAM_TAGS
    if left:
        raise MediaError(EvidenceFailure.METADATA, ", ".join(sorted(left)))
    return cleaned
