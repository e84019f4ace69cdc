"""Refunds (issue 12 §3): negative payments applied negatively, never more than was paid.

Service-level on the real database, and once through the finance subgraph.
Money given back by check needs no provider; card refunds through Stripe
are in test_card_payments.py and test_stripe_webhooks.py.
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
    SyncRecord,
)
from subgraphs.finance.service import applications, payments, refunds
from subgraphs.finance.service.balances import balances
from subgraphs.finance.service.payment_provider import ManualProvider
from subgraphs.kit.errors import ServiceError
from tests.support.graphql_client import GraphQLClient

ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
TODAY = date(2026, 11, 30)


async def make_client(sessions, client_type: str = "corporate") -> uuid.UUID:
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            ClientFact(
                client_id=client_id,
                name="Lakeside",
                client_type=client_type,
                as_of=datetime.now(UTC),
            )
        )
    return client_id


async def make_charter(sessions, client_id, total: str) -> uuid.UUID:
    charter_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            CharterFact(
                charter_id=charter_id,
                client_id=client_id,
                status="booked",
                as_of=datetime.now(UTC),
                accepted_total=Decimal(total),
                pickup_at=datetime.now(UTC) + timedelta(days=90),
            )
        )
    return charter_id


async def check_paying(sessions, client_id, amount: str, *to: tuple[uuid.UUID, str]) -> uuid.UUID:
    """A check recorded and applied to charters (charter, amount) in one transaction."""
    async with sessions() as session, session.begin():
        row = await payments.record(
            session,
            payments.PaymentInput(client_id, Decimal(amount), TODAY, "check", {"checkNumber": "7"}),
            ACCOUNTING,
            TODAY,
        )
        for charter_id, part in to:
            await applications.apply(
                session,
                applications.Application(row.id, charter_id, Decimal(part), f"a-{uuid.uuid4()}"),
                ACCOUNTING,
            )
    return row.id


async def give_back(sessions, payment_id, charter_id, amount: str, key: str | None = None):
    given = refunds.RefundInput(
        payment_id, charter_id, Decimal(amount), "Trip shortened", key or f"r-{uuid.uuid4()}"
    )
    try:
        async with sessions() as session, session.begin():
            return await refunds.refund(session, given, ACCOUNTING, TODAY, ManualProvider())
    except ServiceError as error:
        return error


async def paid_of(sessions, charter_id) -> Decimal:
    async with sessions() as session:
        return (await balances(session, [charter_id], TODAY))[charter_id].paid


async def test_a_partial_then_a_full_refund_of_a_check(sessions):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    check = await check_paying(sessions, client, "1000.00", (charter, "1000.00"))

    first = await give_back(sessions, check, charter, "300.00")
    assert isinstance(first, Payment)
    assert (first.kind, first.amount, first.applied) == (
        "refund",
        Decimal("-300.00"),
        Decimal("-300.00"),
    )
    assert first.refund_of_id == check
    assert first.provider_status == "succeeded"
    assert await paid_of(sessions, charter) == Decimal("700.00")

    rest = await give_back(sessions, check, charter, "700.00")
    assert isinstance(rest, Payment)
    assert await paid_of(sessions, charter) == Decimal("0.00")
    over = await give_back(sessions, check, charter, "0.01")
    assert isinstance(over, ServiceError)
    assert [(p.code, p.field) for p in over.problems] == [("EXCEEDS_REFUNDABLE", "amount")]

    async with sessions() as session:
        original = await session.get(Payment, check)
        assert original.refunded == Decimal("1000.00")
        audits = (
            await session.scalars(
                select(FinanceAudit).where(
                    FinanceAudit.entity == "payment", FinanceAudit.action == "refund"
                )
            )
        ).all()
        assert sorted(a.after["amount"] for a in audits) == ["300.00", "700.00"]
        assert {a.reason for a in audits} == {"Trip shortened"}
        assert {a.actor_id for a in audits} == {ACCOUNTING.user_id}
        synced = set(
            await session.scalars(
                select(SyncRecord.entity_id).where(SyncRecord.entity == "payment")
            )
        )
        assert {check, first.id, rest.id} <= synced


async def test_the_same_refund_sent_twice_refunds_once(sessions):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "500.00")
    check = await check_paying(sessions, client, "500.00", (charter, "500.00"))

    one = await give_back(sessions, check, charter, "100.00", key="refund-1")
    two = await give_back(sessions, check, charter, "100.00", key="refund-1")
    other = await give_back(sessions, check, charter, "50.00", key="refund-1")

    assert isinstance(one, Payment)
    assert isinstance(two, Payment)
    assert one.id == two.id
    assert isinstance(other, ServiceError)
    assert [(p.code, p.field) for p in other.problems] == [("CONFLICT", "idempotencyKey")]
    assert await paid_of(sessions, charter) == Decimal("400.00")


async def test_never_more_than_the_payment_paid_that_charter(sessions):
    client = await make_client(sessions)
    big, small = (
        await make_charter(sessions, client, "1000.00"),
        await make_charter(sessions, client, "1000.00"),
    )
    check = await check_paying(sessions, client, "1000.00", (big, "600.00"), (small, "400.00"))

    refused = await give_back(sessions, check, small, "400.01")
    done = await give_back(sessions, check, small, "400.00")
    unpaid = await give_back(sessions, check, uuid.uuid4(), "1.00")

    assert isinstance(refused, ServiceError)
    assert refused.problems[0].code == "EXCEEDS_REFUNDABLE"
    assert isinstance(done, Payment)
    assert isinstance(unpaid, ServiceError)
    assert unpaid.problems[0].code == "EXCEEDS_REFUNDABLE"
    assert await paid_of(sessions, big) == Decimal("600.00")
    assert await paid_of(sessions, small) == Decimal("0.00")


async def test_a_refund_moves_its_invoice_back(sessions):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "500.00")
    invoice_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Invoice(
                id=invoice_id,
                number=f"INV-2026-{uuid.uuid4().int % 100000:05d}",
                client_id=client,
                charter_id=charter,
                status="sent",
                issued_on=TODAY,
                due_on=TODAY + timedelta(days=30),
                subtotal=Decimal("500.00"),
                total=Decimal("500.00"),
                paid=Decimal("0.00"),
            )
        )
        check = await payments.record(
            session,
            payments.PaymentInput(client, Decimal("500.00"), TODAY, "check", {"checkNumber": "8"}),
            ACCOUNTING,
            TODAY,
        )
        await applications.apply(
            session,
            applications.Application(check.id, charter, Decimal("500.00"), "inv-pay", invoice_id),
            ACCOUNTING,
        )

    part = await give_back(sessions, check.id, charter, "200.00")
    async with sessions() as session:
        invoice = await session.get(Invoice, invoice_id)
        assert (invoice.paid, invoice.status) == (Decimal("300.00"), "partially_paid")
        negative = await session.scalar(
            select(PaymentApplication).where(PaymentApplication.payment_id == part.id)
        )
        assert (negative.amount, negative.invoice_id) == (Decimal("-200.00"), invoice_id)
    await give_back(sessions, check.id, charter, "300.00")
    async with sessions() as session:
        invoice = await session.get(Invoice, invoice_id)
        assert (invoice.paid, invoice.status) == (Decimal("0.00"), "sent")


async def test_bad_refunds_are_user_errors_naming_the_field_and_change_nothing(sessions):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "500.00")
    check = await check_paying(sessions, client, "500.00", (charter, "500.00"))
    given = refunds.RefundInput(check, charter, Decimal("1.005"), "  ", "")
    with pytest.raises(ServiceError) as refused:
        async with sessions() as session, session.begin():
            await refunds.refund(session, given, ACCOUNTING, TODAY, ManualProvider())
    assert {(p.code, p.field) for p in refused.value.problems} == {
        ("INVALID", "amount"),
        ("REQUIRED", "reason"),
        ("INVALID", "idempotencyKey"),
    }
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(Payment.kind == "refund")) == 0


@pytest.mark.slow
async def test_20_concurrent_refunds_never_give_back_more_than_was_paid(sessions):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    check = await check_paying(sessions, client, "1000.00", (charter, "1000.00"))

    answers = await asyncio.gather(
        *(give_back(sessions, check, charter, "100.00", key=f"c-{n}") for n in range(20))
    )

    done = [a for a in answers if isinstance(a, Payment)]
    refused = [a for a in answers if isinstance(a, ServiceError)]
    assert len(done) == 10
    assert len(refused) == 10
    assert {p.code for e in refused for p in e.problems} == {"EXCEEDS_REFUNDABLE"}
    async with sessions() as session:
        original = await session.get(Payment, check)
        assert original.refunded == Decimal("1000.00")
        total = await session.scalar(
            select(func.sum(Payment.amount)).where(Payment.refund_of_id == check)
        )
        assert total == Decimal("-1000.00")
    assert await paid_of(sessions, charter) == Decimal("0.00")


REFUND = """mutation($input: RefundPaymentInput!) { refundPayment(input: $input) {
  refund { id kind amount refundOfId providerStatus } userErrors { field code message } } }"""
PAYMENT = "query($id: ID!) { payment(id: $id) { kind refunded providerStatus } }"
BALANCE = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Charter { balance { paid } payments { amount } } } }"""


