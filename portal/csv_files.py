"""Reading the CSV files people upload or operators import (organisations, officeholders).

Pure reading: bytes in, rows of stripped text out, with the header names in lower case. A
file saved by Excel (semicolons, a byte-order mark, Windows-1252) reads the same as a plain
UTF-8 file with commas. What the columns mean is up to the import that asks.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

# An upload larger than this is refused before it is read (about 20,000 rows of people).
CSV_MAX_BYTES = 2 * 1024 * 1024


class CsvFileError(ValueError):
    """The file cannot be read as a CSV with the expected header (a Dutch message)."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line number in the file (the header is line 1) and its values."""

    line: int
    values: dict[str, str]


def csv_text(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_rows(data: bytes, *, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    """The rows of a CSV file whose header names at least `required` (in any order).

    Raises CsvFileError for a file that is too large, empty, or misses a column. Columns that
    are neither required nor optional are ignored; empty lines are skipped.
    """
    if len(data) > CSV_MAX_BYTES:
        raise CsvFileError(_("Het bestand is te groot (meer dan 2 MB). Splits het in delen."))
    text = csv_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError(_("Het bestand is leeg.")) from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise CsvFileError(
            _("De kolom %(columns)s ontbreekt. De eerste regel moet zijn: %(header)s")
            % {"columns": ", ".join(missing), "header": ",".join(required + optional)}
        )
    wanted = set(required) | set(optional)
    rows = []
    for record in reader:
        line = reader.line_num
        if not any(value.strip() for value in record):
            continue
        values = {name: "" for name in wanted}
        for name, value in zip(names, record, strict=False):
            if name in wanted:
                values[name] = value.strip()
        rows.append(CsvRow(line=line, values=values))
    return rows
