"""GET /invoices/{id}.pdf: an invoice as a PDF, for finance staff and the client it bills.

Authenticated the way vendors' documents are: the `Authorization: Bearer`
access token only (no cookie, no token in the URL). 401 without a valid
token; 404 when the invoice does not exist *or* the caller may not read it
(its existence is not revealed). The PDF is rendered from the ledger's rows
on each request, so it always shows the invoice's current status and paid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from subgraphs.finance.models import CharterFact, ClientFact, Invoice, InvoiceLine
from subgraphs.finance.service.access import may_read_invoice
from subgraphs.finance.service.invoice_pdf import InvoiceDocument, Issuer, render_invoice
from subgraphs.finance.service.invoice_pdf import InvoiceLine as PdfLine
from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.ids import parse_uuid

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from subgraphs.kit.context import Services

ISSUER = Issuer(name="Athena Charters")
TERMS = {
    "due_on_receipt": "Due on receipt",
    "net_15": "Net 15 days",
    "net_30": "Net 30 days",
    "net_60": "Net 60 days",
}


async def document(session: AsyncSession, invoice: Invoice) -> InvoiceDocument:
    """The printed invoice: its own rows' figures, the client's name and terms as finance knows them."""
    lines = (
        await session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    ).all()
    client = await session.get(ClientFact, invoice.client_id)
    charter = await session.get(CharterFact, invoice.charter_id) if invoice.charter_id else None
    terms = (client.payment_terms if client else None) or "net_30"
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issued_on,
        due_date=invoice.due_on,
        status=invoice.status,
        issuer=ISSUER,
        client_name=(client.name if client and client.name.strip() else "Client"),
        billing_address=(),
        lines=tuple(PdfLine(x.description, x.quantity, x.unit_price, x.amount) for x in lines),
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
        amount_paid=invoice.paid,
        balance_due=invoice.total - invoice.paid,
        payment_terms=TERMS.get(terms, terms),
        notes=f"Void: {invoice.void_reason}" if invoice.void_reason else None,
        charter_references=(charter.reference,) if charter and charter.reference else (),
    )


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    key = parse_uuid(request.path_params["invoice_id"])
    not_found = problem(404, "NOT_FOUND", "No such invoice.")
    if key is None:
        return not_found
    async with services.sessions() as session:
        invoice = await session.get(Invoice, key)
        if invoice is None or not may_read_invoice(viewer, invoice.client_id):
            return not_found
        pdf = render_invoice(await document(session, invoice))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{invoice.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


routes = [Route("/invoices/{invoice_id}.pdf", download, methods=["GET"])]
