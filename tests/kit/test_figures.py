"""Ratios in report figures: one rounding for every subgraph's share."""

from __future__ import annotations

from decimal import Decimal

from subgraphs.kit.figures import ratio


def test_a_ratio_has_four_places_rounded_half_up() -> None:
    assert ratio(1, 3) == Decimal("0.3333")
    assert ratio(2, 3) == Decimal("0.6667")
    assert ratio(Decimal("0.00005"), 1) == Decimal("0.0001")
    assert ratio(1, 20_000) == Decimal("0.0001")  # half up, not to even
    assert ratio(Decimal("12.50"), Decimal("50.00")) == Decimal("0.2500")


def test_nothing_to_divide_by_is_no_ratio_not_zero() -> None:
    assert ratio(0, 0) is None
    assert ratio(5, Decimal("0.00")) is None
    assert ratio(0, 4) == Decimal("0.0000")
