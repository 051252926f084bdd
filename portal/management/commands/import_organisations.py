from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.csv_files import CsvFileError
from portal.services import organisations_import


class Command(BaseCommand):
    help = (
        "Create or update organisations from a CSV in the CBS format "
        "(code,name,type,province[,ended_on,successor_code]). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", type=Path, help="The CSV file (README, Organisations register).")

    def handle(self, *args, csv: Path, **options):
        try:
            data = csv.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {csv}: {error}") from None
        try:
            results = organisations_import(data=data)
        except CsvFileError as error:
            raise CommandError(str(error)) from None
        counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
        for result in results:
            counts[result.outcome] += 1
            line = f"line {result.line} {result.code or '-'}: {result.outcome}"
            if result.message:
                line += f" ({result.message})"
            self.stdout.write(self.style.ERROR(line) if result.outcome == "error" else line)
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(summary) if not counts["error"] else summary)
        if counts["error"]:
            raise CommandError(f"{counts['error']} row(s) were not imported; see above.")
