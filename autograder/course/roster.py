"""The roster: which LMS student each submission folder belongs to.

A CSV file with a header. The ``folder`` column names the student's folder under ``submitted/`` (the
``student`` of grade-batch's records, an nbgrader student id); the other columns are the LMS's own
identifiers, copied as they are. For Canvas they are the columns of Canvas's gradebook export
(``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``), so a roster is Canvas's export with
a ``folder`` column added; for Moodle, the column of the identifier the import matches on (``email``,
``idnumber`` or ``username``: any column the instructor names).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

FOLDER = "folder"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")  # Canvas's student-info columns
CANVAS_REQUIRED = ("Student", "ID")  # Canvas's importer needs these two; the SIS columns and Section may be blank


@dataclass
class Roster:
    """The rows of a roster file, by student folder, in the file's order.

    Attributes:
        path: the file it was read from.
        columns: the header, as written (``folder`` included).
        rows: ``{folder: {column: value}}``; every column is present (blank where the row had none).
    """

    path: Path
    columns: list[str]
    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    def column(self, name: str) -> str | None:
        """The header's spelling of ``name`` (matched without regard to case or surrounding spaces), or None."""
        wanted = name.strip().casefold()
        return next((column for column in self.columns if column.strip().casefold() == wanted), None)

    def require(self, names: tuple[str, ...] | list[str]) -> None:
        """Raise ``ValueError`` naming the columns among ``names`` that the header lacks."""
        missing = [name for name in names if self.column(name) is None]
        if missing:
            raise ValueError(f"Expected the roster {self.path} to have the column(s) {', '.join(missing)}. "
                             f"Received the columns: {', '.join(self.columns)}.")

    def value(self, folder: str, name: str) -> str:
        """The row's value in column ``name`` (blank when the roster has no such column)."""
        column = self.column(name)
        return self.rows[folder].get(column, "") if column else ""


def read_roster(path: Path) -> Roster:
    """Read a roster CSV (UTF-8, a BOM allowed, as spreadsheets save it).

    Raises:
        ValueError: no ``folder`` column, a row without a folder, or a folder listed twice.
        OSError: the file cannot be read.
    """
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    roster = Roster(path, columns)
    folder = roster.column(FOLDER)
    if folder is None:
        raise ValueError(f"Expected the roster {path} to have a '{FOLDER}' column (each student's folder under "
                         f"submitted/). Received the columns: {', '.join(columns) or 'none (an empty file)'}.")
    for line, row in enumerate(reader, start=2):
        values = {column: (row.get(column) or "").strip() for column in columns}
        name = values[folder]
        if not name:
            if any(values.values()):
                raise ValueError(f"Expected a folder on every row of the roster {path}. Received none on line {line}.")
            continue
        if name in roster.rows:
            raise ValueError(f"Expected each folder once in the roster {path}. Received {name!r} again on line {line}.")
        roster.rows[name] = values
    return roster
