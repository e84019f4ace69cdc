"""The payment-provider port over Stripe, through the official `stripe` library.

Charges are off-session PaymentIntents created and confirmed in one call
(`confirm=true`): one request under one idempotency key, so a retry after a
lost answer can neither charge twice nor leave an unconfirmed intent behind.
The library's own retries (`max_network_retries`) resend with that same key.

Calls go through the library's async API on an httpx client made per call:
payments are human-paced, and a client bound to one event loop must not
outlive it. `api_base` points the library elsewhere (a local server in
tests, a proxy in some deployments).

Webhooks are checked with Stripe's own `WebhookSignature.verify_header`
(HMAC-SHA256 over `"{t}.{body}"` with the endpoint's secret, and a
timestamp tolerance against replays) before a byte of them is trusted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from subgraphs.finance.service.payment_provider import (
    ChargeRequest,
    EventKind,
    PaymentMethodKind,
    PaymentStatus,
    ProviderDeclined,
    ProviderError,
    ProviderEvent,
    ProviderMethod,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundStatus,
    WebhookRejected,
    from_minor_units,
    normalise_currency,
    to_minor_units,
)

DEFAULT_TIMEOUT_SECONDS = 30.0
#: The library's default: two resends (same idempotency key) with its own backoff.
DEFAULT_NETWORK_RETRIES = 2
#: Stripe's recommended tolerance: a signed webhook older than this is a replay.
DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300

_METHOD_TYPES = {PaymentMethodKind.CARD: "card", PaymentMethodKind.ACH: "us_bank_account"}
_PAYMENT_STATUSES = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "processing": PaymentStatus.PROCESSING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
}
_REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    # A refund waiting on the customer (some bank methods) has not moved money yet.
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
_EVENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "charge.refunded": EventKind.PAYMENT_REFUNDED,
    # A refund's status moved; Stripe sends the Refund object (older and newer names).
    "charge.refund.updated": EventKind.REFUND_UPDATED,
    "refund.updated": EventKind.REFUND_UPDATED,
    "refund.failed": EventKind.REFUND_UPDATED,
}


class StripeProvider:
    """Card and ACH payments with saved Stripe payment methods."""

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        webhook_tolerance: int = DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
    ) -> None:
        if not api_key:
            raise ValueError("a Stripe API key is required")
        if webhook_tolerance <= 0:
            # The library skips the timestamp check at 0: replays would pass.
            raise ValueError("the webhook tolerance must be positive")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.api_base = (api_base or stripe.DEFAULT_API_BASE).rstrip("/")
        self.max_network_retries = max_network_retries
        self.timeout = timeout
        self.webhook_tolerance = webhook_tolerance

    async def charge(self, request: ChargeRequest) -> ProviderPayment:
        currency = normalise_currency(request.currency)
        params: PaymentIntentCreateParams = {
            "amount": to_minor_units(request.amount, currency),
            "currency": currency,
            "payment_method": request.payment_method,
            "allowed_payment_method_types": [_METHOD_TYPES[request.method]],
            "confirm": True,
            # Staff charge a saved method with the payer absent: Stripe then declines
            # (authentication_required) rather than wait for a 3-D Secure challenge.
            "off_session": True,
            "metadata": dict(request.metadata),
        }
        if request.customer:
            params["customer"] = request.customer
        if request.description:
            params["description"] = request.description
        async with self._call() as client:
            intent = await client.v1.payment_intents.create_async(
                params, {"idempotency_key": _key(request.idempotency_key)}
            )
        return _payment(intent.to_dict())

    async def refund(
        self,
        payment_ref: str,
        amount: Decimal | None,
        idempotency_key: str,
        *,
        currency: str = "usd",
    ) -> ProviderRefund:
        params: RefundCreateParams = {"payment_intent": payment_ref}
        if amount is not None:
            params["amount"] = to_minor_units(amount, normalise_currency(currency))
        async with self._call() as client:
            refund = await client.v1.refunds.create_async(
                params, {"idempotency_key": _key(idempotency_key)}
            )
        return _refund(refund.to_dict(), payment_ref)

    async def describe_method(self, token: str) -> ProviderMethod:
        if not token or not token.startswith("pm_"):
            raise ProviderRejected("not a Stripe payment method", code="resource_missing")
        async with self._call() as client:
            found = await client.v1.payment_methods.retrieve_async(token)
        return _method(found.to_dict())

    def parse_webhook(self, payload: bytes, signature_header: str) -> ProviderEvent:
        try:
            body = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                body, signature_header, self.webhook_secret, self.webhook_tolerance
            )
        except UnicodeDecodeError as exc:
            raise WebhookRejected("the webhook body is not UTF-8") from exc
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"webhook signature refused: {exc.user_message}") from exc
        try:
            return _event(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            # Signed by Stripe, so not forged: a shape we do not understand.
            raise ProviderError(f"a verified Stripe webhook could not be read: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _call(self) -> AsyncIterator[stripe.StripeClient]:
        http_client = stripe.HTTPXClient(timeout=self.timeout)
        client = stripe.StripeClient(
            self.api_key,
            base_addresses={"api": self.api_base},
            http_client=http_client,
            max_network_retries=self.max_network_retries,
        )
        try:
            yield client
        except stripe.StripeError as exc:
            raise _translated(exc) from exc
        finally:
            # The library leaves close_async unannotated.
            await http_client.close_async()  # type: ignore[no-untyped-call]


def _key(idempotency_key: str) -> str:
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    return idempotency_key


def _translated(exc: stripe.StripeError) -> ProviderError:
    """The port's error for a library error: who can act on it decides its kind."""
    error = _error_body(exc)
    message = str(error.get("message") or exc.user_message or "Stripe refused the request")
    code = error.get("code") or getattr(exc, "code", None)
    if isinstance(exc, stripe.CardError):
        intent = error.get("payment_intent")
        return ProviderDeclined(
            message,
            code=code,
            decline_code=error.get("decline_code"),
            payment_reference=intent.get("id") if isinstance(intent, Mapping) else None,
        )
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        # APIError covers 5xx and 409 (a request with this key still in flight).
        return ProviderUnavailable(message, code=code)
    if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError):
        return ProviderRejected(message, code=code)
    return ProviderError(message, code=code)


