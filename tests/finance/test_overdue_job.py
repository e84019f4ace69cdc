"""The daily overdue job: past-due invoices (and vendor bills) become overdue, once a day.

Each invoice is issued through the service and brought to its status as
money or a person would; the job then runs for a chosen operator day.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from subgraphs.finance import jobs
from subgraphs.finance.models import DailyRun, FinanceAudit, Invoice, SyncRecord, VendorBill
from subgraphs.finance.models import outbox as finance_outbox
from subgraphs.finance.service import invoices
from subgraphs.kit.settings import get_settings
from tests.finance.test_month_end import ACCOUNTING, charter_fact, client_fact

ZONE = ZoneInfo("America/Chicago")
TODAY = date(2052, 6, 10)


async def issued(sessions: Any, status: str, due_on: date, paid: str = "0.00") -> Invoice:
    """An invoice in `status`, due on `due_on` (the ledger's state as money left it)."""
    client = await client_fact(sessions)
    charter = await charter_fact(sessions, client, _noon(due_on))
    async with sessions() as session, session.begin():
        invoice = await invoices.invoice_charter(
            session, charter, ACCOUNTING, TODAY - timedelta(30)
        )
        if status != "draft":
            await invoices.send(session, invoice.id, ACCOUNTING)
        await session.execute(
            update(Invoice)
            .where(Invoice.id == invoice.id)
            .values(due_on=due_on, paid=Decimal(paid), status=status)
        )
    return invoice


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZONE)


async def status_of(sessions: Any, invoice_id: uuid.UUID) -> str:
    async with sessions() as session:
        return str(await session.scalar(select(Invoice.status).where(Invoice.id == invoice_id)))


async def test_sent_and_partly_paid_invoices_past_due_become_overdue_once(sessions):
    yesterday = TODAY - timedelta(days=1)
    sent = await issued(sessions, "sent", yesterday)
    partly = await issued(sessions, "partially_paid", TODAY - timedelta(days=40), paid="100.00")
    due_today = await issued(sessions, "sent", TODAY)
    draft = await issued(sessions, "draft", yesterday)
    paid = await issued(sessions, "paid", yesterday, paid="1080.00")
    void = await issued(sessions, "void", yesterday)
    async with sessions() as session:
        synced_before = await session.scalar(select(func.count()).select_from(SyncRecord))

    first = await jobs.run_overdue(sessions, TODAY)
    second = await jobs.run_overdue(sessions, TODAY)

    assert sorted(first.invoices) == sorted([sent.number, partly.number])
    assert second.skipped
    assert second.invoices == []
    assert await status_of(sessions, sent.id) == "overdue"
    assert await status_of(sessions, partly.id) == "overdue"
    for unchanged, status in (
        (due_today, "sent"),
        (draft, "draft"),
        (paid, "paid"),
        (void, "void"),
    ):
        assert await status_of(sessions, unchanged.id) == status
    async with sessions() as session:
        audits = sorted(
            (a.entity_id, a.before, a.actor_id, a.after["status"])
            for a in await session.scalars(
                select(FinanceAudit).where(FinanceAudit.action == "overdue")
            )
        )
        announced = sorted(
            p["invoiceId"]
            for p in await session.scalars(
                select(finance_outbox.c.payload).where(
                    finance_outbox.c.topic == "finance.invoice_changed"
                )
            )
            if p["action"] == "overdue"
        )
        synced = await session.scalar(
            select(func.count())
            .select_from(SyncRecord)
            .where(SyncRecord.entity_id.in_([sent.id, partly.id]), SyncRecord.status == "pending")
        )
        total_synced = await session.scalar(select(func.count()).select_from(SyncRecord))
        run = await session.get(DailyRun, (jobs.OVERDUE, TODAY))
    assert audits == sorted(
        [
            (sent.id, {"status": "sent"}, None, "overdue"),
            (partly.id, {"status": "partially_paid"}, None, "overdue"),
        ]
    )
    assert announced == sorted([str(sent.id), str(partly.id)])
    assert synced == 2  # the pending save from the issue covers the change (one per entity)
    assert total_synced == synced_before
    assert run is not None
    assert run.finished_at is not None
    assert run.summary is not None
    assert sorted(run.summary["invoices"]) == sorted([sent.number, partly.number])

    tomorrow = await jobs.run_overdue(sessions, TODAY + timedelta(days=1))
    # The next day: what fell due today is now late; what was overdue stays so, untouched.
    assert (tomorrow.skipped, tomorrow.invoices) == (False, [due_today.number])


async def test_approved_vendor_bills_past_due_become_overdue_in_the_same_run(sessions):
    def bill(status: str, due_on: date) -> VendorBill:
        return VendorBill(
            id=uuid.uuid4(),
            number=f"BILL-2052-{uuid.uuid4().int % 100000:05d}",
            vendor_id=uuid.uuid4(),
            bill_date=due_on - timedelta(days=30),
            terms="net_30",
            due_on=due_on,
            subtotal=Decimal("500.00"),
            tax=Decimal("0.00"),
            total=Decimal("500.00"),
            paid=Decimal("0.00"),
            status=status,
        )

    late, received, on_time = (
        bill("approved", TODAY - timedelta(days=1)),
        bill("received", TODAY - timedelta(days=1)),
        bill("approved", TODAY),
    )
    async with sessions() as session, session.begin():
        session.add_all([late, received, on_time])

    summary = await jobs.run_overdue(sessions, TODAY)

    assert summary.bills == [late.number]
    async with sessions() as session:
        statuses = dict((await session.execute(select(VendorBill.number, VendorBill.status))).all())
    assert statuses == {
        late.number: "overdue",
        received.number: "received",
        on_time.number: "approved",
    }


async def test_the_scheduled_overdue_job_runs_for_the_operators_day(sessions):
    settings = get_settings()
    late = await issued(sessions, "sent", TODAY - timedelta(days=3))
    [_, overdue] = jobs.jobs(settings)

    await overdue.body(
        SimpleNamespace(sessions=sessions, settings=settings),  # type: ignore[arg-type]
        datetime(2052, 6, 10, 6, 30, tzinfo=ZONE),
    )

    assert overdue.cron == settings.finance_overdue_cron == "30 6 * * *"
    assert await status_of(sessions, late.id) == "overdue"
    async with sessions() as session:
        assert await session.get(DailyRun, (jobs.OVERDUE, TODAY)) is not None
