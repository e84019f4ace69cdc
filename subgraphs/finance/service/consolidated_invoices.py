"""Consolidated invoices: one per client and period, for the charters nobody has billed yet.

The month-end run (seed 003, `jobs.py`) issues one on the 1st for each
client's previous month; `invoiceClientPeriod` runs the same function by
hand for one client. An invoice bills the client's booked charters whose
pickup fell in the period (operator-local dates) and that are on no live
invoice yet, each with its accepted quote's lines (`invoices.charter_lines`,
the per-charter invoice's own line building) and its reference in front.

A charter is never on two live invoices. Both ways of billing it lock the
charter's facts row before asking whether an invoice already holds it
(`invoices.live_invoice_numbers` reads the lines, which name their charter
on both kinds), so whichever commits second sees the first. Running the
same period twice is a conflict, not a second invoice: the existing one is
found under the same locks, and the partial unique index
`uq_invoices_consolidated_period` refuses what the check could miss.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from protocol.viewer import ANONYMOUS
from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import CharterFact, ClientFact, DailyRun, Invoice, InvoiceLine
from subgraphs.finance.service import invoices, sync_outbox
from subgraphs.finance.service.facts import BOOKED
from subgraphs.finance.service.numbers import next_number
from subgraphs.finance.states import INVOICE
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer

log = logging.getLogger(__name__)

JOB = "finance.month_end"
ZERO = Decimal("0.00")
#: A period longer than a year is a typo, not an invoice.
MAX_PERIOD_DAYS = 366
UNIQUE_PERIOD = "uq_invoices_consolidated_period"


def previous_month(today: date) -> tuple[date, date]:
    """The calendar month before `today`'s: what a run on the 1st bills."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as instants: from the operator's midnight starting `start` to the one after `end`."""
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _billable(start: date, end: date, zone: ZoneInfo) -> tuple[Any, ...]:
    low, high = _bounds(start, end, zone)
    return (
        CharterFact.status.in_(BOOKED),
        CharterFact.accepted_total.is_not(None),
        CharterFact.pickup_at >= low,
        CharterFact.pickup_at < high,
    )


def _on_a_live_invoice() -> Any:
    return (
        exists()
        .where(
            InvoiceLine.charter_id == CharterFact.charter_id,
            Invoice.id == InvoiceLine.invoice_id,
            Invoice.status != "void",
        )
        .correlate(CharterFact)
    )


def check_period(start: date, end: date, today: date) -> None:
    problems = []
    if end < start:
        problems.append(Problem(Code.INVALID, "The period ends before it starts.", "periodEnd"))
    elif (end - start).days >= MAX_PERIOD_DAYS:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"A period is at most {MAX_PERIOD_DAYS} days.", "periodEnd")
        )
    if start > today:
        problems.append(
            Problem(Code.IN_THE_FUTURE, "The period has not started yet.", "periodStart")
        )
    if problems:
        raise ServiceError(problems)


async def clients_to_invoice(
    session: AsyncSession, start: date, end: date, zone: ZoneInfo
) -> list[uuid.UUID]:
    """Clients with a billable charter in the period that no live invoice holds yet."""
    rows = await session.scalars(
        select(CharterFact.client_id)
        .where(
            *_billable(start, end, zone),
            CharterFact.client_id.is_not(None),
            ~_on_a_live_invoice(),
        )
        .distinct()
        .order_by(CharterFact.client_id)
    )
    return [row for row in rows if row is not None]


def _description(reference: str, pickup_on: date | None, label: str) -> str:
    """`CH-2051-000123 (2051-03-14): Motorcoach`: which charter, which day, what."""
    head = f"{reference} ({pickup_on.isoformat()})" if pickup_on else reference
    what = label.replace(reference, "").strip() or "Charter"
    return f"{head}: {what}"[:300]


async def invoice_client_period(
    session: AsyncSession,
    client_id: uuid.UUID,
    start: date,
    end: date,
    actor: Viewer,
    today: date,
    *,
    zone: ZoneInfo,
    send: bool = False,
) -> Invoice:
    """Issue the client's consolidated invoice for the period (a draft unless `send`)."""
    check_period(start, end, today)
    client = await session.get(ClientFact, client_id)
    if client is None:
        raise ServiceError.of(
            Code.UNKNOWN_CLIENT, "Finance does not know this client yet.", "clientId"
        )
    # Lock order: charters' facts by id (as invoice_charter locks its one), then the counter.
    charters = list(
        await session.scalars(
            select(CharterFact)
            .where(CharterFact.client_id == client_id, *_billable(start, end, zone))
            .order_by(CharterFact.charter_id)
            .with_for_update()
        )
    )
    existing = await session.scalar(
        select(Invoice.number).where(
            Invoice.client_id == client_id,
            Invoice.charter_id.is_(None),
            Invoice.period_start == start,
            Invoice.period_end == end,
            Invoice.status != "void",
        )
    )
    if existing is not None:
        raise ServiceError.of(
            Code.CONFLICT,
            f"The client's invoice for this period is {existing}; void it to issue another.",
            "periodStart",
        )
    live = await invoices.live_invoice_numbers(session, [c.charter_id for c in charters])
    todo = sorted(
        (c for c in charters if c.charter_id not in live),
        key=lambda c: (c.pickup_at or datetime.min.replace(tzinfo=UTC), c.reference or ""),
    )
    if not todo:
        raise ServiceError.of(
            Code.NOTHING_TO_INVOICE,
            "The client has no booked, priced charter in this period that is not invoiced yet.",
            "clientId",
        )
    parts = [(c, *invoices.charter_lines(c)) for c in todo]
    subtotal = sum((p[1] for p in parts), ZERO)
    tax = sum((p[2] for p in parts), ZERO)
    invoice = Invoice(
        id=uuid.uuid4(),
        number=await next_number(session, "invoice", today.year),
        client_id=client_id,
        charter_id=None,
        period_start=start,
        period_end=end,
        status="draft",
        issued_on=today,
        due_on=invoices.terms_due_on(client, today),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        paid=ZERO,
        created_by=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(invoice)
            await session.flush()
    except IntegrityError as error:
        if UNIQUE_PERIOD not in str(error.orig):
            raise
        raise ServiceError.of(
            Code.CONFLICT, "The client's invoice for this period was just issued.", "periodStart"
        ) from error
    position = 0
    for fact, _sub, _tax, lines in parts:
        reference = fact.reference or f"Charter {str(fact.charter_id)[:8]}"
        pickup_on = fact.pickup_at.astimezone(zone).date() if fact.pickup_at else None
        for label, amount in lines:
            position += 1
            session.add(
                InvoiceLine(
                    id=uuid.uuid4(),
                    invoice_id=invoice.id,
                    position=position,
                    charter_id=fact.charter_id,
                    description=_description(reference, pickup_on, label),
                    quantity=Decimal(1),
                    unit_price=amount,
                    amount=amount,
                )
            )
    invoices.audit_invoice(
        session,
        invoice,
        "create",
        actor,
        None,
        f"Consolidated {start.isoformat()}..{end.isoformat()}: {len(todo)} charter(s)",
    )
    await invoices.announce_invoice(session, invoice, "created")
    if send:
        INVOICE.check(invoice.status, "sent", "send")
        invoice.status = "sent"
        invoices.audit_invoice(session, invoice, "send", actor, {"status": "draft"})
        await invoices.announce_invoice(session, invoice, "sent")
    await sync_outbox.enqueue(session, "invoice", invoice.id, "save")
    await session.flush()
    return invoice


# --- the month-end run ----------------------------------------------------------------------


@dataclass
class MonthEnd:
    period_start: date
    period_end: date
    skipped: bool = False
    issued: list[str] = field(default_factory=list)
    #: Clients another run (or a person) invoiced first: nothing new made for them.
    passed: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        data["period_end"] = self.period_end.isoformat()
        return data


async def run_month_end(
    sessions: async_sessionmaker[AsyncSession], today: date, *, zone: ZoneInfo, send: bool
) -> MonthEnd:
    """Invoice every client's previous month, one transaction per client.

    A client's failure leaves the others invoiced; the job's retry then
    finds them on live invoices and makes only what is missing. The period's
    `daily_runs` row is written last, so a finished period is not walked again.
    """
    start, end = previous_month(today)
    summary = MonthEnd(start, end)
    async with sessions() as session:
        finished = await session.scalar(
            select(DailyRun.finished_at).where(DailyRun.job == JOB, DailyRun.run_on == start)
        )
        if finished is not None:
            summary.skipped = True
            return summary
        clients = await clients_to_invoice(session, start, end, zone)
    for client_id in clients:
        try:
            async with sessions() as session, session.begin():
                invoice = await invoice_client_period(
                    session, client_id, start, end, ANONYMOUS, today, zone=zone, send=send
                )
            summary.issued.append(invoice.number)
        except ServiceError as refused:
            summary.passed += 1
            log.info("month end %s: client %s passed: %s", start, client_id, refused)
    async with sessions() as session, session.begin():
        stmt = insert(DailyRun).values(
            job=JOB, run_on=start, finished_at=func.now(), summary=summary.as_json()
        )
        await session.execute(
            stmt.on_conflict_do_nothing(index_elements=[DailyRun.job, DailyRun.run_on])
        )
    log.info("month end for %s..%s: %s", start, end, summary.as_json())
    return summary
