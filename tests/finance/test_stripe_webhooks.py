"""POST /webhooks/stripe (issue 12 §3): signed by Stripe's scheme, settling what was pending.

Signed with the endpoint secret the way Stripe documents it
(`card_sandbox.signature_header`) and verified by the adapter with
Stripe's own check. Replays answer 200 and change nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stack.card_sandbox import (
    API_KEY,
    BANK_ACCOUNT,
    WEBHOOK_SECRET,
    event_payload,
    signature_header,
)
from subgraphs.finance.models import FinanceAudit, Payment, PaymentApplication
from subgraphs.finance.service import refunds
from subgraphs.finance.service.stripe_provider import StripeProvider
from tests.finance.test_card_payments import pay
from tests.finance.test_refunds import (
    ACCOUNTING,
    TODAY,
    make_charter,
    make_client,
    paid_of,
)


@pytest.fixture
def stripe(stripe_api, fake_stripe_api) -> StripeProvider:
    _, server = stripe_api
    return StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0, timeout=10
    )


@pytest.fixture
def send(stripe_finance_server, http_client):
    async def post(body: bytes, secret: str = WEBHOOK_SECRET, signed: bytes | None = None):
        """POST `body` signed with `secret`; `signed`: the signature is another body's."""
        return await http_client.post(
            f"{stripe_finance_server.base_url}/webhooks/stripe",
            content=body,
            headers={
                "stripe-signature": signature_header(signed or body, secret),
                "content-type": "application/json",
            },
        )

    return post


def intent_event(kind: str, payment: Payment, event_id: str) -> bytes:
    obj = {
        "id": payment.provider_ref,
        "object": "payment_intent",
        "amount": int(payment.amount * 100),
        "amount_received": int(payment.amount * 100),
        "currency": "usd",
        "status": "succeeded" if kind == "payment_intent.succeeded" else "requires_payment_method",
        "last_payment_error": None
        if kind == "payment_intent.succeeded"
        else {"message": "The bank account was closed."},
    }
    return event_payload(kind, obj, event_id=event_id)


async def audits(sessions, entity_id, action) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).where(
                FinanceAudit.entity_id == entity_id, FinanceAudit.action == action
            )
        )


async def test_a_bad_signature_is_400_and_changes_nothing(
    sessions, stripe, send, stripe_finance_server, http_client
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment = await pay(sessions, stripe, charter, "400.00", token=BANK_ACCOUNT)
    body = intent_event("payment_intent.succeeded", payment, "evt_forged")
    assert b'"amount":40000' in body

    forged = await send(body, secret="whsec_someone_else")
    tampered = await send(body.replace(b'"amount":40000', b'"amount":90000'), signed=body)
    unsigned = await http_client.post(
        f"{stripe_finance_server.base_url}/webhooks/stripe", content=body
    )

    assert forged.status_code == 400
    assert tampered.status_code == 400
    assert unsigned.status_code == 400
    async with sessions() as session:
        assert (await session.get(Payment, payment.id)).provider_status == "pending"


async def test_ach_settles_on_the_webhook_and_a_replay_is_harmless(sessions, stripe, send):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment = await pay(sessions, stripe, charter, "400.00", token=BANK_ACCOUNT)
    body = intent_event("payment_intent.succeeded", payment, "evt_ok")

    first, replay = await send(body), await send(body)

    assert (first.status_code, first.json()["outcome"]) == (200, "payment")
    assert replay.status_code == 200
    async with sessions() as session:
        assert (await session.get(Payment, payment.id)).provider_status == "succeeded"
    assert await audits(sessions, payment.id, "provider_succeeded") == 1
    assert await paid_of(sessions, charter) == Decimal("400.00")


async def test_a_failed_ach_payment_is_taken_back_off_the_charter(sessions, stripe, send):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment = await pay(sessions, stripe, charter, "400.00", token=BANK_ACCOUNT)
    body = intent_event("payment_intent.payment_failed", payment, "evt_failed")

    assert (await send(body)).status_code == 200
    assert (await send(body)).status_code == 200

    async with sessions() as session:
        row = await session.get(Payment, payment.id)
        assert (row.provider_status, row.applied) == ("failed", Decimal("0.00"))
        application = await session.scalar(
            select(PaymentApplication).where(PaymentApplication.payment_id == payment.id)
        )
        assert application.unapplied_at is not None
        assert "bank account was closed" in application.unapply_reason
    assert await paid_of(sessions, charter) == Decimal("0.00")
    assert await audits(sessions, payment.id, "provider_failed") == 1


def refund_event(refund: Payment, payment: Payment, status: str, event_id: str) -> bytes:
    obj = {
        "id": refund.provider_ref,
        "object": "refund",
        "amount": int(-refund.amount * 100),
        "currency": "usd",
        "payment_intent": payment.provider_ref,
        "status": status,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
    }
    return event_payload("refund.updated", obj, event_id=event_id)


async def pending_refund(sessions, stripe, fake, charter, amount: str):
    payment = await pay(sessions, stripe, charter, "300.00")
    fake.refund_status = "pending"
    async with sessions() as session, session.begin():
        refund = await refunds.refund(
            session,
            refunds.RefundInput(payment.id, charter, Decimal(amount), "Cancelled leg", "pend-1"),
            ACCOUNTING,
            TODAY,
            stripe,
        )
    return payment, refund


async def test_a_pending_refund_that_fails_is_reversed(sessions, stripe, fake_stripe_api, send):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment, refund = await pending_refund(sessions, stripe, fake_stripe_api, charter, "120.00")
    assert refund.provider_status == "pending"
    assert await paid_of(sessions, charter) == Decimal("180.00")
    body = refund_event(refund, payment, "failed", "evt_refund_failed")

    first, replay = await send(body), await send(body)

    assert (first.status_code, first.json()["outcome"]) == (200, "refund")
    assert replay.status_code == 200
    async with sessions() as session:
        row = await session.get(Payment, refund.id)
        assert (row.provider_status, row.applied) == ("failed", Decimal("0.00"))
        assert (await session.get(Payment, payment.id)).refunded == Decimal("0.00")
    assert await paid_of(sessions, charter) == Decimal("300.00")
    assert await audits(sessions, refund.id, "refund_failed") == 1


async def test_a_pending_refund_that_succeeds_stays_applied(
    sessions, stripe, fake_stripe_api, send
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment, refund = await pending_refund(sessions, stripe, fake_stripe_api, charter, "300.00")

    answer = await send(refund_event(refund, payment, "succeeded", "evt_refund_ok"))

    assert answer.status_code == 200
    async with sessions() as session:
        assert (await session.get(Payment, refund.id)).provider_status == "succeeded"
        assert (await session.get(Payment, payment.id)).refunded == Decimal("300.00")
    assert await paid_of(sessions, charter) == Decimal("0.00")


async def test_events_about_nothing_of_ours_are_acknowledged(send):
    body = event_payload("customer.created", {"id": "cus_1", "object": "customer"})

    answer = await send(body)

    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
