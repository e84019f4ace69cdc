"""An invoice as a PDF, and the `INV-YYYY-NNNNN` number it is known by.

The renderer takes a finished `InvoiceDocument` (plain values, no session), so
the same figures the ledger holds are what the client reads: it prints them,
it never computes them. Before drawing anything it refuses a document that
contradicts itself (sub-cent money, totals that do not add up), because a PDF
leaves the building and cannot be corrected by a later query.

Output is byte-for-byte repeatable for the same document (reportlab's
`invariant` mode fixes the creation date and document id), so a stored PDF
can be compared with a fresh render and cached by content.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from reportlab.platypus import Flowable

CENT = Decimal("0.01")
MAX_SEQUENCE = 99_999
_NUMBER = re.compile(r"INV-(?P<year>\d{4})-(?P<sequence>\d{5})")

#: Invoice statuses (issue 12's transition table); each prints with its label.
STATUS_LABELS = {
    "draft": "Draft",
    "sent": "Sent",
    "partially_paid": "Partially paid",
    "paid": "Paid",
    "overdue": "Overdue",
    "void": "Void",
}
#: Statuses whose copy must not pass for a payable invoice: stamped across every page.
WATERMARKS = {"void": "VOID", "draft": "DRAFT"}

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- invoice numbers ------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceNumber:
    year: int
    sequence: int

    def __str__(self) -> str:
        return format_invoice_number(self.year, self.sequence)


def format_invoice_number(year: int, sequence: int) -> str:
    """`INV-2026-00042`: the sequence restarts each year, so the year is part of the number."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year: {year} is not a four-digit year")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence: {sequence} is outside 1..{MAX_SEQUENCE}")
    return f"INV-{year:04d}-{sequence:05d}"


def parse_invoice_number(number: str) -> InvoiceNumber:
    """Read a number back, refusing anything `format_invoice_number` would not have written."""
    match = _NUMBER.fullmatch(number)
    if match is None or int(match["sequence"]) == 0:
        raise ValueError(f"number: {number!r} is not an invoice number (INV-YYYY-NNNNN)")
    return InvoiceNumber(int(match["year"]), int(match["sequence"]))


# --- the document ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The operator as printed in the letterhead."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """One billed item; `amount` is quantity x unit price rounded half-up to the cent."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    issue_date: date
    due_date: date
    status: str
    issuer: Issuer
    client_name: str
    billing_address: tuple[str, ...]
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    payment_terms: str
    notes: str | None = None
    charter_references: tuple[str, ...] = ()
    client_email: str | None = None
    #: A consolidated invoice's billing period (first and last day).
    period: tuple[date, date] | None = None


class InvoiceDocumentError(ValueError):
    """A document that must not be printed; `field` names the offending value (`lines[3].amount`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_document(invoice: InvoiceDocument) -> None:
    """Refuse what a reader would take as an error on our side, before any page is drawn."""
    _checked_number(invoice.number)
    if _status(invoice) not in STATUS_LABELS:
        raise InvoiceDocumentError("status", f"{invoice.status!r} is not an invoice status")
    if invoice.due_date < invoice.issue_date:
        raise InvoiceDocumentError("due_date", "is before the issue date")
    if invoice.period and invoice.period[1] < invoice.period[0]:
        raise InvoiceDocumentError("period", "ends before it starts")
    if not invoice.client_name.strip():
        raise InvoiceDocumentError("client_name", "is empty")
    if not invoice.lines:
        raise InvoiceDocumentError("lines", "an invoice needs at least one line")
    for index, line in enumerate(invoice.lines):
        where = f"lines[{index}]"
        _check_finite(line.quantity, f"{where}.quantity")
        _check_money(line.unit_price, f"{where}.unit_price")
        _check_money(line.amount, f"{where}.amount")
        expected = (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        if line.amount != expected:
            raise InvoiceDocumentError(
                f"{where}.amount", f"{line.amount} is not quantity x unit price ({expected})"
            )
    for name in ("subtotal", "tax", "total", "amount_paid", "balance_due"):
        _check_money(getattr(invoice, name), name)
    _check_sum("subtotal", invoice.subtotal, sum((x.amount for x in invoice.lines), Decimal(0)))
    _check_sum("total", invoice.total, invoice.subtotal + invoice.tax)
    _check_sum("balance_due", invoice.balance_due, invoice.total - invoice.amount_paid)


def _status(invoice: InvoiceDocument) -> str:
    """The status value: a plain string or any enum whose value is one (`"void"`)."""
    return str(getattr(invoice.status, "value", invoice.status))


def _checked_number(number: str) -> InvoiceNumber:
    try:
        return parse_invoice_number(number)
    except ValueError as exc:
        raise InvoiceDocumentError("number", f"{number!r} is not INV-YYYY-NNNNN") from exc


def _check_finite(value: Decimal, field: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvoiceDocumentError(field, f"{value!r} is not a finite Decimal")


def _check_money(value: Decimal, field: str) -> None:
    _check_finite(value, field)
    if value != value.quantize(CENT):
        raise InvoiceDocumentError(field, f"{value} has more than two decimal places")


def _check_sum(field: str, printed: Decimal, computed: Decimal) -> None:
    if printed != computed:
        raise InvoiceDocumentError(field, f"{printed} does not add up (expected {computed})")


# --- formatting -----------------------------------------------------------------------------


def format_money(value: Decimal) -> str:
    """`$12,345.60`, `-$25.00`: always two decimals, thousands separated."""
    text = f"${abs(value):,.2f}"
    return f"-{text}" if value < 0 else text


def format_quantity(value: Decimal) -> str:
    """Whole quantities print bare (`3`), fractional ones as given (`2.5`)."""
    return format(value.normalize() + 0, ",f")


def format_date(value: date) -> str:
    """`May 4, 2026` from a fixed table: the process locale must not change the paper."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


