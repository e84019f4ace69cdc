"""Issue 15 §2 prices: adults full, children at the child rate, infants free, tax on the rest."""

from __future__ import annotations

from decimal import Decimal

import pytest

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.service.pricing import price

RATES = {"child_rate_percent": Decimal(70), "tax_rate_percent": Decimal(10)}


def test_two_adults_and_a_child_at_75_cost_222_75_not_the_seeds_192_50() -> None:
    priced = price(Decimal("75.00"), 2, 1, **RATES)

    assert priced.adult_price == Decimal("75.00")
    assert priced.child_price == Decimal("52.50")
    assert priced.subtotal == Decimal("202.50")
    assert priced.tax == Decimal("20.25")
    assert priced.total == Decimal("222.75")


def test_the_child_price_and_the_tax_round_half_up_to_cents() -> None:
    # 70 % of 10.05 = 7.035 -> 7.04; tax 10 % of (10.05 + 7.04) = 1.709 -> 1.71
    priced = price(Decimal("10.05"), 1, 1, **RATES)

    assert priced.child_price == Decimal("7.04")
    assert priced.subtotal == Decimal("17.09")
    assert priced.tax == Decimal("1.71")
    assert priced.total == Decimal("18.80")


def test_a_discount_comes_off_before_tax() -> None:
    priced = price(Decimal("75.00"), 2, 0, discount=Decimal("50.00"), **RATES)

    assert (priced.subtotal, priced.discount, priced.tax, priced.total) == (
        Decimal("150.00"),
        Decimal("50.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    )


@pytest.mark.parametrize("discount", [Decimal("150.01"), Decimal("-1.00")])
def test_a_discount_above_the_subtotal_or_below_zero_is_refused(discount: Decimal) -> None:
    with pytest.raises(ServiceError) as refused:
        price(Decimal("75.00"), 2, 0, discount=discount, **RATES)

    assert [(p.code, p.field) for p in refused.value.problems] == [("OUT_OF_RANGE", "discount")]
