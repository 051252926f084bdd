"""The record of deletions, so that a restored backup does not bring deleted data back.

Every anonymisation by the retention job and every deletion an officeholder asks for writes
a `DeletionRecord` (kind, object id, reference, time: no personal data) in the same
transaction, and after the commit one small JSON file in the *deletion log*: a storage of
its own (STORAGES["deletion_log"]: DELETION_LOG_DIR, or a prefix in the S3 bucket) that is
never part of a backup. A backup made on Monday does not know about Tuesday's deletions;
the deletion log does, also when the database itself is lost.

`manage.py restore` collects the records from the deletion log and from the database it is
about to replace, restores, and then hands each record to the handler its app registered
(`deletion_reapplier_register`; incidents registers its own in `IncidentsConfig.ready`),
before anyone is let in. Handlers are idempotent: a record whose object is already gone, or
already anonymised, changes nothing.
"""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from portal.models import DeletionRecord

logger = logging.getLogger(__name__)


class DeletionLogStorage(FileSystemStorage):
    """The deletion log on disk: DELETION_LOG_DIR (read when first used)."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.DELETION_LOG_DIR)


def deletion_log_storage():
    """The deletion log's storage (built anew each time: tests move it)."""
    return storages.create_storage(settings.STORAGES["deletion_log"])


@dataclass(frozen=True)
class Deletion:
    kind: str
    object_id: int
    reference: str
    at: str

    @property
    def file_name(self) -> str:
        return f"{self.kind}-{self.object_id}.json"

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "kind": self.kind,
                "object_id": self.object_id,
                "reference": self.reference,
                "at": self.at,
            },
            sort_keys=True,
        ).encode()


def _deletion(record: DeletionRecord) -> Deletion:
    return Deletion(record.kind, record.object_id, record.reference, record.at.isoformat())


def deletion_log_write(deletion: Deletion) -> bool:
    """Write one record to the deletion log (once per kind and object); False when the log
    could not be written (logged: the database record still exists, and `backup` writes
    every missing one)."""
    storage = deletion_log_storage()
    try:
        if not storage.exists(deletion.file_name):
            storage.save(deletion.file_name, ContentFile(deletion.as_json()))
        return True
    except Exception as error:  # a full disk, an object store that refuses: never fail it
        logger.error("Deletion log not written for %s: %s", deletion.file_name, error)
        return False


def deletion_record(*, kind: str, object_id: int, reference: str = "") -> DeletionRecord:
    """Record that `kind` of `object_id` was removed; inside the caller's transaction.

    Guarantees: the database record commits with the deletion itself; the deletion log
    file is written after that commit (a failure there is logged, never raised). Recording
    the same kind and object twice keeps the first record.
    """
    record, _ = DeletionRecord.objects.get_or_create(
        kind=kind,
        object_id=object_id,
        defaults={"reference": reference, "at": timezone.now()},
    )
    deletion = _deletion(record)
    transaction.on_commit(lambda: deletion_log_write(deletion), robust=True)
    return record


def deletion_log_export() -> int:
    """Write every database record that is missing from the deletion log; returns how many
    were checked. `backup` runs it, so a log that was unreachable for a while catches up."""
    count = 0
    for record in DeletionRecord.objects.order_by("pk").iterator():
        deletion_log_write(_deletion(record))
        count += 1
    return count


def _walk(storage, folder: str = "") -> Iterable[str]:
    directories, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for directory in directories:
        yield from _walk(storage, f"{folder}/{directory}" if folder else directory)


def deletions_from_log() -> list[Deletion]:
    """Every record in the deletion log (an absent log is an empty one)."""
    storage = deletion_log_storage()
    try:
        names = [name for name in _walk(storage) if name.endswith(".json")]
    except FileNotFoundError:
        return []
    deletions = []
    for name in sorted(names):
        with storage.open(name) as opened:
            data = json.loads(opened.read())
        deletions.append(
            Deletion(data["kind"], int(data["object_id"]), data.get("reference", ""), data["at"])
        )
    return deletions


def deletions_from_database() -> list[Deletion]:
    """The records in the current database; empty when it has none yet (a new database) or
    cannot be read."""
    try:
        return [_deletion(record) for record in DeletionRecord.objects.order_by("pk")]
    except DatabaseError:
        return []


_REAPPLIERS: dict[str, Callable[[int], bool]] = {}


def deletion_reapplier_register(*, kind: str, handler: Callable[[int], bool]) -> None:
    """Register the idempotent handler that removes `kind` of an object id again (True when
    it removed something)."""
    _REAPPLIERS[kind] = handler


def deletions_reapply(deletions: Iterable[Deletion]) -> dict[str, int]:
    """Apply every deletion again, oldest first, and record it in this database; returns
    per kind how many removed something. An unknown kind is an error: better to stop the
    restore than to let deleted data back in silently."""
    unique = {(d.kind, d.object_id): d for d in deletions}
    done: dict[str, int] = {}
    for deletion in sorted(unique.values(), key=lambda d: (parse_datetime(d.at), d.object_id)):
        handler = _REAPPLIERS.get(deletion.kind)
        if handler is None:
            raise LookupError(f"no handler for deletion kind {deletion.kind!r}")
        with transaction.atomic():
            removed = handler(deletion.object_id)
            DeletionRecord.objects.get_or_create(
                kind=deletion.kind,
                object_id=deletion.object_id,
                defaults={"reference": deletion.reference, "at": parse_datetime(deletion.at)},
            )
        done[deletion.kind] = done.get(deletion.kind, 0) + int(bool(removed))
    return done