# --- rendering ------------------------------------------------------------------------------

_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#616e7c")
_RULE = colors.HexColor("#cbd2d9")
_BAND = colors.HexColor("#f0f4f8")

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12, textColor=_INK)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=10.5, textColor=_MUTED)
_LABEL = ParagraphStyle("label", parent=_SMALL, fontName="Helvetica-Bold")
_ISSUER = ParagraphStyle("issuer", parent=_BODY, fontName="Helvetica-Bold", fontSize=15, leading=18)
_TITLE = ParagraphStyle(
    "title", parent=_BODY, fontName="Helvetica-Bold", fontSize=20, leading=24, alignment=TA_RIGHT
)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold", textColor=colors.white)
_HEAD_RIGHT = ParagraphStyle("head_right", parent=_HEAD, alignment=TA_RIGHT)

_PAGE_WIDTH, _PAGE_HEIGHT = LETTER
_MARGIN = 0.75 * inch
_WIDTH = _PAGE_WIDTH - 2 * _MARGIN


def render_invoice(invoice: InvoiceDocument) -> bytes:
    """The invoice as a letter-size PDF; the lines table flows onto as many pages as it needs."""
    check_document(invoice)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=f"Invoice {invoice.number}",
        author=invoice.issuer.name,
        subject=f"Invoice {invoice.number} for {invoice.client_name}",
        creator="Athena",
        invariant=1,
    )
    watermark = WATERMARKS.get(_status(invoice))

    def on_page(canvas: Canvas, _doc: Any) -> None:
        if watermark:
            _draw_watermark(canvas, watermark)

    def canvas_maker(*args: Any, **kwargs: Any) -> _FooterCanvas:
        return _FooterCanvas(invoice.number, *args, **kwargs)

    doc.build(_story(invoice), onFirstPage=on_page, onLaterPages=on_page, canvasmaker=canvas_maker)
    return buffer.getvalue()


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """A paragraph of plain text: escaped, since client names may hold `&` or `<`."""
    return Paragraph(escape(text), style)


def _story(invoice: InvoiceDocument) -> list[Flowable]:
    return [
        _letterhead(invoice),
        Spacer(1, 0.3 * inch),
        _bill_to(invoice),
        Spacer(1, 0.25 * inch),
        _lines_table(invoice),
        Spacer(1, 0.15 * inch),
        KeepTogether([_totals(invoice), Spacer(1, 0.25 * inch), *_closing(invoice)]),
    ]


def _letterhead(invoice: InvoiceDocument) -> Table:
    issuer = invoice.issuer
    contact = [x for x in (issuer.phone, issuer.email) if x]
    if issuer.tax_id:
        contact.append(f"Tax ID: {issuer.tax_id}")
    left = [_p(issuer.name, _ISSUER)] + [_p(x, _SMALL) for x in (*issuer.address_lines, *contact)]
    facts = [
        ("Invoice number", invoice.number),
        ("Issue date", format_date(invoice.issue_date)),
        ("Due date", format_date(invoice.due_date)),
        ("Status", STATUS_LABELS[_status(invoice)]),
    ]
    if invoice.period:
        first, last = invoice.period
        facts.insert(1, ("Period", f"{format_date(first)} to {format_date(last)}"))
    facts_table = Table(
        [[_p(label, _LABEL), _p(value, _RIGHT)] for label, value in facts],
        colWidths=[1.2 * inch, 1.6 * inch],
        hAlign="RIGHT",
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)],
    )
    right = [_p("INVOICE", _TITLE), Spacer(1, 6), facts_table]
    return Table(
        [[left, right]],
        colWidths=[_WIDTH - 2.9 * inch, 2.9 * inch],
        style=[
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ],
    )


