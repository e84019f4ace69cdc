"""The payment-provider port: how finance takes card and ACH money, whoever moves it.

Services record payments; a provider moves (or, for manual entry, merely
acknowledges) the money. The port speaks plain values so the services never
see a provider's objects: Decimal amounts in a currency, small status enums,
and three failure kinds the caller treats differently (a declined card is
the payer's problem and becomes a user error; an unavailable provider is
retried with the same idempotency key; anything else is ours to fix).

Two adapters: `ManualProvider` here (staff keyed the payment into a
terminal or took it by phone: nothing to call) and `StripeProvider` in
`stripe_provider.py`.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

#: Currencies Stripe counts in whole units (no minor unit): 100 JPY is `100`, not `10000`.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
#: Three-decimal currencies Stripe takes with rules of its own (last digit 0): refused
#: rather than half-supported, since Athena stores money as NUMERIC(12,2).
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


class InvalidAmount(ValueError):
    """An amount no provider should see: not a Decimal, not positive, or finer than the currency."""


class ProviderError(Exception):
    """The provider refused or failed in a way that is neither the payer's nor the network's.

    A wrong API key, a missing permission, an answer we cannot read: staff
    cannot fix these by retrying or by asking for another card.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ProviderDeclined(ProviderError):
    """The payer's bank or card network said no (Stripe's `card_error`): a user error, not a bug.

    `payment_reference` names the provider's failed payment when one was
    created, so a later webhook about it can be matched and ignored.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        payment_reference: str | None = None,
    ) -> None:
        super().__init__(reason, code=code)
        self.reason = reason
        self.decline_code = decline_code
        self.payment_reference = payment_reference


class ProviderRejected(ProviderError):
    """The provider refused the request itself: retrying the same request cannot succeed.

    A refund over what was paid, a key reused with other parameters, an
    unknown payment reference.
    """


class ProviderUnavailable(ProviderError):
    """Transport failure, timeout, rate limit or a 5xx: retry later with the same idempotency key.

    Whether the money moved is unknown until the retry (or a webhook) says;
    the idempotency key makes the retry safe.
    """


class WebhookRejected(ProviderError):
    """A webhook that is not provably the provider's, or is too old to trust (a replay)."""


class PaymentMethodKind(enum.StrEnum):
    CARD = "card"
    ACH = "ach"


class PaymentStatus(enum.StrEnum):
    #: The money is taken.
    SUCCEEDED = "succeeded"
    #: Accepted but not settled (ACH takes days): a webhook reports the outcome.
    PROCESSING = "processing"
    #: The payer must authenticate (3-D Secure) before anything is taken.
    REQUIRES_ACTION = "requires_action"


class RefundStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    #: Accepted; some methods settle refunds later, and a webhook reports the outcome.
    PENDING = "pending"
    FAILED = "failed"
    CANCELED = "canceled"


