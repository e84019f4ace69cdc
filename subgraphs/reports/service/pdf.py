"""A stored run as a PDF table, for scheduled mail (reportlab, as finance's invoices are drawn).

It prints what the run holds and computes nothing: the same header, rows
and totals line as the CSV and XLSX files (`tabulate.totals_row`), so the
three formats of one run never disagree. Money prints with two decimals and
thousands separators. Wide tables turn the page to landscape; the table
flows onto as many pages as it needs with its header repeated. Output is
byte-for-byte repeatable for the same run (reportlab's `invariant` mode).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from subgraphs.reports.service.tabulate import as_decimal, totals_row

PDF_TYPE = "application/pdf"
#: Above this many columns the page turns to landscape.
PORTRAIT_COLUMNS = 5
NUMERIC = ("money", "number", "percent")

_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#616e7c")
_RULE = colors.HexColor("#cbd2d9")
_BAND = colors.HexColor("#f0f4f8")

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=8.5, leading=10.5, textColor=_INK)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT)
_BOLD = ParagraphStyle("bold", parent=_BODY, fontName="Helvetica-Bold")
_BOLD_RIGHT = ParagraphStyle("bold_right", parent=_BOLD, alignment=TA_RIGHT)
_HEAD = ParagraphStyle("head", parent=_BOLD, textColor=colors.white)
_HEAD_RIGHT = ParagraphStyle("head_right", parent=_HEAD, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=16, leading=20)
_SMALL = ParagraphStyle("small", parent=_BODY, textColor=_MUTED)
_MARGIN = 0.6 * inch


def cell_text(value: Any, fmt: str) -> str:
    """A cell as printed: money `12,345.60`, numbers as exact as stored, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    if fmt in NUMERIC:
        number = as_decimal(value)
        if number is not None:
            if fmt == "money":
                return f"{number.quantize(Decimal('0.01')):,.2f}"
            return f"{number:,f}" if fmt == "number" else str(value)
    return str(value)


def render_run(
    *,
    title: str,
    ran_at: datetime,
    time_zone: str,
    columns: Sequence[Mapping[str, Any]],
    rows: Sequence[Sequence[Any]],
    totals: Mapping[str, Any],
) -> bytes:
    """The run as a letter-size PDF: title, run time (local), the table and its totals line."""
    formats = [str(c.get("format") or "text") for c in columns]
    page = landscape(LETTER) if len(columns) > PORTRAIT_COLUMNS else LETTER
    width = page[0] - 2 * _MARGIN
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        creator="Athena",
        invariant=1,
    )
    local = ran_at.astimezone(ZoneInfo(time_zone))
    story: list[Any] = [
        Paragraph(escape(title), _TITLE),
        Paragraph(
            escape(f"Run {local:%Y-%m-%d %H:%M} {local.tzname()} · {len(rows)} rows"), _SMALL
        ),
        Spacer(1, 0.2 * inch),
    ]
    if columns:
        story.append(_table(columns, formats, rows, totals, width))
    doc.build(story)
    return buffer.getvalue()


def _table(
    columns: Sequence[Mapping[str, Any]],
    formats: list[str],
    rows: Sequence[Sequence[Any]],
    totals: Mapping[str, Any],
    width: float,
) -> Table:
    def line(values: Sequence[Any], bold: bool = False) -> list[Paragraph]:
        out = []
        for i, value in enumerate(values):
            fmt = formats[i] if i < len(formats) else "text"
            numeric = fmt in NUMERIC and as_decimal(value) is not None
            style = (_BOLD_RIGHT if numeric else _BOLD) if bold else (_RIGHT if numeric else _BODY)
            out.append(Paragraph(escape(cell_text(value, fmt)), style))
        return out

    header = [
        Paragraph(escape(str(c["label"])), _HEAD_RIGHT if f in NUMERIC else _HEAD)
        for c, f in zip(columns, formats, strict=True)
    ]
    body = [line(r) for r in rows]
    style = TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), _INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    for row in range(2, len(body) + 1, 2):
        style.add("BACKGROUND", (0, row), (-1, row), _BAND)
    if totals:
        body.append(line(totals_row(columns, totals), bold=True))
        style.add("LINEABOVE", (0, len(body)), (-1, len(body)), 1, _INK)
    return Table(
        [header, *body],
        colWidths=[width / len(columns)] * len(columns),
        repeatRows=1,
        style=style,
    )
