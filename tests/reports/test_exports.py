"""CSV and XLSX of a run: same header, rows and totals line; XLSX money as 2-place numbers."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from subgraphs.reports.service.exports import to_csv, to_xlsx
from subgraphs.reports.service.tabulate import tabulate

COLUMNS = [
    {"path": "agent", "label": "Agent", "format": "text"},
    {"path": "pickupAt", "label": "Pickup", "format": "datetime"},
    {"path": "day", "label": "Day", "format": "date"},
    {"path": "total", "label": "Total", "format": "money"},
    {"path": "stops", "label": "Stops", "format": "number"},
]
ROWS = [
    {
        "agent": "Ann",
        "pickupAt": "2026-03-01T15:00:00Z",
        "day": "2026-03-01",
        "total": "0.10",
        "stops": 2,
    },
    {
        "agent": "Bob",
        "pickupAt": "2026-03-02T15:30:00Z",
        "day": "2026-03-02",
        "total": "1000.20",
        "stops": 3,
    },
    {"agent": "Ann", "pickupAt": None, "day": None, "total": "0.20", "stops": None},
]


def _table(grouped: bool) -> tuple[list[dict[str, Any]], list[list[Any]], dict[str, Any]]:
    table = tabulate(
        ROWS,
        COLUMNS,
        group_by=["agent"] if grouped else [],
        aggregations=[
            {"column": "total", "function": "sum"},
            {"column": "stops", "function": "count"},
        ],
    )
    return [c.as_json() for c in table.columns], table.rows, table.totals


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _xlsx(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_grouped_csv_and_xlsx_agree_with_totals() -> None:
    columns, rows, totals = _table(grouped=True)
    text = _csv(to_csv(columns, rows, totals))
    assert text == [
        ["Agent", "Total (sum)", "Stops (count)"],
        ["Ann", "0.30", "1"],
        ["Bob", "1000.20", "1"],
        ["Total", "1000.50", "2"],
    ]
    sheet = _xlsx(to_xlsx(columns, rows, totals, title="Sales by agent"))
    assert sheet[0] == ["Agent", "Total (sum)", "Stops (count)"]
    assert sheet[-1][0] == "Total"
    # Money is a number cell with 2 places (exact to the cent), the same figures as the CSV.
    for csv_line, xlsx_line in zip(text[1:], sheet[1:], strict=True):
        assert csv_line[0] == xlsx_line[0]
        assert Decimal(csv_line[1]) == Decimal(str(xlsx_line[1])).quantize(Decimal("0.01"))
        assert int(csv_line[2]) == xlsx_line[2]
    assert isinstance(sheet[-1][1], float | int)


def test_ungrouped_files_keep_every_row_types_and_totals_line() -> None:
    columns, rows, totals = _table(grouped=False)
    text = _csv(to_csv(columns, rows, totals))
    assert text[0] == ["Agent", "Pickup", "Day", "Total", "Stops"]
    assert text[1] == ["Ann", "2026-03-01T15:00:00Z", "2026-03-01", "0.10", "2"]
    assert text[3] == ["Ann", "", "", "0.20", ""]
    assert text[-1] == ["Total", "", "", "1000.50", "2"]
    sheet = _xlsx(to_xlsx(columns, rows, totals, time_zone="America/Chicago"))
    assert len(sheet) == len(text)
    # 15:00 UTC is 09:00 in Chicago (CST): spreadsheets show the operator's wall clock.
    assert sheet[1][1] == datetime(2026, 3, 1, 9, 0)
    assert sheet[1][2] in (date(2026, 3, 1), datetime(2026, 3, 1))
    assert sheet[-1] == ["Total", None, None, sheet[-1][3], 2]
    assert Decimal(str(sheet[-1][3])) == Decimal("1000.50")


def test_no_totals_line_without_aggregations() -> None:
    table = tabulate(ROWS, COLUMNS)
    columns = [c.as_json() for c in table.columns]
    assert len(_csv(to_csv(columns, table.rows, table.totals))) == 4
    assert len(_xlsx(to_xlsx(columns, table.rows, table.totals))) == 4
