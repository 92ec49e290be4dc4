"""Reading a report export as Moodle's dataformat plugins write it: CSV (UTF-8 with BOM, comma),
XLSX (openpyxl) or ODS (odfpy); the first row holds the headers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .attempt import ResultsError


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            rows = _xlsx(path)
        elif suffix == ".ods":
            rows = _ods(path)
        else:
            rows = _csv(path)
    except ResultsError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, Exception) as exc:  # the libraries raise their own kinds
        raise ResultsError(f"{path}: cannot be read as a Moodle report export ({type(exc).__name__}: {exc})") from None
    rows = [[_cell(c) for c in row] for row in rows]
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise ResultsError(f"{path}: the export is empty (no header row)")
    header, body = rows[0], rows[1:]
    return header, [r + [""] * (len(header) - len(r)) for r in body]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv(path: Path) -> list[list]:
    text = path.read_bytes().decode("utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _xlsx(path: Path) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _ods(path: Path) -> list[list]:
    from odf import teletype
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    doc = load(str(path))
    table = doc.spreadsheet.getElementsByType(Table)[0]
    rows = []
    for row in table.getElementsByType(TableRow):
        cells = []
        for cell in row.getElementsByType(TableCell):
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            cells += [teletype.extractText(cell)] * min(repeat, 1000)
        rows.append(cells)
    return rows
