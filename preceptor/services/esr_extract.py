"""Reading the Electronic Staff Record (ESR) extract: its columns, and its lines read into
starter rows (the reading itself is `csv_upload`'s, shared with the people import).

Only the file's shape is checked here. The values in each row are checked by
`starters.check_values`, with the rules in `starter_values`.
"""

from .csv_upload import MAX_BYTES, MAX_ROWS, Column, pack, unpack
from .csv_upload import decode as decode_any
from .csv_upload import read_rows as read_any
from .starter_values import StarterRow

__all__ = ["COLUMNS", "HEADINGS", "MAX_BYTES", "MAX_ROWS", "decode", "pack", "read_rows", "unpack"]

# The ESR extract's columns, in the order the sample file uses. Headings match ignoring case
# and spacing; other columns in the extract are ignored. README.md documents each one.
COLUMNS = (
    Column("employee_number", "Employee Number", False),
    Column("name", "Full Name", True),
    Column("email", "Email", True),
    Column("hcpc_number", "HCPC Number", False),
    Column("site", "Site", True),
    Column("department", "Department", True),
    Column("start_date", "Start Date", True),
    Column("transition", "Transition", False),
    Column("months", "Programme Months", False),
)
HEADINGS = {column.key: column.heading for column in COLUMNS}


def decode(data: bytes) -> tuple[str | None, str | None]:
    """The extract's text, or why it cannot be read."""
    return decode_any(data, "Choose the CSV file exported from ESR.")


def read_rows(text: str) -> tuple[list[StarterRow], list[str]]:
    """The extract's starters with their line numbers and values as typed, or its problems."""
    return read_any(text, COLUMNS, lambda line, values: StarterRow(line=line, values=values), "starters")