class EventKind(enum.StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_REFUNDED = "payment_refunded"
    #: A refund's own status moved (settled or failed): `refund_reference`, `refund_status`.
    REFUND_UPDATED = "refund_updated"
    #: Verified, but about something finance does not act on: acknowledge and drop.
    OTHER = "other"


@dataclass(frozen=True)
class ChargeRequest:
    """Take `amount` from a saved payment method, once per `idempotency_key`.

    `payment_method` and `customer` are the provider's references (a Stripe
    `pm_...` / `cus_...` saved earlier), never card numbers. `metadata` goes
    to the provider so its dashboard can be reconciled with ours.
    """

    amount: Decimal
    currency: str
    payment_method: str
    idempotency_key: str
    method: PaymentMethodKind = PaymentMethodKind.CARD
    customer: str | None = None
    description: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPayment:
    provider: str
    reference: str
    status: PaymentStatus
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ProviderRefund:
    provider: str
    reference: str
    payment_reference: str
    status: RefundStatus
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ProviderEvent:
    """One verified webhook, reduced to what finance acts on.

    `event_id` is the provider's, for deduplication: providers deliver at
    least once. `amount` is the payment's amount for PAYMENT_SUCCEEDED and
    PAYMENT_FAILED, and the payment's total refunded so far for
    PAYMENT_REFUNDED (a running total, so a replayed or reordered event sets
    the same figure instead of adding twice).
    """

    provider: str
    event_id: str
    kind: EventKind
    type: str
    occurred_at: datetime
    payment_reference: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    failure_reason: str | None = None
    refund_reference: str | None = None
    refund_status: RefundStatus | None = None


@dataclass(frozen=True)
class ProviderMethod:
    """A saved card or bank account as the provider describes it: never its number."""

    provider: str
    reference: str
    kind: PaymentMethodKind
    last4: str
    brand: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


class PaymentProvider(Protocol):
    name: str

    async def charge(self, request: ChargeRequest) -> ProviderPayment:
        """Create and confirm a payment; raises ProviderDeclined / ProviderUnavailable / ..."""
        ...

    async def refund(
        self,
        payment_ref: str,
        amount: Decimal | None,
        idempotency_key: str,
        *,
        currency: str = "usd",
    ) -> ProviderRefund:
        """Refund `amount` of a payment (None: all that remains), once per `idempotency_key`.

        `currency` is the payment's, needed to express a partial amount in
        the provider's units.
        """
        ...

    def parse_webhook(self, payload: bytes, signature_header: str) -> ProviderEvent:
        """Verify and read a webhook body exactly as received; raises WebhookRejected."""
        ...

    async def describe_method(self, token: str) -> ProviderMethod:
        """What a saved method is (kind, brand, last four, expiry); ProviderRejected if unknown."""
        ...


def normalise_currency(currency: str) -> str:
    code = currency.strip().lower()
    if len(code) != 3 or not code.isalpha():
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code")
    if code in THREE_DECIMAL_CURRENCIES:
        raise InvalidAmount(f"{code.upper()} (three decimals) is not supported")
    return code


def _exponent(currency: str) -> int:
    return 0 if normalise_currency(currency) in ZERO_DECIMAL_CURRENCIES else 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's smallest unit, exactly; a positive amount only.

    Refuses what cannot be expressed exactly (12.345 USD, 100.5 JPY) rather
    than round money the payer did not agree to.
    """
    if not isinstance(amount, Decimal):
        raise InvalidAmount(f"amounts are Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("the amount must be greater than zero")
    exponent = _exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        places = "no decimals" if exponent == 0 else f"at most {exponent} decimals"
        raise InvalidAmount(f"a {currency.upper()} amount has {places}")
    return int(scaled)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """The provider's integer amount as a Decimal with the currency's places (1999 -> 19.99)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ProviderError(f"the provider sent a non-integer amount {minor!r}")
    exponent = _exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


#: Manual references are derived from the idempotency key: the same entry sent twice
#: gets the same reference without the adapter keeping any state.
_MANUAL_NAMESPACE = uuid.UUID("8a0f3d56-5f4c-4f0e-9a57-3c1f4a1f0b21")


class ManualProvider:
    """Payments staff took outside Athena (a card terminal, a phone call): acknowledged, not sent.

    The amount is checked like any provider's, so a manual entry cannot
    record what Stripe would refuse. A refund needs its amount: nothing here
    knows what the payment was.
    """

    name = "manual"

    async def charge(self, request: ChargeRequest) -> ProviderPayment:
        currency = normalise_currency(request.currency)
        amount = from_minor_units(to_minor_units(request.amount, currency), currency)
        return ProviderPayment(
            provider=self.name,
            reference=_manual_reference("pay", request.idempotency_key),
            status=PaymentStatus.SUCCEEDED,
            amount=amount,
            currency=currency,
        )

    async def refund(
        self,
        payment_ref: str,
        amount: Decimal | None,
        idempotency_key: str,
        *,
        currency: str = "usd",
    ) -> ProviderRefund:
        if amount is None:
            raise InvalidAmount("a manual refund needs its amount")
        code = normalise_currency(currency)
        refunded = from_minor_units(to_minor_units(amount, code), code)
        return ProviderRefund(
            provider=self.name,
            reference=_manual_reference("ref", idempotency_key),
            payment_reference=payment_ref,
            status=RefundStatus.SUCCEEDED,
            amount=refunded,
            currency=code,
        )

    def parse_webhook(self, payload: bytes, signature_header: str) -> ProviderEvent:
        raise WebhookRejected("manual entry sends no webhooks")

    async def describe_method(self, token: str) -> ProviderMethod:
        # Nothing stores a card for manual entry, so nothing can say what a token is.
        raise ProviderRejected("manual entry keeps no saved payment methods", code="manual")


def _manual_reference(prefix: str, idempotency_key: str) -> str:
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    return f"manual_{prefix}_{uuid.uuid5(_MANUAL_NAMESPACE, idempotency_key).hex}"
