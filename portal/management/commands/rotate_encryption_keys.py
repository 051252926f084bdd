"""Re-encrypt every encrypted field and file with the current (first) key.

Rotation: put the new key in front of FIELD_ENCRYPTION_KEYS (keep the old one behind it),
restart, run this command, then remove the old key. Running it twice changes nothing that
matters: each value is decrypted with whichever key fits and encrypted with the first.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from portal.crypto import EncryptedStorage, EncryptedTextField

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted database fields and evidence files with the current key."

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            files = [
                f
                for f in model._meta.concrete_fields
                if isinstance(f, models.FileField) and isinstance(f.storage, EncryptedStorage)
            ]
            if fields:
                count = self._rotate_fields(model, fields)
                self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            for field in files:
                count = self._rotate_files(model, field)
                self.stdout.write(f"{model._meta.label}.{field.name}: {count} files re-encrypted")

    def _rotate_fields(self, model, fields: list[str]) -> int:
        count = 0
        queryset = model._base_manager.only("pk", *fields).order_by("pk")
        batch = []
        for obj in queryset.iterator(chunk_size=BATCH_SIZE):
            batch.append(obj)
            if len(batch) == BATCH_SIZE:
                count += self._save(model, batch, fields)
                batch = []
        if batch:
            count += self._save(model, batch, fields)
        return count

    def _save(self, model, batch, fields) -> int:
        with transaction.atomic():
            model._base_manager.bulk_update(batch, fields)
        return len(batch)

    def _rotate_files(self, model, field) -> int:
        count = 0
        names = model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
        for name in names.iterator(chunk_size=BATCH_SIZE):
            if field.storage.exists(name):
                field.storage.rotate(name)
                count += 1
        return count
