"""Make a backup: pg_dump of the database and a copy of the encrypted evidence store.

See portal/backups.py and README, "Backups and restore". Run it as a role that can read
every table (the app role can); typically once a night from cron, a Kubernetes CronJob or
`docker compose run --rm web python manage.py backup`.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (pg_dump -Fc) and the encrypted evidence files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--target",
            type=Path,
            default=None,
            help="Folder to write the backup into (default: BACKUP_DIR).",
        )
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="Delete backups in the folder older than this many days; 0 keeps all "
            "(default: BACKUP_RETENTION_DAYS). The newest backup is always kept.",
        )

    def handle(self, *args, target, retention_days, **options):
        target = target or settings.BACKUP_DIR
        if retention_days is None:
            retention_days = settings.BACKUP_RETENTION_DAYS
        try:
            result = backup_create(target=target, retention_days=retention_days)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup {result.path}: database {result.database_bytes} bytes, "
            f"{result.evidence_files} evidence files."
        )
        for path in result.removed:
            self.stdout.write(f"Removed old backup {path}")
