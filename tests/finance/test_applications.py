"""Applying payments under concurrency: never more than a payment has, never twice (issue 12 §3).

Service-level, each application in its own transaction on the real
database, started together: what the row locks must hold however the
requests interleave.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance.models import (
    CharterFact,
    ClientFact,
    FinanceAudit,
    Invoice,
    Payment,
    PaymentApplication,
)
from subgraphs.finance.service import applications, payments
from subgraphs.kit.errors import ServiceError

ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
TODAY = date(2026, 11, 30)


async def _client(sessions) -> uuid.UUID:
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(ClientFact(client_id=client_id, name="Lakeside", as_of=datetime.now(UTC)))
    return client_id


async def _charter(sessions, client_id, total: str) -> uuid.UUID:
    charter_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            CharterFact(
                charter_id=charter_id,
                client_id=client_id,
                status="booked",
                as_of=datetime.now(UTC),
                accepted_total=Decimal(total),
            )
        )
    return charter_id


async def _payment(sessions, client_id, amount: str, method: str = "check") -> uuid.UUID:
    async with sessions() as session, session.begin():
        row = await payments.record(
            session,
            payments.PaymentInput(
                client_id, Decimal(amount), TODAY, method, {"checkNumber": "1042"}
            ),
            ACCOUNTING,
            TODAY,
        )
    return row.id


async def _invoice(sessions, client_id, charter_id, total: str) -> uuid.UUID:
    invoice_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Invoice(
                id=invoice_id,
                number=f"INV-2026-{uuid.uuid4().int % 100000:05d}",
                client_id=client_id,
                charter_id=charter_id,
                status="sent",
                issued_on=TODAY,
                due_on=TODAY + timedelta(days=30),
                subtotal=Decimal(total),
                tax=Decimal("0.00"),
                total=Decimal(total),
                paid=Decimal("0.00"),
            )
        )
    return invoice_id


async def _apply(sessions, given: applications.Application):
    try:
        async with sessions() as session, session.begin():
            return await applications.apply(session, given, ACCOUNTING)
    except ServiceError as error:
        return error


async def test_one_check_pays_three_deposits(sessions):
    client = await _client(sessions)
    charters = [await _charter(sessions, client, "2000.00") for _ in range(3)]
    check = await _payment(sessions, client, "1500.00")

    for n, charter in enumerate(charters):
        answer = await _apply(
            sessions, applications.Application(check, charter, Decimal("500.00"), f"dep-{n}")
        )
        assert isinstance(answer, PaymentApplication)

    async with sessions() as session:
        payment = await session.get(Payment, check)
        assert payment.applied == Decimal("1500.00")


async def test_20_concurrent_applications_never_exceed_the_payment(sessions):
    client = await _client(sessions)
    charters = [await _charter(sessions, client, "1000.00") for _ in range(20)]
    payment = await _payment(sessions, client, "1000.00")

    answers = await asyncio.gather(
        *(
            _apply(sessions, applications.Application(payment, c, Decimal("150.00"), f"k-{n}"))
            for n, c in enumerate(charters)
        )
    )

    applied = [a for a in answers if isinstance(a, PaymentApplication)]
    refused = [a for a in answers if isinstance(a, ServiceError)]
    assert len(applied) == 6  # 6 x 150 = 900; a 7th would be 1,050
    assert len(refused) == 14
    assert {p.code for e in refused for p in e.problems} == {"EXCEEDS_PAYMENT"}
    assert all(p.field == "amount" for e in refused for p in e.problems)
    async with sessions() as session:
        payment_row = await session.get(Payment, payment)
        total = await session.scalar(select(func.sum(PaymentApplication.amount)))
    assert payment_row.applied == total == Decimal("900.00")


async def test_10_concurrent_partial_payments_leave_an_exact_invoice_balance(sessions):
    client = await _client(sessions)
    charter = await _charter(sessions, client, "1000.00")
    invoice = await _invoice(sessions, client, charter, "1000.00")
    paying = [await _payment(sessions, client, "150.00") for _ in range(10)]

    answers = await asyncio.gather(
        *(
            _apply(
                sessions,
                applications.Application(p, charter, Decimal("150.00"), f"p-{n}", invoice),
            )
            for n, p in enumerate(paying)
        )
    )

    applied = [a for a in answers if isinstance(a, PaymentApplication)]
    refused = [a for a in answers if isinstance(a, ServiceError)]
    assert len(applied) == 6
    assert {p.code for e in refused for p in e.problems} == {"EXCEEDS_BALANCE"}
    async with sessions() as session:
        row = await session.get(Invoice, invoice)
    assert (row.paid, row.total - row.paid, row.status) == (
        Decimal("900.00"),
        Decimal("100.00"),
        "partially_paid",
    )


async def test_the_same_application_sent_twice_at_once_applies_once(sessions):
    client = await _client(sessions)
    charter = await _charter(sessions, client, "1000.00")
    payment = await _payment(sessions, client, "500.00")
    given = applications.Application(payment, charter, Decimal("200.00"), "retry-me")

    answers = await asyncio.gather(*(_apply(sessions, given) for _ in range(5)))

    assert all(isinstance(a, PaymentApplication) for a in answers)
    assert len({a.id for a in answers}) == 1
    async with sessions() as session:
        assert (await session.get(Payment, payment)).applied == Decimal("200.00")
        count = await session.scalar(select(func.count()).select_from(PaymentApplication))
    assert count == 1


async def test_a_key_reused_for_other_content_is_a_conflict(sessions):
    client = await _client(sessions)
    charter = await _charter(sessions, client, "1000.00")
    payment = await _payment(sessions, client, "500.00")
    await _apply(sessions, applications.Application(payment, charter, Decimal("100.00"), "k"))

    other = await _apply(
        sessions, applications.Application(payment, charter, Decimal("120.00"), "k")
    )

    assert isinstance(other, ServiceError)
    assert [(p.field, p.code) for p in other.problems] == [("idempotencyKey", "CONFLICT")]


@pytest.mark.parametrize(
    ("amount", "field", "code"),
    [
        ("0.00", "amount", "OUT_OF_RANGE"),
        ("10.005", "amount", "INVALID"),
        ("2000.00", "amount", "EXCEEDS_PAYMENT"),
    ],
)
async def test_bad_applications_name_the_field_and_change_nothing(sessions, amount, field, code):
    client = await _client(sessions)
    charter = await _charter(sessions, client, "5000.00")
    payment = await _payment(sessions, client, "1000.00")

    answer = await _apply(
        sessions, applications.Application(payment, charter, Decimal(amount), "x")
    )

    assert isinstance(answer, ServiceError)
    assert [(p.field, p.code) for p in answer.problems] == [(field, code)]
    async with sessions() as session:
        assert (await session.get(Payment, payment)).applied == Decimal("0.00")
        assert await session.scalar(select(func.count()).select_from(PaymentApplication)) == 0


async def test_a_void_invoice_takes_no_payment_and_unapply_gives_the_money_back(sessions):
    client = await _client(sessions)
    charter = await _charter(sessions, client, "800.00")
    invoice = await _invoice(sessions, client, charter, "800.00")
    payment = await _payment(sessions, client, "800.00")
    applied = await _apply(
        sessions, applications.Application(payment, charter, Decimal("800.00"), "a", invoice)
    )
    async with sessions() as session, session.begin():
        await applications.unapply(session, applied.id, "Check bounced.", ACCOUNTING)
        row = await session.get(Invoice, invoice)
        row.status = "void"

    refused = await _apply(
        sessions, applications.Application(payment, charter, Decimal("100.00"), "b", invoice)
    )

    assert isinstance(refused, ServiceError)
    assert [(p.field, p.code) for p in refused.problems] == [("invoiceId", "NOT_PAYABLE")]
    async with sessions() as session:
        assert (await session.get(Payment, payment)).applied == Decimal("0.00")
        audit = (await session.scalars(select(FinanceAudit.action).order_by(FinanceAudit.at))).all()
    assert audit.count("unapply") == 1


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"amount": Decimal("10.005")}, "amount", "INVALID"),
        ({"received_on": TODAY + timedelta(days=1)}, "receivedOn", "IN_THE_FUTURE"),
        ({"details": {}}, "checkNumber", "REQUIRED"),
        ({"method": "bitcoin"}, "method", "INVALID"),
    ],
)
async def test_bad_payments_name_the_field_and_store_nothing(sessions, given, field, code):
    client = await _client(sessions)
    base = {
        "client_id": client,
        "amount": Decimal("100.00"),
        "received_on": TODAY,
        "method": "check",
        "details": {"checkNumber": "7"},
    }
    with pytest.raises(ServiceError) as raised:
        async with sessions() as session, session.begin():
            await payments.record(
                session, payments.PaymentInput(**{**base, **given}), ACCOUNTING, TODAY
            )

    assert (field, code) in [(p.field, p.code) for p in raised.value.problems]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
