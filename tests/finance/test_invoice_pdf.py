"""Invoice PDFs: rendered with reportlab, read back with pypdf, checked by their text."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pypdf
import pytest

from subgraphs.finance.service.invoice_pdf import (
    InvoiceDocument,
    InvoiceDocumentError,
    InvoiceLine,
    InvoiceNumber,
    Issuer,
    format_invoice_number,
    format_money,
    parse_invoice_number,
    render_invoice,
)

ISSUER = Issuer(
    name="Lone Star Coaches",
    address_lines=("100 Main Street", "Dallas, TX 75201"),
    phone="+1 214 555 0100",
    email="billing@lonestar.example",
)


def line(description: str, quantity: str, unit_price: str, amount: str) -> InvoiceLine:
    return InvoiceLine(description, Decimal(quantity), Decimal(unit_price), Decimal(amount))


def invoice(lines: tuple[InvoiceLine, ...] | None = None, **changes: object) -> InvoiceDocument:
    """An invoice whose figures add up, built from its lines."""
    if lines is None:
        lines = (
            line("Motorcoach, 56 passengers, Dallas to Austin", "1", "12450.00", "12450.00"),
            line("Driver overnight lodging", "2", "189.50", "379.00"),
            line("Wi-Fi & power outlets", "1", "75.25", "75.25"),
        )
    subtotal = sum((x.amount for x in lines), Decimal(0))
    tax = Decimal("1064.71")
    total = subtotal + tax
    paid = Decimal("3500.00")
    document = InvoiceDocument(
        number="INV-2026-00042",
        issue_date=date(2026, 5, 4),
        due_date=date(2026, 6, 3),
        status="partially_paid",
        issuer=ISSUER,
        client_name="Acme <Events> & Sons",
        billing_address=("Attn: Accounts Payable", "1 Elm Street", "Austin, TX 78701"),
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=total,
        amount_paid=paid,
        balance_due=total - paid,
        payment_terms="Net 30. Pay by check, ACH or card; quote the invoice number.",
        notes="Thank you for riding with us.",
        charter_references=("CH-2026-000123", "CH-2026-000124"),
    )
    return dataclasses.replace(document, **changes)  # type: ignore[arg-type]


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_rendered_invoice_reads_back_with_its_figures() -> None:
    document = invoice()

    pdf = render_invoice(document)

    assert pdf.startswith(b"%PDF-")
    (text,) = pages_text(pdf)
    assert "INV-2026-00042" in text
    assert "Acme <Events> & Sons" in text  # markup characters printed, not parsed
    assert "Lone Star Coaches" in text
    assert "May 4, 2026" in text
    assert "June 3, 2026" in text
    assert "Partially paid" in text
    assert "CH-2026-000123, CH-2026-000124" in text
    for item in document.lines:
        assert item.description in text
    assert "$12,450.00" in text
    assert "$379.00" in text
    assert "$75.25" in text
    assert "$189.50" in text
    assert "Subtotal\n $12,904.25" in text
    assert "Total\n $13,968.96" in text
    assert "Amount paid\n $3,500.00" in text
    assert "Balance due\n $10,468.96" in text
    assert "Net 30. Pay by check" in text
    assert "Thank you for riding with us." in text
    assert "Page 1 of 1" in text
    assert "VOID" not in text
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == "Invoice INV-2026-00042"


def test_many_lines_flow_onto_pages_with_the_header_repeated() -> None:
    lines = tuple(
        line(f"Shuttle run {n:03d} hotel to venue", "1", f"{100 + n}.10", f"{100 + n}.10")
        for n in range(1, 121)
    )
    document = invoice(lines)

    pages = pages_text(render_invoice(document))

    assert len(pages) >= 3
    text = "\n".join(pages)
    for n in range(1, 121):
        assert text.count(f"Shuttle run {n:03d} hotel to venue") == 1
        assert f"${100 + n}.10" in text
    for number, page in enumerate(pages, start=1):
        assert "Description" in page  # the lines table's header row, repeated
        assert "INV-2026-00042" in page
        assert f"Page {number} of {len(pages)}" in page
    assert f"Balance due\n {format_money(document.balance_due)}" in pages[-1]
    assert "Balance due" not in pages[0]


def test_void_invoice_is_stamped_void_on_every_page() -> None:
    lines = tuple(line(f"Trip {n}", "1", "10.00", "10.00") for n in range(120))
    document = invoice(lines, status="void")

    pages = pages_text(render_invoice(document))

    assert len(pages) > 1
    for page in pages:
        assert "VOID" in page
    assert "Void" in pages[0]  # the status, beside the watermark


def test_draft_invoice_is_stamped_draft() -> None:
    (text,) = pages_text(render_invoice(invoice(status="draft")))

    assert "DRAFT" in text
    assert "VOID" not in text


def test_same_document_renders_to_the_same_bytes() -> None:
    first = render_invoice(invoice())
    second = render_invoice(invoice())
    other = render_invoice(invoice(number="INV-2026-00043"))

    assert first == second
    assert other != first


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tax": Decimal("10.005")}, "tax"),
        ({"amount_paid": Decimal("0.001")}, "amount_paid"),
        ({"balance_due": Decimal("1.999")}, "balance_due"),
        ({"lines": (line("Coach", "1", "99.999", "99.999"),)}, "lines[0].unit_price"),
        ({"lines": (line("Coach", "3", "1.00", "3.001"),)}, "lines[0].amount"),
    ],
)
def test_three_decimal_amounts_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvoiceDocumentError) as refused:
        render_invoice(invoice(**changes))

    assert isinstance(refused.value, ValueError)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert "more than two decimal places" in str(refused.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subtotal": Decimal("1.00")}, "subtotal"),
        ({"total": Decimal("1.00")}, "total"),
        ({"balance_due": Decimal("0.00")}, "balance_due"),
        ({"lines": (line("Coach", "2", "100.00", "150.00"),)}, "lines[0].amount"),
        ({"lines": ()}, "lines"),
        ({"status": "cancelled"}, "status"),
        ({"number": "INV-26-42"}, "number"),
        ({"due_date": date(2026, 5, 3)}, "due_date"),
        ({"tax": 12.5}, "tax"),
    ],
)
def test_documents_that_contradict_themselves_are_refused(
    changes: dict[str, Any], field: str
) -> None:
    document = invoice(**changes)

    with pytest.raises(InvoiceDocumentError) as refused:
        render_invoice(document)

    assert refused.value.field == field


def test_fractional_quantity_rounds_half_up_to_the_cent() -> None:
    lines = (line("Extra driver hours", "2.5", "33.33", "83.33"),)  # 83.325 -> 83.33

    (text,) = pages_text(render_invoice(invoice(lines)))

    assert "2.5" in text
    assert "$83.33" in text


def test_money_prints_with_separators_and_two_decimals() -> None:
    assert format_money(Decimal("1234567.5")) == "$1,234,567.50"
    assert format_money(Decimal("0")) == "$0.00"
    assert format_money(Decimal("-25.00")) == "-$25.00"


def test_invoice_numbers_format_and_parse() -> None:
    assert format_invoice_number(2026, 42) == "INV-2026-00042"
    assert format_invoice_number(2026, 99_999) == "INV-2026-99999"
    assert parse_invoice_number("INV-2026-00042") == InvoiceNumber(2026, 42)
    assert str(InvoiceNumber(2027, 1)) == "INV-2027-00001"


@pytest.mark.parametrize(
    "text",
    ["INV-2026-0042", "INV-2026-000042", "inv-2026-00042", "INV-2026-00000", " INV-2026-00001"],
)
def test_malformed_invoice_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        parse_invoice_number(text)


@pytest.mark.parametrize(("year", "sequence"), [(2026, 0), (2026, 100_000), (26, 1)])
def test_out_of_range_invoice_numbers_are_refused(year: int, sequence: int) -> None:
    with pytest.raises(ValueError, match=r"year|sequence"):
        format_invoice_number(year, sequence)
