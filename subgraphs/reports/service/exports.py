"""A stored run as a file: CSV (the csv module) and XLSX (openpyxl), with one totals line.

Both files print the same header, rows and totals line (`tabulate.totals_row`),
so a spreadsheet and the screen never disagree. In XLSX, money and numbers
are numeric cells (money with 2 decimals), so a reader can sum them again;
dates and instants are real date cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from subgraphs.reports.service.tabulate import as_decimal, totals_row

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's own sheet-name limit.
SHEET_NAME_MAX = 31
NUMBER_FORMATS = {
    "money": "#,##0.00",
    "number": "#,##0.####",
    "percent": "0.##",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


def _text(value: Any) -> str:
    """A cell as CSV text: lists and objects as JSON, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def _lines(
    columns: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[Any]], totals: Mapping[str, Any]
) -> list[list[Any]]:
    lines = [list(r) for r in rows]
    if totals:
        lines.append(totals_row(columns, totals))
    return lines


def to_csv(
    columns: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[Any]], totals: Mapping[str, Any]
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c["label"]) for c in columns])
    for line in _lines(columns, rows, totals):
        writer.writerow([_text(v) for v in line])
    return out.getvalue().encode("utf-8")


def _cell(value: Any, fmt: str, zone: ZoneInfo) -> Any:
    """A cell as XLSX wants it: numbers for money and numbers, dates for dates, text otherwise."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    if fmt in ("money", "number", "percent"):
        number = as_decimal(value)
        if number is None:
            return _text(value)
        if fmt == "money":
            return number.quantize(Decimal("0.01"))
        return int(number) if number == number.to_integral_value() else number
    if fmt == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    if fmt == "datetime" and isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        # Excel has no time zones: the operator's wall clock is what a reader expects.
        if instant.tzinfo is not None:
            instant = instant.astimezone(zone).replace(tzinfo=None)
        return instant
    if isinstance(value, bool | int | float):
        return value
    return str(value)


def to_xlsx(
    columns: Sequence[Mapping[str, Any]],
    rows: Sequence[Sequence[Any]],
    totals: Mapping[str, Any],
    *,
    title: str = "Report",
    time_zone: str = "UTC",
) -> bytes:
    zone = ZoneInfo(time_zone)
    book = Workbook()
    sheet = book.active
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:SHEET_NAME_MAX] or "Report"
    sheet.append([str(c["label"]) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    formats = [str(c.get("format") or "text") for c in columns]
    lines = _lines(columns, rows, totals)
    for n, line in enumerate(lines):
        is_total = bool(totals) and n == len(lines) - 1
        sheet.append(
            [_cell(v, formats[i] if i < len(formats) else "text", zone) for i, v in enumerate(line)]
        )
        for i, cell in enumerate(sheet[sheet.max_row]):
            if i < len(formats) and formats[i] in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[formats[i]]
            if is_total:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
