"""Encryption at rest: free text and evidence never reach the database or the disk in the clear.

The raw-storage test types a unique marker into every free-text field through the real forms
(officeholder, desk and support team), then scans a `pg_dump` of the test database and the
evidence folder: the marker is nowhere. The same text reads back through the pages. The dump
holds no TOTP key (hex or base32) and no backup code either: keys are encrypted, codes hashed.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import uuid
from base64 import b32decode, b32encode
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from incidents import services
from incidents.constants import (
    AangifteStep,
    AffectedPerson,
    Channel,
    IdentifierKind,
    Impact,
    IncidentType,
    MessageAudience,
    ReporterSeverity,
    RiskFlag,
    Status,
    SupportWish,
)
from incidents.models import Event, Evidence, Incident, Message, Note, PerpetratorIdentifier
from incidents.selectors import link_suggestions_for
from portal.crypto import (
    ENCRYPTED_FILE_MAGIC,
    EncryptedFileSystemStorage,
    EncryptionKeyError,
    encrypt_bytes,
    identifier_hash,
)
from portal.models import TotpDevice
from portal.two_factor import backup_codes_create
from support import rules
from support.constants import RuleCode, ServiceType
from support.models import EscalationRule, SupportAction, SupportCase
from tests.conftest import verified_login
from tests.factories import IncidentFactory, PerpetratorIdentifierFactory, UserFactory

NEW_KEY = Fernet.generate_key().decode()


def _pg_dump_path() -> str:
    found = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    assert found, "pg_dump is needed for the raw-storage test (apt-get install postgresql)"
    return found if isinstance(found, str) else found[-1]


def _pg_dump() -> bytes:
    """A plain-SQL dump of the whole test database, data included."""
    db = connection.settings_dict
    command = [
        _pg_dump_path(),
        "--no-owner",
        "--host",
        db["HOST"] or "127.0.0.1",
        "--port",
        str(db["PORT"] or 5432),
        "--username",
        db["USER"],
        db["NAME"],
    ]
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        command,
        env={"PGPASSWORD": db["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def _files_under(root) -> list[bytes]:
    return [path.read_bytes() for path in root.rglob("*") if path.is_file()]


def _v(incident) -> int:
    return Incident.objects.get(pk=incident.pk).version


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _redirected(response):
    assert response.status_code == 302, (response.status_code, response.content[:2000])


# The incident facts that are encrypted, as columns of incidents_incident.
ENCRYPTED_FACT_COLUMNS = (
    "types",
    "impacts",
    "affected_people",
    "risk_flags",
    "advice_given",
    "aangifte",
)
# Tables that may hold fact codes in the clear: the rollup (counts per organisation, desk and
# month, never per incident), the configuration of the escalation rules and the texts of the
# aangifte track's steps (one row per step, about no incident).
# The rollups hold codes with counts, never an incident: FactPeopleCount also a keyed token
# per person that differs per fact value (checked below: no token joins two facts).
CODES_ALLOWED_IN = {
    "public.incidents_factcount",
    "public.incidents_factpeoplecount",
    "public.support_escalationrule",
    "public.incidents_aangiftesteptext",
}


def _dump_tables(dump: bytes) -> dict[str, tuple[list[str], list[list[str]]]]:
    """{table: (columns, rows)} of the COPY blocks of a plain pg_dump."""
    tables, current = {}, None
    for line in dump.decode().splitlines():
        if current is None:
            found = re.match(r"COPY (\S+) \((.*)\) FROM stdin;$", line)
            if found:
                current = found.group(1)
                tables[current] = ([c.strip('"') for c in found.group(2).split(", ")], [])
        elif line == "\\.":
            current = None
        else:
            tables[current][1].append(line.split("\t"))
    return tables


def _assert_no_typed_fact_in(dump: bytes, incident) -> None:
    """The incident's typed facts, its escalations' rule codes and its support actions' types
    are ciphertext in the dump, and no table but the rollup and the rule configuration holds
    one of its codes (a column value or a JSON list element)."""
    tables = _dump_tables(dump)

    def rows(table, **where):
        columns, lines = tables[table]
        found = [dict(zip(columns, line, strict=True)) for line in lines]
        return [r for r in found if all(r[k] == str(v) for k, v in where.items())]

    (row,) = rows("public.incidents_incident", id=incident.pk)
    for column in ENCRYPTED_FACT_COLUMNS:
        assert row[column].startswith("gAAAAA"), (column, row[column])
    escalations = rows("public.incidents_escalation", incident_id=incident.pk)
    assert escalations and all(e["rules"].startswith("gAAAAA") for e in escalations)
    actions = rows("public.support_supportaction")
    assert actions and all(a["service_type"].startswith("gAAAAA") for a in actions)
    codes = {
        IncidentType.THREAT,
        Impact.INFLUENCED_DECISIONS,
        AffectedPerson.OTHER_FAMILY,
        RiskFlag.HOME_ADDRESS_KNOWN,
        AangifteStep.VPT_ASKED,
        ServiceType.LEGAL_HELP,
    }
    # The typed facts really are in the rollup (so the codes would show if stored plainly).
    counted = {r["value"] for r in rows("public.incidents_factcount")}
    assert codes <= counted, codes - counted
    facts_per_token = {}
    for r in rows("public.incidents_factpeoplecount"):
        facts_per_token.setdefault(r["person"], set()).add((r["kind"], r["value"]))
    assert facts_per_token and all(len(facts) == 1 for facts in facts_per_token.values())
    for table, (_columns, lines) in tables.items():
        if table in CODES_ALLOWED_IN:
            continue
        for line in lines:
            for value in line:
                for code in codes:
                    assert value != code and f'"{code}"' not in value, (table, code)


@pytest.fixture
def people(db):
    registrar = UserFactory(registrar=True)
    officeholder = UserFactory(organisation__desk=registrar.desk)
    support = UserFactory(support=True)
    return officeholder, registrar, support


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_no_marker_in_a_database_dump_or_the_evidence_folder(
    client, people, private_storage_in_tmp
):
    """A marker typed into every free-text field, through the real forms of all three roles,
    is found neither in `pg_dump` nor in the evidence files; the pages show it back."""
    officeholder, registrar, support = people
    assert connection.vendor == "postgresql", "the raw-storage test scans a pg_dump"
    marker = f"MRK{uuid.uuid4().hex[:12]}"
    other = IncidentFactory(officeholder=UserFactory(organisation=officeholder.organisation))

    # --- The officeholder: full report with identifiers and a text file, follow-up, message.
    client.force_login(officeholder)
    evidence = SimpleUploadedFile(
        f"{marker}-chat.txt", f"Chatlog {marker} bewijs".encode(), content_type="text/plain"
    )
    report = {
        "submission_token": str(uuid.uuid4()),
        "types": [IncidentType.THREAT],
        "occurred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "occurred_at": "",
        "summary": f"{marker} summary",
        "description": f"{marker} description",
        "location": f"{marker} location",
        "channel": Channel.SOCIAL_MEDIA,
        "platform": f"{marker} platform",
        "links": f"https://x.com/{marker}/status/1",
        "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
        "perpetrator_known": "known",
        "perpetrator_kind": "individual",
        "perpetrator_relation": "citizen",
        "perpetrator_description": f"{marker} perpetrator",
        "handles": f"@{marker}handle",
        "emails": f"{marker}@example.nl",
        "phones": "06 98765432",
        "impacts": [Impact.INFLUENCED_DECISIONS],
        "affected_people": [AffectedPerson.OTHER_FAMILY],
        "support_wish": SupportWish.CONTACT_WITH_DESK,
        "evidence": evidence,
    }
    _redirected(client.post(reverse("incidents:new"), report))
    incident = Incident.objects.get(officeholder=officeholder)
    detail = incident.get_absolute_url()
    _redirected(
        client.post(
            reverse("incidents:follow_up", kwargs={"reference": incident.reference}),
            {"text": f"{marker} follow-up"},
        )
    )
    _redirected(
        client.post(
            reverse("incidents:message", kwargs={"reference": incident.reference}),
            {"body": f"{marker} officeholder message"},
        )
    )
    _redirected(
        client.post(
            reverse("incidents:aangifte", kwargs={"reference": incident.reference}),
            {
                "aangifte-version": _v(incident),
                "aangifte-filed": "on",
                "aangifte-vpt_asked": "on",
                "aangifte-report_number": f"{marker}-pv",
                "aangifte-employer_filed": "on",
                "aangifte-employer": f"{marker} employer",
                "aangifte-outcome": "other",
                "aangifte-outcome_note": f"{marker} police outcome",
            },
        )
    )

    # --- The desk: triage with advice, note, staff and officeholder messages, link, close,
    # reopen, escalate.
    client.logout()
    verified_login(client, registrar)

    def desk(name, data):
        url = reverse(f"desk:{name}", kwargs={"reference": incident.reference})
        _redirected(client.post(url, data))

    desk("take", {"take-version": _v(incident)})
    desk(
        "triage",
        {
            "triage-version": _v(incident),
            "triage-triage_severity": "medium",
            "triage-types": [IncidentType.THREAT],
            "triage-risk_flags": [RiskFlag.HOME_ADDRESS_KNOWN],
            "triage-advice_given": ["aangifte"],
            "triage-advice_note": f"{marker} advice note",
        },
    )
    desk("note", {"note-body": f"{marker} desk note"})
    desk("staff_message", {"staff-body": f"{marker} desk staff message"})
    desk("message", {"message-body": f"{marker} desk message"})
    desk(
        "link",
        {
            "link-version": _v(incident),
            "link-reference": other.reference,
            "link-kind": "series",
            "link-reason": f"{marker} link",
        },
    )
    desk(
        "close",
        {
            "close-version": _v(incident),
            "close-outcome_category": "other",
            "close-outcome": f"{marker} desk outcome",
        },
    )
    desk("reopen", {"reopen-version": _v(incident), "reopen-reason": f"{marker} reopen"})
    desk("escalate", {"escalate-version": _v(incident), "escalate-reason": f"{marker} escalate"})
    desk_page = _text(client.get(reverse("desk:detail", kwargs={"reference": incident.reference})))

    # --- The support team: action, messages both ways, note, close with an outcome.
    client.logout()
    verified_login(client, support)
    case = SupportCase.objects.get(incident=incident)

    def team(name, data):
        url = reverse(f"support:{name}", kwargs={"reference": incident.reference})
        _redirected(client.post(url, data))

    def case_version() -> int:
        return SupportCase.objects.get(pk=case.pk).version

    team("acknowledge", {"acknowledge-version": case_version()})
    team(
        "action_add",
        {
            "action-version": case_version(),
            "action-service_type": ServiceType.LEGAL_HELP,
            "action-description": f"{marker} action",
            "action-owner": support.pk,
            "action-due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "action-shared_with_desk": "on",
        },
    )
    team(
        "message_officeholder",
        {
            "officeholder_message-version": case_version(),
            "officeholder_message-body": f"{marker} support message",
        },
    )
    team(
        "message_desk",
        {
            "staff_message-version": case_version(),
            "staff_message-body": f"{marker} support staff message",
        },
    )
    team("note", {"note-version": case_version(), "note-body": f"{marker} support note"})
    support_page = _text(
        client.get(reverse("support:case", kwargs={"reference": incident.reference}))
    )
    team(
        "close",
        {
            "close-version": case_version(),
            "close-outcome": f"{marker} support outcome",
            "close-outcome_category": "support_given",
            "close-open_actions_confirmed": "on",
        },
    )

    # Everything really went in: the fields read back decrypted.
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.status == Status.CLOSED
    assert incident.description == f"{marker} description"
    assert incident.advice_note == f"{marker} advice note"
    assert SupportAction.objects.get(case=case).description == f"{marker} action"
    assert SupportCase.objects.get(pk=case.pk).outcome == f"{marker} support outcome"
    assert incident.identifiers.count() == 3
    assert Note.objects.filter(incident=incident).count() == 2
    assert Message.objects.filter(incident=incident).count() == 5
    typed = " ".join(str(event.payload) for event in Event.objects.filter(incident=incident))
    for text in ("desk outcome", "reopen", "escalate"):
        assert f"{marker} {text}" in typed

    # --- The second factor: the officeholder sets up an app through the page too, and the
    # staff (who logged in with an app) make backup codes.
    own = Client()
    own.force_login(officeholder)
    setup = _text(own.get(reverse("two_factor_setup")))
    shown_secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', setup).group(1).replace(" ", "")
    confirmed = own.post(
        reverse("two_factor_setup"),
        {"code": f"{TOTP(b32decode(shown_secret)).token():06d}"},
    )
    codes = re.findall(r"<li><code>([0-9a-f]{8})</code></li>", _text(confirmed))
    codes += backup_codes_create(user=registrar) + backup_codes_create(user=support)
    officeholder.refresh_from_db()  # switching the code on changed its security stamp
    devices = list(TotpDevice.objects.filter(confirmed=True))
    assert {device.user_id for device in devices} == {officeholder.pk, registrar.pk, support.pk}
    assert len(codes) == 30
    second_factor_secrets = [device.key for device in devices] + [
        b32encode(device.bin_key).decode() for device in devices
    ]

    # --- The raw storage: no marker in the database dump, nor in any evidence file, and no
    # TOTP key (hex or base32) or backup code.
    dump = _pg_dump()
    assert incident.reference.encode() in dump  # the dump really holds the data
    assert b"portal_totpdevice" in dump and b"portal_backupcode" in dump
    assert marker.lower().encode() not in dump.lower()
    for secret in second_factor_secrets:
        assert secret.lower().encode() not in dump.lower(), "a TOTP key is in the dump"
    for code in codes:
        assert code.encode() not in dump.lower(), "a backup code is in the dump"
    _assert_no_typed_fact_in(dump, incident)
    stored_files = _files_under(private_storage_in_tmp)
    assert len(stored_files) == 1
    assert all(marker.lower().encode() not in data.lower() for data in stored_files)

    # --- And it all reads back through the pages.
    assert f"{marker} desk note" in desk_page
    assert f"{marker} link" in desk_page or other.reference in desk_page
    assert f"{marker} action" in support_page
    assert f"{marker} support note" in support_page
    client.logout()
    client.force_login(officeholder)
    page = _text(client.get(detail))
    for text in ("summary", "description", "location", "perpetrator", "follow-up"):
        assert f"{marker} {text}" in page, text
    assert f"{marker} support message" in page
    assert f"{marker} desk note" not in page
    download = client.get(Evidence.objects.get(incident=incident).get_absolute_url())
    assert f"Chatlog {marker} bewijs".encode() == b"".join(download.streaming_content)


def test_key_rotation_keeps_everything_readable(settings, db, private_storage_in_tmp):
    """After rotating to a new key and dropping the old one, fields and files still decrypt,
    the authenticator apps' keys included."""
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    incident = IncidentFactory(summary="Voor de rotatie", description="Lange tekst")
    Note.objects.create(incident=incident, body="Notitie", created_at=timezone.now())
    Event.objects.create(
        incident=incident, kind="note", created_at=timezone.now(), payload={"reason": "x"}
    )
    stored = Evidence(
        incident=incident,
        original_name="chat.txt",
        kind="text",
        content_type="text/plain",
        size=5,
        sha256="0" * 64,
        uploaded_at=timezone.now(),
    )
    stored.file.save("evidence", SimpleUploadedFile("x", b"hallo"), save=True)
    case = SupportCase.objects.create(
        escalation=incident.escalations.create(created_at=timezone.now(), reason="Waarom"),
        incident=incident,
        created_at=timezone.now(),
        acknowledge_due_at=timezone.now(),
        outcome="Afgerond",
    )
    device = TotpDevice.objects.create(user=incident.officeholder, name="Authenticator-app")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *old_keys]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]

    incident = Incident.objects.get(pk=incident.pk)
    assert (incident.summary, incident.description) == ("Voor de rotatie", "Lange tekst")
    assert Note.objects.get(incident=incident).body == "Notitie"
    assert Event.objects.get(incident=incident).payload == {"reason": "x"}
    assert incident.escalations.get().reason == "Waarom"
    assert SupportCase.objects.get(pk=case.pk).outcome == "Afgerond"
    with Evidence.objects.get(pk=stored.pk).file.open("rb") as opened:
        assert opened.read() == b"hallo"
    assert TotpDevice.objects.get(pk=device.pk).key == device.key

    # The old key alone no longer reads what was rotated: the new key really was used.
    settings.FIELD_ENCRYPTION_KEYS = old_keys
    with pytest.raises(EncryptionKeyError):
        Incident.objects.get(pk=incident.pk)
    with pytest.raises(EncryptionKeyError):
        TotpDevice.objects.get(pk=device.pk)


