"""Reading an uploaded CSV file: decoding it, finding its columns by heading, reading its
lines into rows of values as typed, and carrying the decoded text to the confirm step in a
hidden form field. Shared by the ESR starters import (`esr_extract`) and the people import
(`people_import`), which each name their columns and check the values.

Only the file's shape is checked here (encoding, headings, size, CSV syntax).
"""

import base64
import binascii
import csv
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Row = TypeVar("Row")


def words(text: str) -> str:
    """Case and spacing do not matter when matching names, headings and choices."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Problem:
    """Why a row cannot be imported; `column` is the key of the value at fault."""

    column: str
    message: str


@dataclass
class CheckedRow:
    """A row read from a file line, with its values as typed and what is wrong with them."""

    line: int
    values: dict[str, str]  # as typed, by column key: shown back in the preview
    problems: list[Problem] = field(default_factory=list)

    def refuse(self, column: str, message: str) -> None:
        self.problems.append(Problem(column, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_for(self, column: str) -> list[str]:
        return [p.message for p in self.problems if p.column == column]


# A September intake for a whole trust is a few hundred rows; these limits leave room for
# that many times over while keeping a preview page and one transaction a sensible size.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
SAVE_AS_UTF8 = 'In Excel choose File, Save As, "CSV UTF-8 (Comma delimited) (*.csv)", then upload that file.'


@dataclass(frozen=True)
class Column:
    """A column found by its heading, ignoring case and spacing."""

    key: str
    heading: str
    required: bool


def decode(data: bytes, choose: str = "Choose a CSV file.") -> tuple[str | None, str | None]:
    """The file's text (a UTF-8 byte order mark dropped) or why it cannot be read; `choose`
    tells an empty file's uploader which file was wanted."""
    if not data.strip():
        return None, "The file is empty. " + choose
    if len(data) > MAX_BYTES:
        return None, (f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. "
                      "Split it into smaller files and upload each one.")
    if data.startswith(b"PK\x03\x04"):
        return None, "This is an Excel workbook, not a CSV file. " + SAVE_AS_UTF8
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "The file is saved as UTF-16 (Unicode text), which the portal cannot read. " + SAVE_AS_UTF8
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, ("The file is not saved as UTF-8, so some characters (such as accents or £) cannot be "
                      f"read; the first one is on line {line}. " + SAVE_AS_UTF8)
    if "\x00" in text:
        return None, "The file is not a text file. " + SAVE_AS_UTF8
    return text, None


def _header(cells: list[str], columns: Sequence[Column]) -> tuple[dict[str, int], list[str]]:
    """Column key to position, and problems with the heading line."""
    headings = {column.key: column.heading for column in columns}
    by_words = {words(column.heading): column.key for column in columns}
    positions: dict[str, int] = {}
    problems: list[str] = []
    for position, cell in enumerate(cells):
        key = by_words.get(words(cell.replace("\ufeff", "")))
        if key is None:
            continue  # exports (ESR's above all) carry many other columns
        if key in positions:
            problems.append(f"The column {headings[key]} appears more than once.")
        positions.setdefault(key, position)
    missing = [column.heading for column in columns if column.required and column.key not in positions]
    if missing:
        problems.append(f"The file is missing the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
                        "The first line must hold the column headings.")
        if len(cells) == 1 and (";" in cells[0] or "\t" in cells[0]):
            problems.append("The values seem to be separated by semicolons or tabs, not commas. " + SAVE_AS_UTF8)
    return positions, problems


def read_rows(text: str, columns: Sequence[Column], make_row: Callable[[int, dict[str, str]], Row],
              noun: str) -> tuple[list[Row], list[str]]:
    """The file's data rows, made by `make_row(line, values by column key)` (blank lines
    skipped), or the file's problems. Values are not checked here. `noun` names what a row
    holds ("starters", "people") in the messages."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            return [], ["The file is empty. The first line must hold the column headings."]
        positions, problems = _header(header, columns)
        if problems:
            return [], problems
        rows: list[Row] = []
        line = reader.line_num
        for cells in reader:
            first_line, line = line + 1, reader.line_num  # a quoted value may span lines
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets add empty rows at the end
            if len(rows) == MAX_ROWS:
                return [], [f"The file has more than {MAX_ROWS:,} {noun}. Split it into smaller files."]
            values = {key: (cells[i].strip() if i < len(cells) else "") for key, i in positions.items()}
            rows.append(make_row(first_line, values))
    except csv.Error as error:
        return [], [f"The file is not a readable CSV file (line {reader.line_num}: {error}). " + SAVE_AS_UTF8]
    if not rows:
        return [], [f"The file has column headings but no {noun}."]
    return rows, []


# --- carrying the file to the confirm step ---------------------------------------------------

def pack(text: str) -> str:
    """The text for a hidden form field: compressed (a 2 MB file is a few hundred KB) and in
    base64, so the browser posts back exactly these bytes (no newline conversion)."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def unpack(packed: str) -> str | None:
    """The text `pack` made, or None for anything else (tampered, truncated, or too large
    once decompressed: the limit is enforced before the whole thing is inflated)."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.b64decode(packed or "", validate=True), MAX_BYTES + 1)
        if len(data) > MAX_BYTES or inflater.unconsumed_tail or not inflater.eof:
            return None
        return data.decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        return None