async def test_refund_payment_through_the_subgraph(sessions, finance_server, http_client, mint):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "800.00")
    check = await check_paying(sessions, client, "800.00", (charter, "800.00"))
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    given = {
        "paymentId": str(check),
        "charterId": str(charter),
        "amount": "250.00",
        "reason": "One coach fewer",
        "idempotencyKey": "gql-refund-1",
    }

    answer = (await accounting(REFUND, {"input": given})).ok()["refundPayment"]
    seen = (await accounting(BALANCE, {"r": [{"__typename": "Charter", "id": str(charter)}]})).ok()[
        "_entities"
    ][0]
    as_sales = await accounting(REFUND, {"input": given}, token=await mint("sales_agent"))
    original = (await accounting(PAYMENT, {"id": str(check)})).ok()["payment"]
    as_client = await accounting(
        PAYMENT, {"id": str(check)}, token=await mint("client", client_id=client)
    )

    assert answer["userErrors"] == []
    assert answer["refund"]["kind"] == "REFUND"
    assert answer["refund"]["amount"] == "-250.00"
    assert answer["refund"]["refundOfId"] == str(check)
    assert seen["balance"]["paid"] == "550.00"
    assert sorted(p["amount"] for p in seen["payments"]) == ["-250.00", "800.00"]
    assert as_sales.error_codes == ["FORBIDDEN"]
    assert original == {"kind": "PAYMENT", "refunded": "250.00", "providerStatus": "SUCCEEDED"}
    assert as_client.error_codes == ["FORBIDDEN"]  # the payment's readers: finance staff
