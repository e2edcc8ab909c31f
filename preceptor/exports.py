"""Reports as downloads: one `Table` becomes a CSV file or an Excel workbook.

A report builds its `Table`s once from the same rows its page shows, so a download always
matches the screen. Cells that could be read as formulas by a spreadsheet (starting with
=, +, - or @) are prefixed with an apostrophe: names come from users and ESR extracts.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A titled grid: `columns` are headings, `rows` hold plain values (str, int, Decimal,
    date, None). `title` names the worksheet (31 characters at most in Excel)."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return str(value)


def _xlsx_cell(value):
    if isinstance(value, str):
        # Control characters are not allowed in a workbook: one in a name must not stop the download.
        return _safe_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, Decimal):
        return float(value)
    return value


def csv_response(tables: list[Table], filename: str) -> Response:
    """All tables in one CSV, each after its title line and separated by a blank line.
    UTF-8 with a byte-order mark so Excel opens names with accents correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
    return _download("\ufeff" + out.getvalue(), "text/csv; charset=utf-8", f"{filename}.csv")


def xlsx_bytes(tables: list[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.title[:31])
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_cell(v) for v in row])
        for cell in sheet[1]:
            sheet.column_dimensions[cell.column_letter].width = max(12, min(40, len(str(cell.value)) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_response(tables: list[Table], filename: str) -> Response:
    return _download(xlsx_bytes(tables), XLSX_TYPE, f"{filename}.xlsx")


def _download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # reports hold staff names
    return response
