"""Per-charter invoices: what the charter's accepted quote says, numbered gaplessly.

An invoice is a copy of the accepted price at the time it is issued (lines,
tax, total), so a later re-price does not silently change a document the
client already holds. A charter is on one live invoice at most, its own or a
client's consolidated one (service/consolidated_invoices.py): the charter's
facts row is locked while checking, so two concurrent requests cannot both
bill it. Every issue, send and void enters the accounting sync.
The number comes from the gapless counter in the same transaction; voiding
keeps it (a void invoice stays on the books and in the number sequence).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    CharterFact,
    ClientFact,
    FinanceAudit,
    Invoice,
    InvoiceLine,
    outbox,
)
from subgraphs.finance.service import sync_outbox
from subgraphs.finance.service.balances import balances
from subgraphs.finance.service.numbers import next_number
from subgraphs.finance.states import INVOICE
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

TOPIC = "finance.invoice_changed"
ZERO = Decimal("0.00")
#: Days from issue to due by the client's terms; a client without terms gets sales' default.
TERMS_DAYS = {"due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_60": 60}
DEFAULT_TERMS = "net_30"
MAX_REASON = 500


def _audit(
    session: AsyncSession,
    invoice: Invoice,
    action: str,
    actor: Viewer,
    before: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="invoice",
            entity_id=invoice.id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after={
                "number": invoice.number,
                "status": invoice.status,
                "total": plain(invoice.total),
                "dueOn": plain(invoice.due_on),
            },
            reason=reason,
        )
    )


async def _announce(session: AsyncSession, invoice: Invoice, action: str) -> None:
    """`finance.invoice_changed`: for the accounting sync and the client's notifications."""
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "invoiceId": str(invoice.id),
            "number": invoice.number,
            "charterId": str(invoice.charter_id) if invoice.charter_id else None,
            "clientId": str(invoice.client_id),
            "status": invoice.status,
            "total": str(invoice.total),
            "action": action,
            # What the client's "invoice issued" mail says: when it is due and what is left.
            "issuedOn": invoice.issued_on.isoformat() if invoice.issued_on else None,
            "dueOn": invoice.due_on.isoformat() if invoice.due_on else None,
            "balance": str(invoice.total - (invoice.paid or 0)),
        },
    )


#: For the month-end run and the overdue job, which write invoices the same way.
audit_invoice = _audit
announce_invoice = _announce


def charter_lines(fact: CharterFact) -> tuple[Decimal, Decimal, list[tuple[str, Decimal]]]:
    """(subtotal, tax, lines) of a charter's accepted price: a per-charter or a consolidated invoice's part."""
    tax = fact.accepted_tax or ZERO
    subtotal = (fact.accepted_total or ZERO) - tax
    return subtotal, tax, _lines(fact, subtotal)


def terms_due_on(client: ClientFact | None, today: date) -> date:
    """Issue date plus the client's terms (sales' default when it has none)."""
    terms = (client.payment_terms if client else None) or DEFAULT_TERMS
    return today + timedelta(days=TERMS_DAYS.get(terms, TERMS_DAYS[DEFAULT_TERMS]))


