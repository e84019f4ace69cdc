"""The payment-provider port: the Stripe adapter against a local Stripe stand-in, and manual entry.

The real `stripe` library talks HTTP to `card_sandbox.FakeStripe`, which
records every request (form fields and headers) and answers in Stripe's
wire format; webhooks are signed the way Stripe documents it and checked
by the adapter with Stripe's own verification.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from db.embedded import free_port
from stack.card_sandbox import (
    API_KEY,
    BANK_ACCOUNT,
    CARD_DECLINED,
    CARD_OK,
    WEBHOOK_SECRET,
    FakeStripe,
    event_payload,
    signature_header,
)
from subgraphs.finance.service.payment_provider import (
    ChargeRequest,
    EventKind,
    InvalidAmount,
    ManualProvider,
    PaymentMethodKind,
    PaymentProvider,
    PaymentStatus,
    ProviderDeclined,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RefundStatus,
    WebhookRejected,
    from_minor_units,
    to_minor_units,
)
from subgraphs.finance.service.stripe_provider import StripeProvider
from tests.support.live_server import LiveServer, serve


@pytest.fixture(scope="module")
async def stripe_server() -> AsyncIterator[tuple[FakeStripe, LiveServer]]:
    fake = FakeStripe()
    async with serve(fake.app()) as server:
        yield fake, server


@pytest.fixture
def fake_stripe(stripe_server: tuple[FakeStripe, LiveServer]) -> FakeStripe:
    fake, _ = stripe_server
    fake.reset()
    return fake


@pytest.fixture
def provider(
    stripe_server: tuple[FakeStripe, LiveServer], fake_stripe: FakeStripe
) -> StripeProvider:
    _, server = stripe_server
    return StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0, timeout=10
    )


def charge_request(amount: str = "1234.56", **overrides: Any) -> ChargeRequest:
    values: dict[str, Any] = {
        "amount": Decimal(amount),
        "currency": "USD",
        "payment_method": CARD_OK,
        "customer": "cus_client_1",
        "idempotency_key": f"charge-{uuid.uuid4()}",
        "description": "Deposit CH-2026-000123",
        "metadata": {"charter_id": "c-1", "invoice": "INV-2026-00001"},
    }
    values.update(overrides)
    return ChargeRequest(**values)


# --- charges ---------------------------------------------------------------------------


async def test_a_charge_creates_and_confirms_one_intent_in_minor_units(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    request = charge_request("1234.56")

    payment = await provider.charge(request)

    assert len(fake_stripe.requests) == 1
    sent = fake_stripe.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.form["amount"] == "123456"
    assert sent.form["currency"] == "usd"
    assert sent.form["confirm"] == "true"
    assert sent.form["off_session"] == "true"
    assert sent.form["payment_method"] == CARD_OK
    assert sent.form["customer"] == "cus_client_1"
    assert sent.form["allowed_payment_method_types[0]"] == "card"
    assert sent.form["metadata[invoice]"] == "INV-2026-00001"
    assert sent.idempotency_key == request.idempotency_key
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    (intent,) = fake_stripe.intents.values()
    assert intent["status"] == "succeeded"
    assert payment.provider == "stripe"
    assert payment.reference == intent["id"]
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.amount == Decimal("1234.56")
    assert payment.currency == "usd"


async def test_an_ach_debit_is_accepted_as_processing(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    payment = await provider.charge(
        charge_request("500.00", payment_method=BANK_ACCOUNT, method=PaymentMethodKind.ACH)
    )

    assert fake_stripe.requests[0].form["allowed_payment_method_types[0]"] == "us_bank_account"
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.amount == Decimal("500.00")


async def test_the_same_idempotency_key_twice_charges_once(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    request = charge_request("75.10")

    first = await provider.charge(request)
    second = await provider.charge(request)

    assert [r.idempotency_key for r in fake_stripe.requests] == [request.idempotency_key] * 2
    assert len(fake_stripe.intents) == 1
    assert second == first
    other = await provider.charge(charge_request("75.10"))
    assert other.reference != first.reference
    assert len(fake_stripe.intents) == 2


async def test_a_declined_card_is_provider_declined_with_the_reason(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    with pytest.raises(ProviderDeclined) as declined:
        await provider.charge(charge_request(payment_method=CARD_DECLINED))

    (intent,) = fake_stripe.intents.values()
    assert declined.value.reason == "Your card was declined."
    assert declined.value.code == "card_declined"
    assert declined.value.decline_code == "generic_decline"
    assert declined.value.payment_reference == intent["id"]


async def test_a_server_error_is_provider_unavailable_and_retries_reuse_the_key(
    stripe_server: tuple[FakeStripe, LiveServer], fake_stripe: FakeStripe
) -> None:
    _, server = stripe_server
    retrying = StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=1
    )
    fake_stripe.outage = True
    request = charge_request()

    with pytest.raises(ProviderUnavailable):
        await retrying.charge(request)

    assert [r.idempotency_key for r in fake_stripe.requests] == [request.idempotency_key] * 2
    assert fake_stripe.intents == {}
    # Once Stripe is back, the retry with the same key charges exactly once.
    fake_stripe.outage = False
    payment = await retrying.charge(request)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(fake_stripe.intents) == 1


async def test_no_connection_is_provider_unavailable() -> None:
    nowhere = StripeProvider(
        API_KEY,
        WEBHOOK_SECRET,
        api_base=f"http://127.0.0.1:{free_port()}",
        max_network_retries=0,
    )

    with pytest.raises(ProviderUnavailable):
        await nowhere.charge(charge_request())


async def test_a_wrong_api_key_is_neither_a_decline_nor_retryable(
    stripe_server: tuple[FakeStripe, LiveServer], fake_stripe: FakeStripe
) -> None:
    _, server = stripe_server
    misconfigured = StripeProvider(
        "sk_test_wrong", WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0
    )

    with pytest.raises(ProviderError) as refused:
        await misconfigured.charge(charge_request())

    assert type(refused.value) is ProviderError
    assert fake_stripe.intents == {}


@pytest.mark.parametrize(
    "amount",
    [Decimal("10.001"), Decimal("0"), Decimal("-5.00"), Decimal("NaN"), 10.5, 10],
    ids=["three-decimals", "zero", "negative", "nan", "float", "int"],
)
async def test_an_amount_stripe_cannot_take_exactly_is_refused_before_any_request(
    provider: StripeProvider, fake_stripe: FakeStripe, amount: Any
) -> None:
    with pytest.raises(InvalidAmount):
        await provider.charge(replace(charge_request(), amount=amount))

    assert fake_stripe.requests == []


# --- refunds ---------------------------------------------------------------------------


async def test_a_full_refund_returns_what_was_paid(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    payment = await provider.charge(charge_request("100.00"))
    key = f"refund-{uuid.uuid4()}"

    refund = await provider.refund(payment.reference, None, key)

    sent = fake_stripe.requests[-1]
    assert sent.path == "/v1/refunds"
    assert sent.form == {"payment_intent": payment.reference}
    assert sent.idempotency_key == key
    assert refund.provider == "stripe"
    assert refund.payment_reference == payment.reference
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.amount == Decimal("100.00")
    assert refund.currency == "usd"
    assert refund.reference in fake_stripe.refunds


async def test_partial_refunds_send_minor_units_and_cannot_exceed_the_payment(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    payment = await provider.charge(charge_request("100.00"))

    first = await provider.refund(payment.reference, Decimal("30.25"), "refund-a")
    again = await provider.refund(payment.reference, Decimal("30.25"), "refund-a")
    with pytest.raises(ProviderRejected) as over:
        await provider.refund(payment.reference, Decimal("69.76"), "refund-b")
    rest = await provider.refund(payment.reference, None, "refund-c")

    assert fake_stripe.requests[1].form["amount"] == "3025"
    assert fake_stripe.requests[3].form["amount"] == "6976"
    assert again == first
    assert first.amount == Decimal("30.25")
    assert over.value.code == "amount_too_large"
    assert rest.amount == Decimal("69.75")
    assert len(fake_stripe.refunds) == 2
    with pytest.raises(ProviderRejected) as done:
        await provider.refund(payment.reference, None, "refund-d")
    assert done.value.code == "charge_already_refunded"


async def test_refunding_an_unknown_payment_is_rejected(provider: StripeProvider) -> None:
    with pytest.raises(ProviderRejected) as refused:
        await provider.refund("pi_unknown", Decimal("1.00"), "refund-unknown")

    assert refused.value.code == "resource_missing"


async def test_a_refund_amount_with_three_decimals_is_refused_before_any_request(
    provider: StripeProvider, fake_stripe: FakeStripe
) -> None:
    with pytest.raises(InvalidAmount):
        await provider.refund("pi_any", Decimal("1.005"), "refund-x")

    assert fake_stripe.requests == []


# --- minor units -----------------------------------------------------------------------


def test_minor_units_are_exact_both_ways() -> None:
    assert to_minor_units(Decimal("0.01"), "usd") == 1
    assert to_minor_units(Decimal("19.9"), "usd") == 1990
    assert to_minor_units(Decimal("1.230"), "usd") == 123
    assert to_minor_units(Decimal("9999999999.99"), "usd") == 999_999_999_999
    assert to_minor_units(Decimal("500"), "JPY") == 500
    assert from_minor_units(1990, "usd") == Decimal("19.90")
    assert str(from_minor_units(5, "usd")) == "0.05"
    assert from_minor_units(500, "jpy") == Decimal("500")
    with pytest.raises(InvalidAmount):
        to_minor_units(Decimal("0.5"), "jpy")
    with pytest.raises(InvalidAmount):
        to_minor_units(Decimal("1.000"), "kwd")
    with pytest.raises(InvalidAmount):
        to_minor_units(Decimal("1.00"), "dollars")


# --- webhooks --------------------------------------------------------------------------


def webhook_provider() -> StripeProvider:
    return StripeProvider(API_KEY, WEBHOOK_SECRET)


def intent_object(**fields: Any) -> dict[str, Any]:
    return {
        "id": "pi_000042",
        "object": "payment_intent",
        "amount": 123456,
        "amount_received": 123456,
        "currency": "usd",
        "status": "succeeded",
        **fields,
    }


def test_a_signed_payment_succeeded_webhook_is_accepted_and_read() -> None:
    payload = event_payload("payment_intent.succeeded", intent_object(), event_id="evt_ok")

    event = webhook_provider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))

    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert event.event_id == "evt_ok"
    assert event.type == "payment_intent.succeeded"
    assert event.payment_reference == "pi_000042"
    assert event.amount == Decimal("1234.56")
    assert event.currency == "usd"
    assert event.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert event.failure_reason is None


def test_a_payment_failed_webhook_carries_the_reason() -> None:
    failed = intent_object(
        status="requires_payment_method",
        amount_received=0,
        last_payment_error={"code": "card_declined", "message": "Your card has expired."},
    )
    payload = event_payload("payment_intent.payment_failed", failed)

    event = webhook_provider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))

    assert event.kind is EventKind.PAYMENT_FAILED
    assert event.payment_reference == "pi_000042"
    assert event.amount == Decimal("1234.56")
    assert event.failure_reason == "Your card has expired."


def test_a_refund_webhook_reports_the_running_total_refunded() -> None:
    charge = {
        "id": "ch_000007",
        "object": "charge",
        "amount": 123456,
        "amount_refunded": 3025,
        "currency": "usd",
        "payment_intent": "pi_000042",
        "refunded": False,
    }
    payload = event_payload("charge.refunded", charge)

    event = webhook_provider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))

    assert event.kind is EventKind.PAYMENT_REFUNDED
    assert event.payment_reference == "pi_000042"
    assert event.amount == Decimal("30.25")


def test_a_verified_event_finance_does_not_handle_is_other() -> None:
    payload = event_payload("customer.created", {"id": "cus_1", "object": "customer"})

    event = webhook_provider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))

    assert event.kind is EventKind.OTHER
    assert event.type == "customer.created"
    assert event.payment_reference is None


def test_a_tampered_payload_is_refused() -> None:
    payload = event_payload("payment_intent.succeeded", intent_object())
    header = signature_header(payload, WEBHOOK_SECRET)
    tampered = payload.replace(b"123456", b"999999")
    assert tampered != payload

    with pytest.raises(WebhookRejected):
        webhook_provider().parse_webhook(tampered, header)


def test_a_payload_signed_with_another_secret_is_refused() -> None:
    payload = event_payload("payment_intent.succeeded", intent_object())

    with pytest.raises(WebhookRejected):
        webhook_provider().parse_webhook(payload, signature_header(payload, "whsec_other"))


def test_a_stale_signature_is_refused_as_a_replay() -> None:
    payload = event_payload("payment_intent.succeeded", intent_object())
    an_hour_ago = int(time.time()) - 3600
    header = signature_header(payload, WEBHOOK_SECRET, timestamp=an_hour_ago)

    with pytest.raises(WebhookRejected):
        webhook_provider().parse_webhook(payload, header)
    # The same signature is fine for an endpoint that tolerates two hours: only the age failed.
    lenient = StripeProvider(API_KEY, WEBHOOK_SECRET, webhook_tolerance=7200)
    assert lenient.parse_webhook(payload, header).kind is EventKind.PAYMENT_SUCCEEDED


@pytest.mark.parametrize("header", ["", "garbage", "t=1,v0=abc"], ids=["empty", "garbage", "v0"])
def test_a_missing_or_malformed_signature_header_is_refused(header: str) -> None:
    payload = event_payload("payment_intent.succeeded", intent_object())

    with pytest.raises(WebhookRejected):
        webhook_provider().parse_webhook(payload, header)


def test_a_signed_body_that_is_not_an_event_is_an_error_not_an_event() -> None:
    payload = json.dumps({"hello": "world"}).encode()

    with pytest.raises(ProviderError):
        webhook_provider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))


def test_a_zero_webhook_tolerance_is_refused_because_it_disables_the_replay_check() -> None:
    with pytest.raises(ValueError):
        StripeProvider(API_KEY, WEBHOOK_SECRET, webhook_tolerance=0)


# --- manual entry ----------------------------------------------------------------------


async def test_manual_entry_succeeds_with_a_reference_stable_per_idempotency_key() -> None:
    manual: PaymentProvider = ManualProvider()
    request = charge_request("250.5", payment_method="terminal")

    payment = await manual.charge(request)
    again = await manual.charge(request)
    other = await manual.charge(charge_request("250.5", payment_method="terminal"))

    assert payment.provider == "manual"
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.amount == Decimal("250.50")
    assert payment.currency == "usd"
    assert payment.reference.startswith("manual_pay_")
    assert again.reference == payment.reference
    assert other.reference != payment.reference


async def test_manual_refunds_need_an_exact_amount() -> None:
    manual = ManualProvider()

    refund = await manual.refund("manual_pay_1", Decimal("20.00"), "refund-1")

    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.amount == Decimal("20.00")
    assert refund.payment_reference == "manual_pay_1"
    assert (
        refund.reference
        == (await manual.refund("manual_pay_1", Decimal("20"), "refund-1")).reference
    )
    with pytest.raises(InvalidAmount):
        await manual.refund("manual_pay_1", None, "refund-2")
    with pytest.raises(InvalidAmount):
        await manual.refund("manual_pay_1", Decimal("1.999"), "refund-3")


async def test_manual_entry_refuses_an_amount_with_three_decimals() -> None:
    with pytest.raises(InvalidAmount):
        await ManualProvider().charge(charge_request("10.005"))


def test_manual_entry_has_no_webhooks() -> None:
    payload = event_payload("payment_intent.succeeded", intent_object())

    with pytest.raises(WebhookRejected):
        ManualProvider().parse_webhook(payload, signature_header(payload, WEBHOOK_SECRET))