def _error_body(exc: stripe.StripeError) -> Mapping[str, Any]:
    body = exc.json_body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error: Mapping[str, Any] = body["error"]
        return error
    return {}


def _payment(intent: Mapping[str, Any]) -> ProviderPayment:
    reference = str(intent["id"])
    raw_status = intent.get("status")
    status = _PAYMENT_STATUSES.get(str(raw_status))
    if status is None:
        if raw_status in ("requires_payment_method", "canceled"):
            last_error = intent.get("last_payment_error") or {}
            raise ProviderDeclined(
                str(last_error.get("message") or "the payment was not completed"),
                code=last_error.get("code"),
                decline_code=last_error.get("decline_code"),
                payment_reference=reference,
            )
        raise ProviderError(f"Stripe left payment {reference} in status {raw_status!r}")
    currency = str(intent["currency"])
    return ProviderPayment(
        provider=StripeProvider.name,
        reference=reference,
        status=status,
        amount=from_minor_units(intent["amount"], currency),
        currency=currency,
    )


def _refund(refund: Mapping[str, Any], payment_ref: str) -> ProviderRefund:
    reference = str(refund["id"])
    status = _REFUND_STATUSES.get(str(refund.get("status")))
    if status is None:
        raise ProviderError(f"Stripe left refund {reference} in status {refund.get('status')!r}")
    currency = str(refund["currency"])
    return ProviderRefund(
        provider=StripeProvider.name,
        reference=reference,
        payment_reference=str(refund.get("payment_intent") or payment_ref),
        status=status,
        amount=from_minor_units(refund["amount"], currency),
        currency=currency,
    )


def _event(event: Mapping[str, Any]) -> ProviderEvent:
    event_type = str(event["type"])
    kind = _EVENT_KINDS.get(event_type, EventKind.OTHER)
    base = ProviderEvent(
        provider=StripeProvider.name,
        event_id=str(event["id"]),
        kind=kind,
        type=event_type,
        occurred_at=datetime.fromtimestamp(int(event["created"]), UTC),
    )
    if kind is EventKind.OTHER:
        return base
    obj: Mapping[str, Any] = event["data"]["object"]
    currency = str(obj["currency"])
    if kind is EventKind.REFUND_UPDATED:
        status = _REFUND_STATUSES.get(str(obj.get("status")))
        if status is None:
            raise ValueError(f"refund status {obj.get('status')!r}")
        return replace(
            base,
            payment_reference=str(obj["payment_intent"]) if obj.get("payment_intent") else None,
            amount=from_minor_units(obj["amount"], currency),
            currency=currency,
            refund_reference=str(obj["id"]),
            refund_status=status,
            failure_reason=obj.get("failure_reason"),
        )
    if kind is EventKind.PAYMENT_REFUNDED:
        # A Charge: its PaymentIntent is the reference `charge` returned.
        return replace(
            base,
            payment_reference=str(obj["payment_intent"]),
            amount=from_minor_units(obj["amount_refunded"], currency),
            currency=currency,
        )
    if kind is EventKind.PAYMENT_SUCCEEDED:
        received = obj.get("amount_received")
        return replace(
            base,
            payment_reference=str(obj["id"]),
            amount=from_minor_units(received if received is not None else obj["amount"], currency),
            currency=currency,
        )
    failure = obj.get("last_payment_error") or {}
    return replace(
        base,
        payment_reference=str(obj["id"]),
        amount=from_minor_units(obj["amount"], currency),
        currency=currency,
        failure_reason=failure.get("message"),
    )


def _method(found: Mapping[str, Any]) -> ProviderMethod:
    """A PaymentMethod object: a card's brand, last four and expiry, or a bank account's."""
    reference = str(found["id"])
    if found.get("type") == "card":
        card: Mapping[str, Any] = found["card"]
        return ProviderMethod(
            provider=StripeProvider.name,
            reference=reference,
            kind=PaymentMethodKind.CARD,
            last4=str(card["last4"]),
            brand=str(card.get("brand") or "") or None,
            exp_month=int(card["exp_month"]) if card.get("exp_month") else None,
            exp_year=int(card["exp_year"]) if card.get("exp_year") else None,
        )
    if found.get("type") == "us_bank_account":
        bank: Mapping[str, Any] = found["us_bank_account"]
        return ProviderMethod(
            provider=StripeProvider.name,
            reference=reference,
            kind=PaymentMethodKind.ACH,
            last4=str(bank["last4"]),
            brand=str(bank.get("bank_name") or "") or None,
        )
    raise ProviderRejected(f"payment method type {found.get('type')!r} is not taken")
