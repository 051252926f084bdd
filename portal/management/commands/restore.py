"""Restore a backup made by `manage.py backup` into an empty database and the evidence store.

Re-applies every deletion recorded since the backup and runs the retention jobs before it
returns; keep the portal closed until then (README, "Restore runbook"). Run it as the
database's owner role (it creates the tables), with the same FIELD_ENCRYPTION_KEYS as the
backup's time (retired keys behind the current one).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup folder (mwb-<time>) into an empty database and the evidence store."

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="The backup folder (mwb-<time>).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop every table of the current database first (otherwise it must be empty).",
        )

    def handle(self, *args, backup, replace, **options):
        try:
            result = backup_restore(source=backup, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {backup}: {result.evidence_files} evidence files.")
        for kind, count in sorted(result.reapplied.items()):
            self.stdout.write(f"Deletions applied again: {kind}: {count}")
        for job, count in result.retention.items():
            self.stdout.write(f"Retention {job}: {count}")
        self.stdout.write("Every session has ended. The portal may open again.")