def test_encrypted_fields_cannot_be_searched_by_content(db):
    """Comparing ciphertext with a value can never match, so it is refused outright; only
    emptiness can be asked about."""
    IncidentFactory(outcome="")
    assert Incident.objects.filter(outcome="").count() == 1
    with pytest.raises(FieldError):
        list(Incident.objects.filter(summary="Iets"))
    with pytest.raises(FieldError):
        list(Incident.objects.filter(summary__icontains="Iets"))


def test_identifiers_are_stored_as_a_keyed_hash_and_still_match(settings, db):
    """The normalised identifier is stored as an HMAC; the same perpetrator written differently
    at two officeholders still matches in rule 6 and is suggested for linking."""
    first = IncidentFactory()
    second = IncidentFactory(officeholder=UserFactory(organisation=first.organisation))
    PerpetratorIdentifierFactory(incident=first, value="https://x.com/Boze_Burger")
    services._identifiers_replace(
        incident=second,
        actor=second.officeholder,
        identifiers=[(IdentifierKind.HANDLE, "@boze_burger")],
    )
    stored = PerpetratorIdentifier.objects.get(incident=second)
    assert stored.normalised == identifier_hash("boze_burger")
    assert "boze_burger" not in stored.normalised
    assert stored.value == "@boze_burger"

    rule = EscalationRule.objects.get(code=RuleCode.SHARED_PERPETRATOR)
    assert rules.shared_perpetrator(second, rule).matches == {first: [IdentifierKind.HANDLE]}
    registrar = UserFactory(registrar=True, desk=first.desk)
    assert link_suggestions_for(user=registrar, incident=second) == [first]

    # Another hash key: the same handle gives another hash (a dump alone cannot be matched).
    settings.IDENTIFIER_HASH_KEY = "another-key"
    assert identifier_hash("boze_burger") != stored.normalised


