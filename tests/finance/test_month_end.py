"""The month-end run (seed 003): one consolidated invoice per client for the previous month.

Service-level tests run each step in its own transaction on the real
database with a chosen "today", so the period is fixed whatever the date;
the GraphQL tests go through the finance subgraph on a real port and use a
period already past. Pickups are instants; the period is operator-local
(America/Chicago), so the edges are tested on both sides of midnight there.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance import jobs
from subgraphs.finance.models import DailyRun, FinanceAudit, Invoice, InvoiceLine, SyncRecord
from subgraphs.finance.models import outbox as finance_outbox
from subgraphs.finance.service import consolidated_invoices as ci
from subgraphs.finance.service import facts, invoices
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from tests.finance.conftest import event
from tests.support.graphql_client import GraphQLClient

ZONE = ZoneInfo("America/Chicago")
ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
RUN_DAY = date(2051, 4, 1)  # the run on April 1st bills March 2051
LINES = [
    {"label": "Motorcoach, 56 passengers", "amount": "900.00"},
    {"label": "Fuel surcharge", "amount": "100.00"},
]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZONE)  # type: ignore[misc]


async def client_fact(
    sessions: Any, *, terms: str | None = "net_15", name: str = "Lakeside Tours", **extra: Any
) -> uuid.UUID:
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await facts.apply_client_event(
            session,
            event({"clientId": str(client_id), "name": name, "paymentTerms": terms, **extra}),
        )
    return client_id


async def charter_fact(
    sessions: Any,
    client_id: uuid.UUID,
    pickup: datetime,
    *,
    status: str = "booked",
    total: str | None = "1080.00",
    tax: str = "80.00",
    lines: list[dict[str, str]] | None = None,
    reference: str | None = None,
) -> uuid.UUID:
    """A charter as charters and pricing announce it: its client, status, pickup, price."""
    charter_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await facts.apply_charter_event(
            session,
            event(
                {
                    "charterId": str(charter_id),
                    "clientId": str(client_id),
                    "status": status,
                    "reference": reference or f"CH-2051-{charter_id.hex[:6]}",
                    "pickupAt": pickup.isoformat(),
                }
            ),
        )
        if total is not None:
            await facts.apply_quote_accepted(
                session,
                event(
                    {
                        "charterId": str(charter_id),
                        "total": total,
                        "tax": tax,
                        "lines": LINES if lines is None else lines,
                    }
                ),
            )
    return charter_id


async def consolidate(
    sessions: Any,
    client_id: uuid.UUID,
    start: date = date(2051, 3, 1),
    end: date = date(2051, 3, 31),
    today: date = RUN_DAY,
    send: bool = False,
) -> Invoice:
    async with sessions() as session, session.begin():
        return await ci.invoice_client_period(
            session, client_id, start, end, ACCOUNTING, today, zone=ZONE, send=send
        )


async def refused(sessions: Any, work: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(ServiceError) as raised:
        async with sessions() as session, session.begin():
            await work(session)
    return [(p.field, p.code) for p in raised.value.problems]


async def lines_of(
    sessions: Any, invoice_id: uuid.UUID
) -> list[tuple[uuid.UUID | None, str, Decimal]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        return [(x.charter_id, x.description, x.amount) for x in rows]


async def live_invoices_of(sessions: Any, charter_id: uuid.UUID) -> list[str]:
    async with sessions() as session:
        return sorted((await invoices.live_invoice_numbers(session, [charter_id])).values())


def test_the_period_is_the_calendar_month_before_the_run() -> None:
    assert ci.previous_month(date(2051, 4, 1)) == (date(2051, 3, 1), date(2051, 3, 31))
    assert ci.previous_month(date(2052, 3, 1)) == (date(2052, 2, 1), date(2052, 2, 29))
    assert ci.previous_month(date(2051, 1, 1)) == (date(2050, 12, 1), date(2050, 12, 31))


async def test_the_run_bills_each_clients_booked_charters_of_the_month_once(sessions):
    lakeside = await client_fact(sessions, terms="net_15", name="Lakeside Tours")
    hilltop = await client_fact(sessions, terms="due_on_receipt", name="Hilltop School")
    first = await charter_fact(
        sessions, lakeside, local(2051, 3, 1, 0, 10), reference="CH-2051-000001"
    )
    last = await charter_fact(
        sessions,
        lakeside,
        local(2051, 3, 31, 23, 30),  # April 1st in UTC, still March at the operator's
        total="540.00",
        tax="40.00",
        lines=[{"label": "Minibus, 24 passengers", "amount": "500.00"}],
        reference="CH-2051-000002",
    )
    school = await charter_fact(
        sessions, hilltop, local(2051, 3, 15, 8, 0), total="200.00", tax="0", lines=[]
    )
    left_out = [
        await charter_fact(sessions, lakeside, local(2051, 2, 28, 23, 50)),  # February, locally
        await charter_fact(sessions, lakeside, local(2051, 4, 1, 0, 30)),  # April, locally
        await charter_fact(sessions, lakeside, local(2051, 3, 10, 9), status="quote"),
        await charter_fact(sessions, lakeside, local(2051, 3, 11, 9), status="cancelled"),
        await charter_fact(sessions, lakeside, local(2051, 3, 12, 9), total=None),  # unpriced
    ]
    alone = await charter_fact(sessions, lakeside, local(2051, 3, 20, 9))
    async with sessions() as session, session.begin():
        own = await invoices.invoice_charter(session, alone, ACCOUNTING, date(2051, 3, 21))

    summary = await ci.run_month_end(sessions, RUN_DAY, zone=ZONE, send=True)

    assert (summary.period_start, summary.period_end) == (date(2051, 3, 1), date(2051, 3, 31))
    assert not summary.skipped
    assert len(summary.issued) == 2
    async with sessions() as session:
        made = {
            x.client_id: x
            for x in await session.scalars(select(Invoice).where(Invoice.charter_id.is_(None)))
        }
    assert set(made) == {lakeside, hilltop}
    mine = made[lakeside]
    assert (mine.period_start, mine.period_end, mine.issued_on) == (
        date(2051, 3, 1),
        date(2051, 3, 31),
        RUN_DAY,
    )
    assert mine.due_on == date(2051, 4, 16)  # net 15 from the run
    assert made[hilltop].due_on == RUN_DAY  # due on receipt
    assert (mine.subtotal, mine.tax, mine.total, mine.paid) == (
        Decimal("1500.00"),
        Decimal("120.00"),
        Decimal("1620.00"),
        Decimal("0.00"),
    )
    assert mine.status == made[hilltop].status == "sent"  # seed 003: sent to clients
    assert sorted(x.number for x in made.values()) == sorted(summary.issued)
    assert sorted(summary.issued) == ["INV-2051-00002", "INV-2051-00003"]  # after `own`
    assert await lines_of(sessions, mine.id) == [
        (first, "CH-2051-000001 (2051-03-01): Motorcoach, 56 passengers", Decimal("900.00")),
        (first, "CH-2051-000001 (2051-03-01): Fuel surcharge", Decimal("100.00")),
        (last, "CH-2051-000002 (2051-03-31): Minibus, 24 passengers", Decimal("500.00")),
    ]
    assert [x[:2] for x in await lines_of(sessions, made[hilltop].id)] == [
        (school, f"CH-2051-{school.hex[:6]} (2051-03-15): Charter")
    ]
    for charter in left_out:
        assert await live_invoices_of(sessions, charter) == []
    assert await live_invoices_of(sessions, alone) == [own.number]
    async with sessions() as session:
        audits = sorted(
            (a.entity_id, a.action, a.actor_id)
            for a in await session.scalars(
                select(FinanceAudit).where(FinanceAudit.entity_id.in_([mine.id]))
            )
        )
        synced = await session.scalar(
            select(func.count())
            .select_from(SyncRecord)
            .where(
                SyncRecord.entity == "invoice",
                SyncRecord.entity_id.in_([x.id for x in made.values()]),
            )
        )
        announced = [
            p["action"]
            for p in (
                await session.scalars(
                    select(finance_outbox.c.payload).where(
                        finance_outbox.c.topic == "finance.invoice_changed"
                    )
                )
            )
            if p["invoiceId"] == str(mine.id)
        ]
    assert audits == sorted([(mine.id, "create", None), (mine.id, "send", None)])
    assert synced == 2
    assert announced == ["created", "sent"]

    again = await ci.run_month_end(sessions, RUN_DAY, zone=ZONE, send=True)
    async with sessions() as session, session.begin():
        await session.execute(delete(DailyRun).where(DailyRun.job == ci.JOB))
    forced = await ci.run_month_end(sessions, RUN_DAY, zone=ZONE, send=True)

    assert again.skipped
    assert again.issued == []
    assert (forced.skipped, forced.issued) == (False, [])  # every charter is on a live invoice
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Invoice))
    assert count == 3


async def test_a_charter_on_a_live_consolidated_invoice_is_not_invoiced_alone(sessions):
    client = await client_fact(sessions)
    charter = await charter_fact(sessions, client, local(2051, 3, 5, 9))
    consolidated = await consolidate(sessions, client)

    problems = await refused(
        sessions, lambda s: invoices.invoice_charter(s, charter, ACCOUNTING, RUN_DAY)
    )
    async with sessions() as session, session.begin():
        await invoices.void(session, consolidated.id, "Billed per charter instead", ACCOUNTING)
    async with sessions() as session, session.begin():
        alone = await invoices.invoice_charter(session, charter, ACCOUNTING, RUN_DAY)

    assert problems == [("charterId", "CONFLICT")]
    assert await live_invoices_of(sessions, charter) == [alone.number]


async def test_a_charter_invoiced_alone_is_left_out_of_the_consolidation(sessions):
    client = await client_fact(sessions)
    alone = await charter_fact(sessions, client, local(2051, 3, 5, 9))
    other = await charter_fact(sessions, client, local(2051, 3, 6, 9))
    async with sessions() as session, session.begin():
        own = await invoices.invoice_charter(session, alone, ACCOUNTING, date(2051, 3, 2))

    consolidated = await consolidate(sessions, client)

    assert {x[0] for x in await lines_of(sessions, consolidated.id)} == {other}
    assert consolidated.total == Decimal("1080.00")
    assert await live_invoices_of(sessions, alone) == [own.number]
    only_alone = await client_fact(sessions)
    await charter_fact(sessions, only_alone, local(2051, 3, 7, 9))
    async with sessions() as session:
        [charter] = await session.scalars(
            select(facts.CharterFact.charter_id).where(facts.CharterFact.client_id == only_alone)
        )
    async with sessions() as session, session.begin():
        await invoices.invoice_charter(session, charter, ACCOUNTING, date(2051, 3, 8))
    assert await refused(
        sessions,
        lambda s: ci.invoice_client_period(
            s, only_alone, date(2051, 3, 1), date(2051, 3, 31), ACCOUNTING, RUN_DAY, zone=ZONE
        ),
    ) == [("clientId", "NOTHING_TO_INVOICE")]


async def test_concurrent_per_charter_and_consolidated_invoicing_bill_a_charter_once(sessions):
    for _ in range(6):
        client = await client_fact(sessions)
        charter = await charter_fact(sessions, client, local(2051, 3, 9, 9))

        async def alone(charter: uuid.UUID = charter) -> str:
            async with sessions() as session, session.begin():
                return (
                    await invoices.invoice_charter(session, charter, ACCOUNTING, RUN_DAY)
                ).number

        async def together(client: uuid.UUID = client) -> str:
            return (await consolidate(sessions, client)).number

        outcomes = await asyncio.gather(alone(), together(), return_exceptions=True)

        made = [x for x in outcomes if isinstance(x, str)]
        lost = [x for x in outcomes if not isinstance(x, str)]
        assert len(made) == 1, outcomes
        assert len(lost) == 1, outcomes
        assert isinstance(lost[0], ServiceError), lost
        assert [(p.field, p.code) for p in lost[0].problems] in (
            [("charterId", "CONFLICT")],
            [("clientId", "NOTHING_TO_INVOICE")],
        )
        assert await live_invoices_of(sessions, charter) == made


async def test_concurrent_runs_for_one_client_and_period_make_one_invoice(sessions):
    client = await client_fact(sessions)
    for day in (3, 4, 5):
        await charter_fact(sessions, client, local(2051, 3, day, 9))

    outcomes = await asyncio.gather(
        *(consolidate(sessions, client) for _ in range(4)), return_exceptions=True
    )

    made = [x for x in outcomes if isinstance(x, Invoice)]
    assert len(made) == 1, outcomes
    for lost in outcomes:
        if not isinstance(lost, Invoice):
            assert isinstance(lost, ServiceError), lost
            assert [(p.field, p.code) for p in lost.problems] == [("periodStart", "CONFLICT")]
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.client_id == client)
        )
    assert count == 1
    assert made[0].total == Decimal("3240.00")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2051, 3, 31), date(2051, 3, 1), [("periodEnd", "INVALID")]),
        (date(2050, 1, 1), date(2051, 3, 1), [("periodEnd", "OUT_OF_RANGE")]),
        (date(2051, 4, 2), date(2051, 4, 30), [("periodStart", "IN_THE_FUTURE")]),
    ],
)
async def test_a_bad_period_is_refused_and_changes_nothing(sessions, start, end, expected):
    client = await client_fact(sessions)
    await charter_fact(sessions, client, local(2051, 3, 9, 9))

    problems = await refused(
        sessions,
        lambda s: ci.invoice_client_period(s, client, start, end, ACCOUNTING, RUN_DAY, zone=ZONE),
    )

    assert problems == expected
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 0


async def test_the_scheduled_job_runs_the_previous_month_in_operator_time(sessions):
    settings = get_settings()
    client = await client_fact(sessions)
    charter = await charter_fact(sessions, client, local(2051, 3, 9, 9))
    [month_end, overdue] = jobs.jobs(settings)
    services = SimpleNamespace(sessions=sessions, settings=settings)

    await month_end.body(services, local(2051, 4, 1, 6, 0))  # type: ignore[arg-type]

    assert (month_end.name, month_end.cron) == ("finance.month_end", "0 6 1 * *")
    assert overdue.name == "finance.overdue"
    [number] = await live_invoices_of(sessions, charter)
    async with sessions() as session:
        row = await session.scalar(select(Invoice).where(Invoice.number == number))
        run = await session.get(DailyRun, (ci.JOB, date(2051, 3, 1)))
    assert row is not None
    assert (row.period_start, row.charter_id) == (date(2051, 3, 1), None)
    assert run is not None
    assert run.finished_at is not None
    assert run.summary is not None
    assert run.summary["issued"] == [number]


ISSUE = """mutation($client: ID!, $start: Date!, $end: Date!, $send: Boolean) {
  invoiceClientPeriod(clientId: $client, periodStart: $start, periodEnd: $end, send: $send) {
    invoice { id number status total periodStart periodEnd charterId lines { description amount } }
    userErrors { field code message } } }"""
READ = "query($id: ID!) { invoice(id: $id) { number periodStart periodEnd } }"
CHARTER_INVOICES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Charter { invoices { number periodStart } } } }"""


