"""Evidence from a phone, in a real browser at 375 px: the size check before anything is sent,
and a phone video and a voice message added to a quick report (no location leaves the worker).

Every page visited is checked with axe (WCAG 2.1 A/AA) at desktop width and at 320 px.
"""

import json
import subprocess

import pytest
from playwright.sync_api import Page, expect

from incidents.constants import EvidenceKind, EvidenceProcessing
from incidents.models import Incident
from tests.browser.fixtures import assert_accessible, login

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"
PHONE_375 = {"width": 375, "height": 740}
LOCATION = "+52.0907+005.1214/"


def _ffmpeg(*args: str) -> None:
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(command, check=True, capture_output=True)


def _tags(data: bytes, tmp_path) -> dict:
    path = tmp_path / "probe"
    path.write_bytes(data)
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    )
    probed = json.loads(result.stdout)
    tags = dict(probed["format"].get("tags", {}))
    for stream in probed["streams"]:
        tags.update(stream.get("tags", {}))
    return tags


def _posts(page: Page) -> list[int]:
    """The body sizes of every POST the page sends from now on."""
    sizes: list[int] = []
    page.on(
        "request",
        lambda request: (
            sizes.append(len(request.post_data_buffer or b"")) if request.method == "POST" else None
        ),
    )
    return sizes


def test_the_browser_refuses_an_oversize_file_before_it_is_sent(
    page, demo_data, escalation_rules_off
):
    """On a 375 px phone an 11 MB photo is refused as soon as it is chosen, with the server's
    own message; it is taken off the field, so the report goes out without it."""
    page.set_viewport_size(PHONE_375)
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto("/meldingen/snel/")
    posts = _posts(page)
    field = page.get_by_label("Bestand (mag leeg)")

    field.set_input_files(
        {"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"0" * 11_000_000}
    )

    alert = page.locator(".evidence-browser-check")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("foto.jpg: Het bestand is groter dan 10 MB.")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.getElementById('id_evidence').files.length") == 0
    assert posts == []  # nothing was sent
    assert_accessible(page)

    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Iemand riep dat hij me zou volgen.")
    page.get_by_role("button", name="Melding versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert posts and max(posts) < 100_000  # the 11 MB never left the phone
    incident = Incident.objects.get(reference=page.locator(".reference").inner_text())
    assert incident.evidence.count() == 0


def test_a_phone_video_and_a_voice_message_are_added_to_a_quick_report(
    page, demo_data, escalation_rules_off, tmp_path
):
    """At 375 px: a quick report with a phone video that carries a location, then a voice
    message as new information. Both are listed; neither keeps a tag the phone wrote."""
    video, voice = tmp_path / "VID_20260314.mp4", tmp_path / "spraakbericht.m4a"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i",
        "sine=frequency=440", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-metadata", f"location={LOCATION}", str(video),
    )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "aac",
        "-metadata", f"location={LOCATION}", "-metadata", "title=Voicemail", str(voice),
    )  # fmt: skip
    assert _tags(video.read_bytes(), tmp_path)["location"] == LOCATION

    page.set_viewport_size(PHONE_375)
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto("/meldingen/snel/")
    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Gefilmd hoe hij mij uitschold.")
    page.get_by_label("Bestand (mag leeg)").set_input_files(str(video))
    expect(page.locator(".evidence-browser-check")).to_have_count(0)
    page.get_by_role("button", name="Melding versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    page.get_by_role("link", name="Naar mijn melding").click()

    page.get_by_text("Iets toevoegen", exact=True).click()
    page.get_by_label("Nieuwe bestanden (mag leeg)").set_input_files(str(voice))
    page.get_by_role("button", name="Toevoegen", exact=True).click()
    evidence_list = page.locator(".evidence-list")
    expect(evidence_list).to_contain_text("VID_20260314.mp4")
    expect(evidence_list).to_contain_text("spraakbericht.m4a")
    expect(evidence_list).to_contain_text("Video")
    expect(evidence_list).to_contain_text("Geluidsopname")
    assert_accessible(page)

    stored = {
        e.kind: e
        for e in Incident.objects.filter(officeholder__username="wethouder.utrecht")
        .latest("submitted_at")
        .evidence.all()
    }
    assert set(stored) == {EvidenceKind.VIDEO, EvidenceKind.AUDIO}
    for evidence in stored.values():
        assert evidence.processing == EvidenceProcessing.READY
        assert evidence.sha256 != evidence.original_sha256
        with evidence.file.open("rb") as opened:
            tags = _tags(opened.read(), tmp_path)
        assert not [key for key in tags if "location" in key or key == "title"], tags
