"""Paying by card or ACH through the provider (issue 12 §3): charged, recorded, applied, once.

The Stripe adapter talks to the local Stripe stand-in; service-level tests
hand the service a provider, GraphQL tests run a finance app configured for
Stripe (`stripe_finance_server`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stack.card_sandbox import (
    API_KEY,
    BANK_ACCOUNT,
    CARD_DECLINED,
    CARD_OK,
    WEBHOOK_SECRET,
)
from subgraphs.finance.models import FinanceAudit, Payment, PaymentApplication, SyncRecord
from subgraphs.finance.service import charges, refunds
from subgraphs.finance.service.payment_provider import ManualProvider
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.service.stripe_provider import StripeProvider
from subgraphs.kit.errors import ServiceError
from tests.finance.test_refunds import (
    ACCOUNTING,
    TODAY,
    make_charter,
    make_client,
    paid_of,
)
from tests.support.graphql_client import GraphQLClient


@pytest.fixture
def stripe(stripe_api, fake_stripe_api) -> StripeProvider:
    _, server = stripe_api
    return StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0, timeout=10
    )


async def pay(sessions, provider, charter, amount: str, token=CARD_OK, key=None, saved=None):
    given = charges.CardPayment(
        charter,
        Decimal(amount),
        key or f"pay-{uuid.uuid4()}",
        saved_method_id=saved,
        payment_method_token=None if saved else token,
    )
    try:
        async with sessions() as session, session.begin():
            return await charges.pay_by_card(session, given, ACCOUNTING, TODAY, provider)
    except ServiceError as error:
        return error


def intents(fake) -> list:
    return [r for r in fake.requests if r.path == "/v1/payment_intents"]


async def test_a_card_payment_is_charged_recorded_and_applied(sessions, stripe, fake_stripe_api):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")

    payment = await pay(sessions, stripe, charter, "250.00", key="deposit-1")

    assert isinstance(payment, Payment)
    assert (payment.method, payment.provider_status) == ("card", "succeeded")
    assert payment.provider_ref.startswith("pi_")
    assert payment.details == {"provider": "stripe", "brand": "visa", "last4": "4242"}
    sent = intents(fake_stripe_api)
    assert len(sent) == 1
    assert sent[0].idempotency_key == "deposit-1"
    assert sent[0].form["amount"] == "25000"
    assert await paid_of(sessions, charter) == Decimal("250.00")
    async with sessions() as session:
        application = await session.scalar(
            select(PaymentApplication).where(PaymentApplication.idempotency_key == "deposit-1")
        )
        assert (application.payment_id, application.amount) == (payment.id, Decimal("250.00"))
        assert await session.scalar(
            select(func.count()).where(
                SyncRecord.entity == "payment", SyncRecord.entity_id == payment.id
            )
        )
        audit = await session.scalar(
            select(FinanceAudit).where(
                FinanceAudit.entity_id == payment.id, FinanceAudit.action == "charge"
            )
        )
        assert audit.after["provider_ref"] == payment.provider_ref


async def test_the_same_key_charges_once(sessions, stripe, fake_stripe_api):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")

    first = await pay(sessions, stripe, charter, "100.00", key="once")
    again = await pay(sessions, stripe, charter, "100.00", key="once")
    other = await pay(sessions, stripe, charter, "90.00", key="once")

    assert again.id == first.id
    assert [(p.code, p.field) for p in other.problems] == [("CONFLICT", "idempotencyKey")]
    assert len(intents(fake_stripe_api)) == 1
    assert await paid_of(sessions, charter) == Decimal("100.00")


async def test_a_decline_is_a_user_error_and_records_nothing(sessions, stripe, fake_stripe_api):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")

    declined = await pay(sessions, stripe, charter, "100.00", token=CARD_DECLINED)

    assert isinstance(declined, ServiceError)
    assert [(p.code, p.field) for p in declined.problems] == [("DECLINED", "paymentMethodToken")]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
    assert await paid_of(sessions, charter) == Decimal("0.00")


async def test_more_than_owed_is_refused_before_anything_is_charged(
    sessions, stripe, fake_stripe_api
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "500.00")

    over = await pay(sessions, stripe, charter, "500.01")
    neither = await pay(sessions, stripe, charter, "5.00", token="")

    assert [(p.code, p.field) for p in over.problems] == [("EXCEEDS_BALANCE", "amount")]
    assert [(p.code, p.field) for p in neither.problems] == [("REQUIRED", "savedMethodId")]
    assert intents(fake_stripe_api) == []


async def test_ach_is_recorded_pending_and_applied(sessions, stripe, fake_stripe_api):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")

    payment = await pay(sessions, stripe, charter, "400.00", token=BANK_ACCOUNT)

    assert (payment.method, payment.provider_status) == ("ach", "pending")
    assert intents(fake_stripe_api)[0].form["allowed_payment_method_types[0]"] == "us_bank_account"
    assert await paid_of(sessions, charter) == Decimal("400.00")


async def test_a_card_refund_goes_through_stripe_with_the_refund_key(
    sessions, stripe, fake_stripe_api
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "1000.00")
    payment = await pay(sessions, stripe, charter, "300.00")

    async with sessions() as session, session.begin():
        refund = await refunds.refund(
            session,
            refunds.RefundInput(payment.id, charter, Decimal("100.00"), "Wi-Fi broken", "ref-9"),
            ACCOUNTING,
            TODAY,
            stripe,
        )

    sent = [r for r in fake_stripe_api.requests if r.path == "/v1/refunds"]
    assert len(sent) == 1
    assert sent[0].idempotency_key == "ref-9"
    assert sent[0].form == {"payment_intent": payment.provider_ref, "amount": "10000"}
    assert refund.provider_ref.startswith("re_")
    assert refund.provider_status == "succeeded"
    assert await paid_of(sessions, charter) == Decimal("200.00")


PAY = """mutation($input: PayByCardInput!) { payByCard(input: $input) {
  payment { id amount method providerStatus } userErrors { field code message } } }"""


async def test_a_client_pays_its_own_charter_and_no_one_elses(
    sessions, stripe_finance_server, fake_stripe_api, http_client, mint
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "600.00")
    own = GraphQLClient(
        stripe_finance_server.graphql_url, http_client, await mint("client", client_id=client)
    )
    given = {
        "charterId": str(charter),
        "amount": "150.00",
        "paymentMethodToken": CARD_OK,
        "idempotencyKey": "portal-1",
    }

    paid = (await own(PAY, {"input": given})).ok()["payByCard"]
    declined = (
        await own(
            PAY,
            {"input": {**given, "paymentMethodToken": CARD_DECLINED, "idempotencyKey": "p-2"}},
        )
    ).ok()["payByCard"]
    other_client = await own(
        PAY, {"input": given}, token=await mint("client", client_id=uuid.uuid4())
    )
    agent = await own(PAY, {"input": given}, token=await mint("sales_agent"))
    vendor = await own(PAY, {"input": given}, token=await mint("vendor"))

    assert paid["userErrors"] == []
    assert paid["payment"]["method"] == "CARD"
    assert paid["payment"]["providerStatus"] == "SUCCEEDED"
    assert declined == {
        "payment": None,
        "userErrors": [
            {
                "field": "paymentMethodToken",
                "code": "DECLINED",
                "message": "Your card was declined.",
            }
        ],
    }
    assert other_client.error_codes == ["FORBIDDEN"]
    assert agent.error_codes == ["FORBIDDEN"]
    assert vendor.error_codes == ["FORBIDDEN"]
    assert len(intents(fake_stripe_api)) == 2  # the paid and the declined; no one else's
    assert await paid_of(sessions, charter) == Decimal("150.00")


def test_the_settings_choose_the_provider(stripe_settings):
    manual = payment_provider(stripe_settings.model_copy(update={"payment_provider": "manual"}))
    stripe = payment_provider(stripe_settings)

    assert isinstance(manual, ManualProvider)
    assert isinstance(stripe, StripeProvider)
    assert stripe.api_base == stripe_settings.stripe_api_base
    assert stripe.webhook_secret == WEBHOOK_SECRET
    with pytest.raises(ValueError, match="unknown payment provider"):
        payment_provider(stripe_settings.model_copy(update={"payment_provider": "paypal"}))
