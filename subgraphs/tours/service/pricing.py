"""What a party pays for a departure (issue 15 §2), in exact money.

Every amount is rounded half-up to cents where it is made, not at the end,
so the booking stores the same numbers the customer was shown and the sum
of the parts is the total: the child price is rounded once and then
multiplied, the tax is rounded once on the discounted subtotal. The
seed's own example (2 adults + 1 child at 75.00 = 192.50) forgot the
child; by its rules it is 150.00 + 52.50 = 202.50, tax 20.25, total 222.75.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Price:
    adult_price: Decimal
    child_price: Decimal
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def price(
    adult_price: Decimal,
    adults: int,
    children: int,
    *,
    child_rate_percent: Decimal,
    tax_rate_percent: Decimal,
    discount: Decimal = ZERO,
) -> Price:
    """Infants travel free, so they do not appear here (they still take a seat)."""
    adult = cents(adult_price)
    child = cents(adult * child_rate_percent / HUNDRED)
    subtotal = adult * adults + child * children
    if discount < 0:
        raise ServiceError.of(Code.OUT_OF_RANGE, "A discount cannot be negative.", "discount")
    if discount > subtotal:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"The discount ({discount}) cannot exceed the subtotal ({subtotal}).",
            "discount",
        )
    taxable = subtotal - cents(discount)
    tax = cents(taxable * tax_rate_percent / HUNDRED)
    return Price(
        adult_price=adult,
        child_price=child,
        subtotal=cents(subtotal),
        discount=cents(discount),
        tax=tax,
        total=cents(taxable + tax),
    )