def test_production_refuses_the_development_keys():
    """With DEBUG off, the web application refuses the public development encryption and hash
    keys."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "a-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
        # A complete production site otherwise (portal/checks.py refuses localhost defaults).
        "PORTAL_BASE_URL": "https://meldpunt.example.nl",
        "ALLOWED_HOSTS": "meldpunt.example.nl",
        "CSRF_TRUSTED_ORIGINS": "https://meldpunt.example.nl",
        "EMAIL_HOST": "smtp.example.nl",
        "DEFAULT_FROM_EMAIL": "noreply@meldpunt.example.nl",
    }
    script = "import portal.wsgi"  # what gunicorn starts
    for extra, complaint in (
        ({"IDENTIFIER_HASH_KEY": "a-real-hash-key-0123456789"}, "FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": NEW_KEY}, "IDENTIFIER_HASH_KEY"),
    ):
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            env={**env, **extra, "PYTHONPATH": os.getcwd()},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert ImproperlyConfigured.__name__ in result.stderr
        assert complaint in result.stderr
    accepted = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env={
            **env,
            "FIELD_ENCRYPTION_KEYS": NEW_KEY,
            "IDENTIFIER_HASH_KEY": "a-real-hash-key-0123456789",
            "PYTHONPATH": os.getcwd(),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert accepted.returncode == 0, accepted.stderr


def test_messages_are_stored_per_audience_and_decrypted_on_read(db):
    """A message body round-trips; the audience (a structured fact) stays queryable."""
    incident = IncidentFactory()
    Message.objects.create(
        incident=incident,
        audience=MessageAudience.STAFF,
        body="Geheim overleg",
        created_at=timezone.now(),
    )
    assert Message.objects.get(audience=MessageAudience.STAFF).body == "Geheim overleg"
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM incidents_message")
        (raw,) = cursor.fetchone()
    assert "Geheim" not in raw


def test_the_admin_cannot_read_incident_content_anywhere_in_the_django_admin(client, db):
    """Every list and change page of every model in the Django admin, opened by the admin
    role, shows none of an incident's free text, messages, notes or support texts."""
    marker = f"MRK{uuid.uuid4().hex[:12]}"
    incident = IncidentFactory(summary=f"{marker} summary", description=f"{marker} description")
    PerpetratorIdentifierFactory(incident=incident, value=f"@{marker}")
    Note.objects.create(incident=incident, body=f"{marker} note", created_at=timezone.now())
    Message.objects.create(
        incident=incident,
        audience=MessageAudience.STAFF,
        body=f"{marker} message",
        created_at=timezone.now(),
    )
    Event.objects.create(
        incident=incident, kind="note", created_at=timezone.now(), payload={"x": marker}
    )
    escalation = incident.escalations.create(created_at=timezone.now(), reason=f"{marker} why")
    case = SupportCase.objects.create(
        escalation=escalation,
        incident=incident,
        created_at=timezone.now(),
        acknowledge_due_at=timezone.now(),
        outcome=f"{marker} outcome",
    )
    support = UserFactory(support=True)
    SupportAction.objects.create(
        case=case,
        service_type=ServiceType.LEGAL_HELP,
        description=f"{marker} action",
        owner=support,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    administrator = UserFactory(admin=True)
    verified_login(client, administrator)
    opened = 0
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(changelist)
        if not administrator.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            # Groups and the beat schedule: the operator's, not the administrator's.
            assert response.status_code == 403, changelist
            continue
        assert response.status_code == 200, (changelist, response.status_code)
        assert marker not in response.content.decode(), changelist
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])
            response = client.get(change)
            assert response.status_code == 200, (change, response.status_code)
            assert marker not in response.content.decode(), change
            opened += 1
    assert opened > 0
    assert Incident not in admin.site._registry


