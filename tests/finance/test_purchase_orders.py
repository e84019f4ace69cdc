"""Purchase orders (issue 12 §1): for the client types the configuration names, within the PO limit.

Race-safe: the client's facts row is locked while its open purchase
orders are summed, so concurrent POs never pass the limit together.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from subgraphs.finance.models import Payment
from subgraphs.finance.service import applications, configuration, payments
from subgraphs.kit.errors import ServiceError
from tests.finance.test_refunds import (
    ACCOUNTING,
    TODAY,
    give_back,
    make_charter,
    make_client,
)
from tests.support.graphql_client import GraphQLClient


async def purchase_order(sessions, client_id, amount: str):
    given = payments.PaymentInput(
        client_id,
        Decimal(amount),
        TODAY,
        "purchase_order",
        {"poNumber": f"PO-{uuid.uuid4().hex[:6]}"},
    )
    try:
        async with sessions() as session, session.begin():
            return await payments.record(session, given, ACCOUNTING, TODAY)
    except ServiceError as error:
        return error


async def set_limit(sessions, limit: str) -> None:
    async with sessions() as session, session.begin():
        await configuration.update(
            session, configuration.ConfigChange(po_credit_limit=Decimal(limit)), ACCOUNTING
        )


async def test_only_the_configured_client_types_pay_by_purchase_order(sessions):
    government = await make_client(sessions, "government")
    personal = await make_client(sessions, "personal")

    allowed = await purchase_order(sessions, government, "1200.00")
    refused = await purchase_order(sessions, personal, "10.00")

    assert isinstance(allowed, Payment)
    assert allowed.method == "purchase_order"
    assert [(p.code, p.field) for p in refused.problems] == [("PO_NOT_ALLOWED", "method")]
    async with sessions() as session, session.begin():
        await configuration.update(
            session, configuration.ConfigChange(po_client_types=("personal",)), ACCOUNTING
        )
    assert isinstance(await purchase_order(sessions, personal, "10.00"), Payment)
    now_refused = await purchase_order(sessions, government, "10.00")
    assert [(p.code, p.field) for p in now_refused.problems] == [("PO_NOT_ALLOWED", "method")]


async def test_open_purchase_orders_stay_within_the_limit_and_refunds_free_room(sessions):
    await set_limit(sessions, "1000.00")
    client = await make_client(sessions, "corporate")
    charter = await make_charter(sessions, client, "5000.00")

    first = await purchase_order(sessions, client, "600.00")
    over = await purchase_order(sessions, client, "400.01")
    exact = await purchase_order(sessions, client, "400.00")
    full = await purchase_order(sessions, client, "0.01")

    assert isinstance(first, Payment)
    assert isinstance(exact, Payment)
    assert [(p.code, p.field) for p in over.problems] == [("PO_CREDIT_LIMIT", "method")]
    assert [(p.code, p.field) for p in full.problems] == [("PO_CREDIT_LIMIT", "method")]
    # A purchase order given back (part of) no longer counts against the limit.
    async with sessions() as session, session.begin():
        await applications.apply(
            session,
            applications.Application(first.id, charter, Decimal("600.00"), "po-apply"),
            ACCOUNTING,
        )
    await give_back(sessions, first.id, charter, "100.00")
    assert isinstance(await purchase_order(sessions, client, "100.00"), Payment)


@pytest.mark.slow
async def test_concurrent_purchase_orders_never_pass_the_limit_together(sessions):
    await set_limit(sessions, "1000.00")
    client = await make_client(sessions, "government")

    answers = await asyncio.gather(*(purchase_order(sessions, client, "300.00") for _ in range(10)))

    assert sum(isinstance(a, Payment) for a in answers) == 3
    assert {p.code for a in answers if isinstance(a, ServiceError) for p in a.problems} == {
        "PO_CREDIT_LIMIT"
    }
    async with sessions() as session:
        total = await session.scalar(
            select(func.sum(Payment.amount)).where(Payment.method == "purchase_order")
        )
        assert total == Decimal("900.00")


RECORD = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id method } userErrors { field code message } } }"""


async def test_record_payment_refuses_a_purchase_order_on_method(
    sessions, finance_server, http_client, mint
):
    client = await make_client(sessions, "school")
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))

    answer = (
        await accounting(
            RECORD,
            {
                "input": {
                    "clientId": str(client),
                    "amount": "50.00",
                    "receivedOn": "2026-11-01",
                    "method": "PURCHASE_ORDER",
                    "poNumber": "PO-77",
                }
            },
        )
    ).ok()["recordPayment"]

    assert answer["payment"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("method", "PO_NOT_ALLOWED")]