def _last_month() -> tuple[date, date]:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return ci.previous_month(today)


async def test_finance_staff_invoice_a_clients_period_by_hand(
    sessions, finance_server, http_client, mint
):
    start, end = _last_month()
    client = await client_fact(sessions, name="Lakeside Tours")
    pickup = datetime.combine(start + timedelta(days=3), datetime.min.time(), tzinfo=ZONE)
    charter = await charter_fact(
        sessions, client, pickup.replace(hour=9), reference="CH-2026-000777"
    )
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    own = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("client", client_id=client)
    )
    other = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("client", client_id=uuid.uuid4())
    )
    variables = {"client": str(client), "start": start.isoformat(), "end": end.isoformat()}

    backwards = (
        await accounting(ISSUE, {**variables, "start": end.isoformat(), "end": start.isoformat()})
    ).ok()
    unknown = (await accounting(ISSUE, {**variables, "client": str(uuid.uuid4())})).ok()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
    issued = (await accounting(ISSUE, variables)).ok()["invoiceClientPeriod"]
    again = (await accounting(ISSUE, {**variables, "send": True})).ok()["invoiceClientPeriod"]

    assert [(e["field"], e["code"]) for e in backwards["invoiceClientPeriod"]["userErrors"]] == [
        ("periodEnd", "INVALID")
    ]
    assert backwards["invoiceClientPeriod"]["invoice"] is None
    assert [(e["field"], e["code"]) for e in unknown["invoiceClientPeriod"]["userErrors"]] == [
        ("clientId", "UNKNOWN_CLIENT")
    ]
    assert issued["userErrors"] == []
    invoice = issued["invoice"]
    assert (invoice["status"], invoice["total"], invoice["charterId"]) == ("DRAFT", "1080.00", None)
    assert (invoice["periodStart"], invoice["periodEnd"]) == (start.isoformat(), end.isoformat())
    assert [x["description"] for x in invoice["lines"]] == [
        f"CH-2026-000777 ({pickup.date().isoformat()}): Motorcoach, 56 passengers",
        f"CH-2026-000777 ({pickup.date().isoformat()}): Fuel surcharge",
    ]
    assert (again["invoice"], [(e["field"], e["code"]) for e in again["userErrors"]]) == (
        None,
        [("periodStart", "CONFLICT")],
    )
    mine = (await own(READ, {"id": invoice["id"]})).ok()["invoice"]
    assert mine == {
        "number": invoice["number"],
        "periodStart": start.isoformat(),
        "periodEnd": end.isoformat(),
    }
    assert (await other(READ, {"id": invoice["id"]})).error_codes == ["NOT_FOUND"]
    representation = {"r": [{"__typename": "Charter", "id": str(charter)}]}
    listed = (await own(CHARTER_INVOICES, representation)).ok()["_entities"][0]["invoices"]
    assert listed == [{"number": invoice["number"], "periodStart": start.isoformat()}]
    assert (await other(CHARTER_INVOICES, representation)).error_codes == ["FORBIDDEN"]
    for role in ("sales_agent", "client", "vendor", "driver"):
        caller = GraphQLClient(
            finance_server.graphql_url,
            http_client,
            await mint(role, client_id=client if role == "client" else None),
        )
        assert (await caller(ISSUE, variables)).error_codes == ["FORBIDDEN"], role