# --- Evidence files: encrypted in frames, read back as a stream ---------------------------------


def _storage(tmp_path) -> EncryptedFileSystemStorage:
    return EncryptedFileSystemStorage(location=tmp_path / "files")


def _frames(raw: bytes) -> list[bytes]:
    """The length-prefixed frames after the header of a framed encrypted file."""
    frames, position = [], len(ENCRYPTED_FILE_MAGIC) + 16
    while position < len(raw):
        size = int.from_bytes(raw[position : position + 4], "big")
        frames.append(raw[position : position + 4 + size])
        position += 4 + size
    return frames


def test_a_large_evidence_file_is_encrypted_frame_by_frame_and_reads_back(db, tmp_path):
    """A file of several MB (a video) is written and read in 1 MiB frames: none of its bytes
    are on disk in the clear, and the plaintext and its size come back exactly."""
    storage = _storage(tmp_path)
    marker = b"MARKER-" + uuid.uuid4().hex.encode()
    plaintext = (marker + os.urandom(1000)) * 3500  # about 3.5 MB
    name = storage.save("video", ContentFile(plaintext))

    raw = (tmp_path / "files" / name).read_bytes()
    assert raw.startswith(ENCRYPTED_FILE_MAGIC)
    assert marker not in raw
    assert len(_frames(raw)) == 4
    with storage.open(name) as opened:
        assert opened.read(10) == plaintext[:10]
        assert opened.read() == plaintext[10:]
    assert storage.size(name) == len(plaintext)


