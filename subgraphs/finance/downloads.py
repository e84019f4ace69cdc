"""GET /invoices/{id}.pdf: an invoice as a PDF, for finance staff and the client it bills.

Authenticated the way vendors' documents are: the `Authorization: Bearer`
access token only (no cookie, no token in the URL). 401 without a valid
token; 404 when the invoice does not exist *or* the caller may not read it
(its existence is not revealed). The PDF is rendered from the ledger's rows
on each request, so it always shows the invoice's current status and paid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from subgraphs.finance.models import CharterFact, ClientFact, Invoice, InvoiceLine
from subgraphs.finance.service.access import may_read_invoice
from subgraphs.finance.service.invoice_pdf import InvoiceDocument, Issuer, render_invoice
from subgraphs.finance.service.invoice_pdf import InvoiceLine as PdfLine
from subgraphs.kit.downloads import (
    Asked,
    asked_for,
    not_found,
    private_file,
)
from subgraphs.kit.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request


TERMS = {
    "due_on_receipt": "Due on receipt",
    "net_15": "Net 15 days",
    "net_30": "Net 30 days",
    "net_60": "Net 60 days",
}


def issuer(settings: Settings) -> Issuer:
    """The operator's letterhead, from settings (`OPERATOR_NAME`, `OPERATOR_ADDRESS` with "|"...)."""
    return Issuer(
        name=settings.operator_name,
        address_lines=tuple(x.strip() for x in settings.operator_address.split("|") if x.strip()),
        phone=settings.operator_phone or None,
        email=settings.operator_email or None,
        tax_id=settings.operator_tax_id or None,
    )


def address_lines(address: dict[str, Any] | None) -> tuple[str, ...]:
    """Sales' billing address as printed: street lines, "City, Region Postcode", country."""
    if not address:
        return ()

    def part(key: str) -> str:
        return str(address.get(key) or "").strip()

    place = ", ".join(
        x for x in (part("city"), f"{part('region')} {part('postalCode')}".strip()) if x
    )
    lines = (part("line1"), part("line2"), place, part("country"))
    return tuple(x for x in lines if x)


async def document(
    session: AsyncSession, invoice: Invoice, settings: Settings | None = None
) -> InvoiceDocument:
    """The printed invoice: its own rows' figures, the client's name, address and terms as finance knows them.

    A consolidated invoice lists the references of every charter its lines bill.
    """
    lines = (
        await session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    ).all()
    client = await session.get(ClientFact, invoice.client_id)
    billed = list(dict.fromkeys(x.charter_id for x in lines if x.charter_id is not None))
    if invoice.charter_id and invoice.charter_id not in billed:
        billed.insert(0, invoice.charter_id)
    references = {
        row.charter_id: row.reference
        for row in await session.scalars(
            select(CharterFact).where(CharterFact.charter_id.in_(billed))
        )
        if row.reference
    }
    terms = (client.payment_terms if client else None) or "net_30"
    period = (
        (invoice.period_start, invoice.period_end)
        if invoice.period_start and invoice.period_end
        else None
    )
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issued_on,
        due_date=invoice.due_on,
        status=invoice.status,
        issuer=issuer(settings or get_settings()),
        client_name=(client.name if client and client.name.strip() else "Client"),
        billing_address=address_lines(client.billing_address if client else None),
        client_email=client.email if client else None,
        period=period,
        lines=tuple(PdfLine(x.description, x.quantity, x.unit_price, x.amount) for x in lines),
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
        amount_paid=invoice.paid,
        balance_due=invoice.total - invoice.paid,
        payment_terms=TERMS.get(terms, terms),
        notes=f"Void: {invoice.void_reason}" if invoice.void_reason else None,
        charter_references=tuple(references[x] for x in billed if x in references),
    )


async def download(request: Request) -> Response:
    asked = await asked_for(request, "invoice_id", "invoice")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        invoice = await session.get(Invoice, asked.key)
        if invoice is None or not may_read_invoice(asked.viewer, invoice.client_id):
            return not_found("invoice")
        pdf = render_invoice(await document(session, invoice, asked.services.settings))
    return private_file(pdf, "application/pdf", f'attachment; filename="{invoice.number}.pdf"')


routes = [Route("/invoices/{invoice_id}.pdf", download, methods=["GET"])]