async def live_invoice_numbers(
    session: AsyncSession, charter_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The live (non-void) invoice each charter is on, per-charter or consolidated.

    Every invoice line names its charter, so one query over the lines sees
    both kinds. Callers hold the charters' facts rows locked, so the answer
    stays true until they commit.
    """
    if not charter_ids:
        return {}
    rows = await session.execute(
        select(InvoiceLine.charter_id, Invoice.number)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.charter_id.in_(charter_ids), Invoice.status != "void")
    )
    return {charter_id: number for charter_id, number in rows if charter_id is not None}


def _lines(fact: CharterFact, subtotal: Decimal) -> list[tuple[str, Decimal]]:
    """The accepted quote's lines; what they miss of the subtotal (a discount) is shown, not lost."""
    lines = [
        (str(x.get("label") or "Charter").strip()[:300], Decimal(str(x.get("amount") or 0)))
        for x in fact.accepted_lines or []
    ]
    if not lines:
        return [(f"Charter {fact.reference or fact.charter_id}", subtotal)]
    rest = subtotal - sum((amount for _, amount in lines), ZERO)
    if rest:
        lines.append(("Discount" if rest < 0 else "Adjustment", rest))
    return lines


async def _due_on(
    session: AsyncSession, fact: CharterFact, client: ClientFact | None, today: date
) -> date:
    """The next unpaid instalment's date when the charter has a plan, else the client's terms."""
    found = (await balances(session, [fact.charter_id], today)).get(fact.charter_id)
    if found is not None and found.next_due_on is not None:
        return max(found.next_due_on, today)
    return terms_due_on(client, today)


async def invoice_charter(
    session: AsyncSession, charter_id: uuid.UUID, actor: Viewer, today: date
) -> Invoice:
    fact = await session.scalar(
        select(CharterFact).where(CharterFact.charter_id == charter_id).with_for_update()
    )
    if fact is None or fact.accepted_total is None:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "This charter has no accepted price to invoice yet.", "charterId"
        )
    if fact.status == "cancelled":
        raise ServiceError.of(Code.NOT_PAYABLE, "The charter is cancelled.", "charterId")
    if fact.client_id is None:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "Finance does not know this charter's client yet.", "charterId"
        )
    live = (await live_invoice_numbers(session, [charter_id])).get(charter_id)
    if live is not None:
        raise ServiceError.of(
            Code.CONFLICT, f"The charter is already invoiced ({live}); void it first.", "charterId"
        )
    client = await session.get(ClientFact, fact.client_id)
    subtotal, tax, lines = charter_lines(fact)
    invoice = Invoice(
        id=uuid.uuid4(),
        number=await next_number(session, "invoice", today.year),
        client_id=fact.client_id,
        charter_id=charter_id,
        status="draft",
        issued_on=today,
        due_on=await _due_on(session, fact, client, today),
        subtotal=subtotal,
        tax=tax,
        total=fact.accepted_total,
        paid=ZERO,
        created_by=actor.user_id,
    )
    session.add(invoice)
    await session.flush()
    for position, (description, amount) in enumerate(lines, start=1):
        session.add(
            InvoiceLine(
                id=uuid.uuid4(),
                invoice_id=invoice.id,
                position=position,
                charter_id=charter_id,
                description=description,
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
            )
        )
    _audit(session, invoice, "create", actor, None)
    await _announce(session, invoice, "created")
    await sync_outbox.enqueue(session, "invoice", invoice.id, "save")
    await session.flush()
    return invoice


async def _locked(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await session.scalar(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    )
    if invoice is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such invoice.", "id")
    return invoice


async def send(session: AsyncSession, invoice_id: uuid.UUID, actor: Viewer) -> Invoice:
    invoice = await _locked(session, invoice_id)
    INVOICE.check(invoice.status, "sent", "id")
    before = {"status": invoice.status}
    invoice.status = "sent"
    _audit(session, invoice, "send", actor, before)
    await _announce(session, invoice, "sent")
    await sync_outbox.enqueue(session, "invoice", invoice.id, "save")
    await session.flush()
    return invoice


async def void(session: AsyncSession, invoice_id: uuid.UUID, reason: str, actor: Viewer) -> Invoice:
    """Void an invoice; its number stays taken, and money on it must be taken back first."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ServiceError.of(
            Code.REQUIRED, f"Say why, in at most {MAX_REASON} characters.", "reason"
        )
    invoice = await _locked(session, invoice_id)
    INVOICE.check(invoice.status, "void", "id")
    if invoice.paid > 0:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{invoice.paid} is applied to this invoice; unapply the payments before voiding it.",
            "id",
        )
    before = {"status": invoice.status}
    invoice.status = "void"
    invoice.void_reason = reason
    _audit(session, invoice, "void", actor, before, reason)
    await _announce(session, invoice, "voided")
    await sync_outbox.enqueue(session, "invoice", invoice.id, "void")
    await session.flush()
    return invoice


#: Statuses the calendar can make overdue (the transition table allows no other).
OVERDUE_FROM = ("sent", "partially_paid")


async def mark_overdue(session: AsyncSession, today: date, actor: Viewer) -> list[str]:
    """Sent and partly paid invoices due before `today` become overdue; their numbers.

    Rows are locked in id order and moved through the transition table, each
    audited, announced and queued for the accounting sync like any change.
    """
    rows = list(
        await session.scalars(
            select(Invoice)
            .where(Invoice.status.in_(OVERDUE_FROM), Invoice.due_on < today)
            .order_by(Invoice.id)
            .with_for_update()
        )
    )
    numbers = []
    for invoice in rows:
        INVOICE.check(invoice.status, "overdue", "id")
        before = {"status": invoice.status}
        invoice.status = "overdue"
        _audit(session, invoice, "overdue", actor, before, f"Past due since {invoice.due_on}")
        await _announce(session, invoice, "overdue")
        await sync_outbox.enqueue(session, "invoice", invoice.id, "save")
        numbers.append(invoice.number)
    await session.flush()
    return numbers