async def test_issuing_sending_and_voiding_an_invoice_enter_the_accounting_sync(sessions):
    client = await client_fact(sessions)
    charter = await charter_fact(sessions, client, local(2051, 3, 9, 9))

    async def records() -> list[tuple[str, str]]:
        async with sessions() as session:
            rows = await session.execute(
                select(SyncRecord.operation, SyncRecord.status)
                .where(SyncRecord.entity == "invoice")
                .order_by(SyncRecord.created_at, SyncRecord.operation)
            )
            return [(op, status) for op, status in rows]

    async def worker_sent_them() -> None:
        async with sessions() as session, session.begin():
            await session.execute(
                update(SyncRecord).where(SyncRecord.entity == "invoice").values(status="synced")
            )

    async with sessions() as session, session.begin():
        invoice = await invoices.invoice_charter(session, charter, ACCOUNTING, RUN_DAY)
    issued = await records()
    await worker_sent_them()
    async with sessions() as session, session.begin():
        await invoices.send(session, invoice.id, ACCOUNTING)
    sent = await records()
    await worker_sent_them()
    async with sessions() as session, session.begin():
        await invoices.void(session, invoice.id, "Issued in error", ACCOUNTING)
    voided = await records()

    assert issued == [("save", "pending")]
    assert sent == [("save", "synced"), ("save", "pending")]
    assert voided == [("save", "synced"), ("save", "synced"), ("void", "pending")]