def test_a_cut_off_reordered_or_spliced_evidence_file_does_not_decrypt(db, tmp_path):
    """Frames carry their file, number and "last" flag inside the encryption: dropping the
    last frame, swapping two, or taking one from another file is an error, not other content."""
    storage = _storage(tmp_path)
    first = storage.save("a", ContentFile(os.urandom(3 * 1024 * 1024)))
    second = storage.save("b", ContentFile(os.urandom(3 * 1024 * 1024)))
    path, other = tmp_path / "files" / first, tmp_path / "files" / second
    raw, other_raw = path.read_bytes(), other.read_bytes()
    header, frames = raw[: len(ENCRYPTED_FILE_MAGIC) + 16], _frames(raw)
    tampered = {
        "cut off": header + b"".join(frames[:-1]),
        "reordered": header + frames[1] + frames[0] + b"".join(frames[2:]),
        "spliced": header + _frames(other_raw)[0] + b"".join(frames[1:]),
        "appended": raw + frames[-1],
    }
    for what, data in tampered.items():
        path.write_bytes(data)
        with pytest.raises(EncryptionKeyError):  # opening may already fail
            with storage.open(first) as opened:
                opened.read()
                pytest.fail(f"a {what} file decrypted")


def test_an_evidence_file_of_the_earlier_format_still_reads(db, tmp_path):
    """Files stored before the framed format (one Fernet token) read and rotate as before."""
    storage = _storage(tmp_path)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "oud").write_bytes(encrypt_bytes(b"Getuigenverklaring"))
    with storage.open("oud") as opened:
        assert opened.read() == b"Getuigenverklaring"
    assert storage.size("oud") == len(b"Getuigenverklaring")
    storage.rotate("oud")
    with storage.open("oud") as opened:
        assert opened.read() == b"Getuigenverklaring"