def _bill_to(invoice: InvoiceDocument) -> Table:
    bill = [_p("BILL TO", _LABEL), _p(invoice.client_name, _BODY)]
    bill += [_p(x, _BODY) for x in invoice.billing_address]
    if invoice.client_email:
        bill.append(_p(invoice.client_email, _BODY))
    refs: list[Flowable] = []
    if invoice.charter_references:
        refs = [_p("CHARTERS", _LABEL), _p(", ".join(invoice.charter_references), _BODY)]
    return Table(
        [[bill, refs]],
        colWidths=[_WIDTH / 2, _WIDTH / 2],
        style=[
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("LINEABOVE", (0, 0), (-1, 0), 0.5, _RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 8),
        ],
    )


def _lines_table(invoice: InvoiceDocument) -> Table:
    header = [
        _p("Description", _HEAD),
        _p("Qty", _HEAD_RIGHT),
        _p("Unit price", _HEAD_RIGHT),
        _p("Amount", _HEAD_RIGHT),
    ]
    rows = [
        [
            _p(line.description),
            _p(format_quantity(line.quantity), _RIGHT),
            _p(format_money(line.unit_price), _RIGHT),
            _p(format_money(line.amount), _RIGHT),
        ]
        for line in invoice.lines
    ]
    style = TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), _INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
    )
    # Alternate bands: long invoices stay readable across a row.
    for row in range(2, len(rows) + 1, 2):
        style.add("BACKGROUND", (0, row), (-1, row), _BAND)
    return Table(
        [header, *rows],
        colWidths=[_WIDTH - 3.6 * inch, 0.8 * inch, 1.4 * inch, 1.4 * inch],
        repeatRows=1,
        style=style,
    )


def _totals(invoice: InvoiceDocument) -> Table:
    figures = [
        ("Subtotal", invoice.subtotal),
        ("Tax", invoice.tax),
        ("Total", invoice.total),
        ("Amount paid", invoice.amount_paid),
        ("Balance due", invoice.balance_due),
    ]
    rows = [[_p(label, _RIGHT), _p(format_money(value), _RIGHT)] for label, value in figures]
    last = len(rows) - 1
    return Table(
        rows,
        colWidths=[_WIDTH - 1.6 * inch, 1.6 * inch],
        style=[
            ("LINEABOVE", (0, 2), (-1, 2), 0.5, _RULE),
            ("LINEABOVE", (0, last), (-1, last), 1, _INK),
            ("FONTNAME", (0, last), (-1, last), "Helvetica-Bold"),
            ("BACKGROUND", (0, last), (-1, last), _BAND),
        ],
    )


def _closing(invoice: InvoiceDocument) -> list[Flowable]:
    parts: list[Flowable] = [_p("PAYMENT TERMS", _LABEL), _p(invoice.payment_terms)]
    if invoice.notes:
        parts += [Spacer(1, 8), _p("NOTES", _LABEL)]
        parts += [_p(x) for x in invoice.notes.splitlines() if x.strip()]
    return parts


def _draw_watermark(canvas: Canvas, text: str) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#c62828"))
    canvas.setFillAlpha(0.18)
    canvas.setFont("Helvetica-Bold", 120)
    canvas.translate(_PAGE_WIDTH / 2, _PAGE_HEIGHT / 2)
    canvas.rotate(35)
    canvas.drawCentredString(0, -40, text)
    canvas.restoreState()


class _FooterCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """Holds pages back until the end so each footer can say "Page 2 of 5"."""

    def __init__(self, number: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._number = number
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab names it so
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._pages)
        for index, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.setFillColor(_MUTED)
            self.drawString(_MARGIN, 0.5 * inch, f"Invoice {self._number}")
            self.drawRightString(_PAGE_WIDTH - _MARGIN, 0.5 * inch, f"Page {index} of {count}")
            super().showPage()
        super().save()
